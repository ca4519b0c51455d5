/**
 * One variant's server, run in its own child process by the bench (`fork`, IPC channel). It listens
 * on a free 127.0.0.1 port and answers the bench's IPC commands:
 *
 * - `start`: reset the counters and take `process.cpuUsage()`;
 * - `stop`: report CPU microseconds, requests and Set-Cookie bytes since `start`;
 * - `heap`: run the GC (needs `--expose-gc`) and report `heapUsed`;
 * - `exit`: close and exit.
 *
 * Usage (by the bench only): node --import tsx bench/server.ts <variant-id>
 */
import type { AddressInfo } from 'node:net';

import type { BenchCommand, ServerMessage } from './protocol.js';
import { buildApp, type Counters, Unavailable, VARIANT_IDS, type VariantId } from './variants.js';

const id = process.argv[2] as VariantId;
const send = (message: ServerMessage): void => {
  process.send!(message);
};

if (!VARIANT_IDS.includes(id) || process.send === undefined) {
  console.error(`bench/server.ts: unknown variant ${String(id)} (or not started by the bench)`);
  process.exit(2);
}

const counters: Counters = { requests: 0, firstAt: 0, lastAt: 0, setCookieBytes: 0, errors: 0 };

async function main(): Promise<void> {
  let app;
  try {
    app = await buildApp(id, counters, { redisUrl: process.env['BENCH_REDIS_URL'] });
  } catch (error) {
    if (error instanceof Unavailable) {
      send({ type: 'unavailable', reason: error.message });
      process.exit(0);
    }
    throw error;
  }
  const server = app.listen(0, '127.0.0.1', () => {
    send({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
  server.keepAliveTimeout = 30_000;

  let cpu = process.cpuUsage();
  let t0 = process.hrtime.bigint();
  process.on('message', (command: BenchCommand) => {
    switch (command.type) {
      case 'start':
        counters.requests = 0;
        counters.setCookieBytes = 0;
        counters.errors = 0;
        t0 = process.hrtime.bigint();
        cpu = process.cpuUsage();
        send({ type: 'started' });
        break;
      case 'stop': {
        const used = process.cpuUsage(cpu);
        const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const { requests, setCookieBytes, errors, firstAt, lastAt } = counters;
        send({
          type: 'stopped',
          cpuUs: used.user + used.system,
          elapsedMs,
          busyMs: lastAt - firstAt,
          requests,
          setCookieBytes,
          errors,
        });
        break;
      }
      case 'heap': {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (gc === undefined) throw new Error('bench/server.ts: heap needs --expose-gc');
        gc();
        gc();
        send({ type: 'heap', heapUsed: process.memoryUsage().heapUsed });
        break;
      }
      case 'exit':
        server.closeAllConnections();
        server.close(() => process.exit(0));
        break;
    }
  });
  // The bench went away without saying exit: do not linger.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(`[${id}]`, error);
  process.exit(1);
});
