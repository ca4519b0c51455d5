import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';

import type Koa from 'koa';

import type { Outbox } from '../src/index.js';

/**
 * The demo's "user": a pseudo-user id kept in the session, made when the visitor first asks for a
 * report (a real app has its login: `(ctx) => ctx.state.user?.id`). Every tab of one browser shares it.
 */
export const demoUser = (ctx: Koa.Context): string | undefined =>
  (ctx.session as { demoUser?: string } | null)?.demoUser;

export function ensureDemoUser(ctx: Koa.Context): string {
  const session = ctx.session as { demoUser?: string };
  return (session.demoUser ??= randomUUID());
}

// The job, in a worker thread: it "prepares the report" for `delay` ms, then posts its result to
// the main thread, which sends it through the app's outbox (a memory outbox lives in the main
// thread; with redisOutbox() the worker could send itself).
const JOB = `
const { parentPort, workerData } = require('node:worker_threads');
setTimeout(() => parentPort.postMessage('Your report is ready.'), workerData.delay);
`;

/** Start a report for `user`; its message goes to the user through `outbox` when it is done. */
export function startReport(outbox: Outbox, user: string, delay: number): void {
  const worker = new Worker(JOB, { eval: true, workerData: { delay } });
  worker.once('message', (text: string) => {
    outbox.success(user, text).catch((error: unknown) => console.error('report:', error));
  });
  worker.once('error', (error) => console.error('report worker:', error));
}
