/**
 * `npm start`: the polls demo on http://127.0.0.1:3000 (`HOST` and `PORT` change it).
 */
import type { AddressInfo } from 'node:net';

import { createApp } from './app.js';

const port = Number(process.env['PORT'] ?? 3000);
const host = process.env['HOST'] ?? '127.0.0.1';

const server = createApp().listen(port, host, () => {
  // The address it really listens on (README says 127.0.0.1), with the port the OS gave for PORT=0.
  const { address, family, port: bound } = server.address() as AddressInfo;
  const shown = family === 'IPv6' ? `[${address}]` : address;
  console.log(`Polls demo: http://${shown}:${bound}/ (Ctrl-C to stop)`);
});

// Stop cleanly on Ctrl-C and on `kill`, so the port is free at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
