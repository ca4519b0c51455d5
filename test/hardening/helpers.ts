import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import Koa from 'koa';
import session from 'koa-session';
import request from 'supertest';

import { type DropEvent, messages, type MessagesOptions } from '../../src/index.js';
import { TEST_KEYS } from '../helpers/app.js';

/**
 * A koa-session external store kept in a Map, holding each session as JSON text the way Redis or a
 * database would (so what comes back is a fresh parse, never the object that was saved).
 * This is a real koa-session store (`{ get, set, destroy }`), just in-process.
 */
export class MapStore {
  readonly data = new Map<string, string>();
  sets = 0;
  destroys = 0;

  get(key: string): Promise<Record<string, unknown> | undefined> {
    const json = this.data.get(key);
    return Promise.resolve(
      json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>),
    );
  }

  /** Sessions written with a `messages` key (for fallback: how often it overflowed). */
  setsWithMessages = 0;

  set(key: string, value: unknown): Promise<void> {
    this.sets += 1;
    if (typeof value === 'object' && value !== null && 'messages' in value)
      this.setsWithMessages += 1;
    this.data.set(key, JSON.stringify(value));
    return Promise.resolve();
  }

  destroy(key: string): Promise<void> {
    this.destroys += 1;
    this.data.delete(key);
    return Promise.resolve();
  }

  /** The one stored session (tests use one visitor per store). */
  only(): { key: string; value: Record<string, unknown> } {
    if (this.data.size !== 1)
      throw new Error(`expected one session in the store, found ${this.data.size}`);
    const [key, json] = [...this.data][0]!;
    return { key, value: JSON.parse(json) as Record<string, unknown> };
  }
}

/**
 * How messages are stored in a storage case: the session storage on koa-session's cookie or on an
 * external store, the memory storage, the signed cookie storage (no koa-session at all), and the
 * fallback storage (cookie first, overflow into koa-session on an external store), and the Redis
 * storage (its `storage` object comes in `options`, see redis.ts).
 */
export type StorageKind =
  'session-cookie' | 'session-external' | 'memory' | 'cookie' | 'fallback' | 'redis';

/** Whether a case runs koa-session, and on which store. */
export const SESSION: Record<StorageKind, 'cookie' | 'external' | 'none'> = {
  'session-cookie': 'cookie',
  'session-external': 'external',
  memory: 'none',
  cookie: 'none',
  fallback: 'external',
  redis: 'none',
};

const STORAGE: Record<StorageKind, MessagesOptions['storage']> = {
  'session-cookie': 'session',
  'session-external': 'session',
  memory: 'memory',
  cookie: 'cookie',
  fallback: 'fallback',
  redis: undefined,
};

export interface CaseApp {
  app: Koa;
  /** The koa-session external store, for `session-external`. */
  store: MapStore | undefined;
  /** Every onDrop event, in order. */
  drops: DropEvent[];
}

export interface CaseSetup {
  kind: StorageKind;
  options?: MessagesOptions;
  routes: Record<string, (ctx: Context) => unknown>;
  /** Middleware installed before koa-session (outermost), e.g. an error handler. */
  outer?: Middleware[];
  /** Run koa-session on its cookie instead of the case's external store (for `fallback`). */
  sessionStore?: 'cookie';
}

/**
 * An app for one storage case: koa-session (cookie mode or a MapStore), messages() with the
 * case's storage and an onDrop hook that records events, and the routes on @koa/router.
 */
export function caseApp({
  kind,
  options = {},
  routes,
  outer = [],
  sessionStore,
}: CaseSetup): CaseApp {
  const app = new Koa();
  app.keys = TEST_KEYS;
  app.silent = true;
  for (const mw of outer) app.use(mw);
  const store =
    SESSION[kind] === 'external' && sessionStore !== 'cookie' ? new MapStore() : undefined;
  if (SESSION[kind] !== 'none') app.use(session(store === undefined ? {} : { store }, app));
  const drops: DropEvent[] = [];
  if (STORAGE[kind] === undefined && options.storage === undefined)
    throw new Error(`${kind} needs its storage in options`);
  const storage = STORAGE[kind];
  app.use(
    messages({
      ...(storage === undefined ? {} : { storage }),
      onDrop: (event) => drops.push(event),
      ...options,
    }),
  );
  const router = new Router();
  for (const [path, handler] of Object.entries(routes)) {
    router.all(path, async (ctx) => {
      await handler(ctx);
    });
  }
  app.use(router.routes());
  return { app, store, drops };
}

export function agentOf(app: Koa) {
  return request.agent(app.callback());
}

/** A route body: what iterating `ctx.messages` yields, as JSON `[[level, tags, text], …]`. */
export function readJson(ctx: Context): void {
  ctx.type = 'json';
  ctx.body = JSON.stringify([...ctx.messages].map((m) => [m.level, m.tags, m.message]));
}

/** `Set-Cookie` header lines of a response, `[]` when none. */
export function setCookieOf(res: { headers: Record<string, unknown> }): string[] {
  const value = res.headers['set-cookie'];
  const list: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(String);
}
