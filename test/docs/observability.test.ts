import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import type { Context } from 'koa';
import pino, { type Logger } from 'pino';

import type { MessageStorage } from '../../src/index.js';
import { agentOf, caseApp } from '../hardening/helpers.js';
import { extractCodeBlocks } from '../helpers/markdown.js';

// docs/observability.md's examples run as written: the OpenTelemetry metrics against the SDK's
// in-memory exporter, the pino log line against what the page shows.

const DOC = 'docs/observability.md';

async function docBlocks() {
  const text = await readFile(new URL(`../../${DOC}`, import.meta.url), 'utf8');
  return extractCodeBlocks(DOC, text);
}

/** Write the doc's ts block that defines `name` inside the repository (`koa-messages` resolves to dist/) and import it. */
async function importBlock<T>(name: string): Promise<T> {
  const block = (await docBlocks()).find(
    (b) => b.lang === 'ts' && b.code.includes(`export function ${name}(`),
  );
  expect(block, `${DOC} has a ts block that exports ${name}()`).to.not.equal(undefined);
  const dir = new URL('../../build-output/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = fileURLToPath(new URL(`observability-${name}.ts`, dir));
  await writeFile(file, block!.code);
  return (await import(pathToFileURL(file).href)) as T;
}

const routes = {
  '/add': (ctx: Context) => {
    ctx.messages.success('Saved.');
    ctx.body = 'ok';
  },
  '/ajax': (ctx: Context) => void ctx.ajax({}),
  '/many': (ctx: Context) => {
    ctx.messages.info('Oldest.');
    ctx.messages.info('Newest.');
    ctx.body = 'ok';
  },
};

describe(`${DOC}: OpenTelemetry metrics`, () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('counts shown, kept and dropped messages by transport and reason, and times the storage', async function () {
    this.timeout(20_000);
    const { messageMetrics } = await importBlock<{ messageMetrics: (meter: Meter) => () => void }>(
      'messageMetrics',
    );
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    stop = messageMetrics(provider.getMeter('koa-messages'));

    const { app } = caseApp({ kind: 'cookie', routes, options: { maxMessages: 1 } });
    const agent = agentOf(app);
    await agent.get('/add').expect(200);
    await agent.head('/ajax').expect(200); // read, kept: HEAD
    await agent.get('/ajax').expect(200); // shown
    await agent.get('/many').expect(200); // one dropped: max-messages
    const failing: MessageStorage = {
      open: () => ({ load: () => [], save: () => Promise.reject(new Error('down')) }),
    };
    const broken = caseApp({ kind: 'memory', routes, options: { storage: failing } });
    await agentOf(broken.app).get('/add').expect(500); // dropped: storage-error

    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const points = (name: string) =>
      metrics.find((m) => m.descriptor.name === name)?.dataPoints as DataPoint<unknown>[];
    const sums = (name: string) =>
      points(name).map((p) => ({ attributes: p.attributes, value: p.value }));
    expect(sums('koa_messages.shown')).to.deep.equal([
      { attributes: { transport: 'ajax' }, value: 1 },
    ]);
    expect(sums('koa_messages.kept')).to.deep.equal([
      { attributes: { transport: 'ajax', reason: 'head' }, value: 1 },
    ]);
    expect(sums('koa_messages.dropped')).to.deep.equal([
      { attributes: { reason: 'max-messages' }, value: 1 },
      { attributes: { reason: 'storage-error' }, value: 1 },
    ]);
    const latency = (points('koa_messages.storage.duration') as DataPoint<Histogram>[]).map(
      (p) => ({ attributes: p.attributes, count: p.value.count }),
    );
    // Four requests on the cookie storage: each loads once and saves once.
    expect(latency).to.deep.equal([
      { attributes: { storage: 'cookie', operation: 'load', outcome: 'ok' }, count: 4 },
      { attributes: { storage: 'cookie', operation: 'save', outcome: 'ok' }, count: 4 },
      { attributes: { storage: 'custom', operation: 'load', outcome: 'ok' }, count: 1 },
      { attributes: { storage: 'custom', operation: 'save', outcome: 'error' }, count: 1 },
    ]);
    await provider.shutdown();
  });
});

describe(`${DOC}: a pino line per drop`, () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('writes the line the page shows, without the text', async () => {
    const { logDrops } = await importBlock<{ logDrops: (logger: Logger) => () => void }>(
      'logDrops',
    );
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    // The page leaves out what pino adds to every line: time, pid, hostname.
    stop = logDrops(pino({ base: null, timestamp: false }, sink));
    const { app } = caseApp({ kind: 'session-cookie', routes, options: { maxMessages: 1 } });
    await agentOf(app).get('/many').expect(200);
    const shown = (await docBlocks()).find((b) => b.lang === 'json' && b.code.includes('dropped'));
    expect(lines.map((l) => JSON.parse(l) as unknown)).to.deep.equal([JSON.parse(shown!.code)]);
    expect(lines.join('')).to.not.include('Oldest.');
  });
});

describe('docs/testing.md: recordMessages()', () => {
  async function blocks(): Promise<string[]> {
    const text = await readFile(new URL('../../docs/testing.md', import.meta.url), 'utf8');
    const start = text.indexOf('## `recordMessages(run)`');
    return extractCodeBlocks('docs/testing.md', text.slice(start))
      .filter((b) => b.lang === 'ts')
      .map((b) => b.code);
  }

  /** Run a block as its own test file, inside the repository (`koa-messages` is dist/). */
  async function run(code: string, name: string, args: (file: string) => string[]) {
    const dir = new URL('../../build-output/', import.meta.url);
    await mkdir(dir, { recursive: true });
    const file = fileURLToPath(new URL(name, dir));
    await writeFile(file, code);
    return spawnSync(process.execPath, args(file), { encoding: 'utf8' });
  }

  it('has a mocha + supertest example that passes as written', async function () {
    this.timeout(60_000);
    const [mocha] = await blocks();
    expect(mocha).to.include("from 'mocha'");
    const result = await run(mocha!, 'record-messages-example.test.ts', (file) => [
      fileURLToPath(new URL('../../node_modules/mocha/bin/mocha.js', import.meta.url)),
      '--no-config',
      '--node-option',
      'import=tsx',
      '--reporter',
      'dot',
      file,
    ]);
    expect(
      { status: result.status, passing: result.stdout.includes('2 passing') },
      result.stdout + result.stderr,
    ).to.deep.equal({ status: 0, passing: true });
  });

  it('has a node:test example that passes as written', async function () {
    this.timeout(60_000);
    const [, nodeTest] = await blocks();
    expect(nodeTest).to.include("from 'node:test'");
    const result = await run(nodeTest!, 'record-messages-node-test.ts', (file) => [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      file,
    ]);
    expect(
      { status: result.status, pass: /^# pass 1$/m.test(result.stdout) },
      result.stdout + result.stderr,
    ).to.deep.equal({ status: 0, pass: true });
  });
});
