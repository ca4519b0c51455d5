import type { Context } from 'koa';
import request from 'supertest';

import type { MessagesOptions } from '../../src/index.js';
import { buildApp } from './app.js';

/**
 * Run `handler` inside one real request (memory storage unless told otherwise) and return what it
 * returned, JSON round-tripped, or the error it threw as `{ error: name, message }`.
 */
export async function inRequest(
  handler: (ctx: Context) => unknown,
  options: MessagesOptions = {},
): Promise<unknown> {
  const app = buildApp({
    options: { storage: 'memory', ...options },
    session: false,
    routes: {
      '/': (ctx) => {
        let result: unknown;
        try {
          result = handler(ctx);
        } catch (error) {
          result = { error: (error as Error).name, message: (error as Error).message };
        }
        ctx.body = JSON.stringify(result ?? null);
        ctx.type = 'application/json';
      },
    },
  });
  const res = await request(app.callback()).get('/').expect(200);
  return JSON.parse(res.text);
}
