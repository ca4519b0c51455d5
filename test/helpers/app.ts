import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import Koa from 'koa';
import session, { type CreateSessionOptions } from 'koa-session';
import request from 'supertest';

import { messages, type MessagesOptions } from '../../src/index.js';

/** Example key for tests only; never a real secret. */
export const TEST_KEYS = ['test-key-example-only'];

export interface AppSetup {
  options?: MessagesOptions;
  /** Install koa-session before messages() (default true). */
  session?: boolean | CreateSessionOptions;
  /** Routes: path → handler. GET and POST both map to the handler. */
  routes: Record<string, (ctx: Context) => unknown>;
  /** Middleware to run between koa-session and messages(). */
  before?: Middleware[];
}

/** One Koa app, as a user would write it: koa-session, messages(), @koa/router. */
export function buildApp({
  options,
  session: withSession = true,
  routes,
  before = [],
}: AppSetup): Koa {
  const app = new Koa();
  app.keys = TEST_KEYS;
  app.silent = true;
  if (withSession) app.use(session(withSession === true ? {} : withSession, app));
  for (const mw of before) app.use(mw);
  app.use(messages(options));
  const router = new Router();
  for (const [path, handler] of Object.entries(routes)) {
    router.all(path, async (ctx) => {
      await handler(ctx);
    });
  }
  app.use(router.routes());
  return app;
}

/** A cookie-carrying client, like a browser. */
export function agent(app: Koa) {
  return request.agent(app.callback());
}

/** A route body listing what iterating `ctx.messages` yields, as `level:tags:message|…`. */
export function readAll(ctx: Context): string {
  return [...ctx.messages].map((m) => `${m.level}:${m.tags}:${m.message}`).join('|');
}
