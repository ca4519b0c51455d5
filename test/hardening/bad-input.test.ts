import { expect } from 'chai';
import type { Context } from 'koa';
import { agentOf, caseApp } from './helpers.js';

/**
 * Every public function with bad input: the exact error a user gets, and proof that nothing was
 * half done (nothing added, nothing consumed, no header or body left behind).
 */

// Calls made with the wrong types on purpose: the compiler would refuse them, JavaScript callers won't.
type Loose = Record<string, (...args: unknown[]) => unknown> & Record<string, unknown>;
const m = (ctx: Context) => ctx.messages as unknown as Loose;
const ajax = (ctx: Context, ...args: unknown[]) => (ctx.ajax as (...a: unknown[]) => unknown)(...args);

const NAMES = "'debug', 'info', 'success', 'warning', 'error'";

/** [what, the bad call, the exact message of the TypeError it throws] */
type Row = [string, (ctx: Context) => unknown, string];

const requestRows: Row[] = [
  // ctx.ajax() data
  ['ctx.ajax(null)', (c) => ajax(c, null), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got null.'],
  ['ctx.ajax([1, 2])', (c) => ajax(c, [1, 2]), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an array.'],
  ["ctx.ajax('ok')", (c) => ajax(c, 'ok'), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got string.'],
  ['ctx.ajax(3)', (c) => ajax(c, 3), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got number.'],
  ['ctx.ajax(new Date())', (c) => ajax(c, new Date(0)), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Date.'],
  ['ctx.ajax(new Map())', (c) => ajax(c, new Map()), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Map.'],
  ['ctx.ajax(new Poll())', (c) => ajax(c, new (class Poll {})()), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Poll.'],
  ['ctx.ajax(a function)', (c) => ajax(c, () => 1), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got function.'],
  ['ctx.ajax(a promise)', (c) => ajax(c, Promise.resolve({})), 'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Promise.'],
  ['ctx.ajax({ n: 1n })', (c) => ajax(c, { n: 1n }), 'koa-messages: ctx.ajax() body cannot be serialized to JSON: Do not know how to serialize a BigInt'],
  ['ctx.ajax(a circular object)', (c) => ajax(c, circular()), "koa-messages: ctx.ajax() body cannot be serialized to JSON: Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    --- property 'self' closes the circle"],
  ['ctx.ajax({ toJSON: () => undefined })', (c) => ajax(c, { toJSON: () => undefined }), 'koa-messages: ctx.ajax() body cannot be serialized to JSON (its toJSON() returned undefined).'],
  ['ctx.ajax(data whose toJSON throws)', (c) => ajax(c, { toJSON: () => { throw new Error('no JSON today'); } }), 'koa-messages: ctx.ajax() body cannot be serialized to JSON: no JSON today'],
  ['ctx.ajax(data with a throwing getter, true)', (c) => ajax(c, { get votes() { throw new Error('not loaded'); } }, true), 'koa-messages: ctx.ajax() body cannot be serialized to JSON: not loaded'],
  // ctx.ajax() init
  ['ctx.ajax({}, true, null)', (c) => ajax(c, {}, true, null), 'koa-messages: ctx.ajax() init must be an object, got null.'],
  ["ctx.ajax({}, true, 'json')", (c) => ajax(c, {}, true, 'json'), 'koa-messages: ctx.ajax() init must be an object, got string.'],
  ['ctx.ajax({}, true, [])', (c) => ajax(c, {}, true, []), 'koa-messages: ctx.ajax() init must be an object, got an array.'],
  ['ctx.ajax({}, true, { statusCode: 201 })', (c) => ajax(c, {}, true, { statusCode: 201 }), 'koa-messages: ctx.ajax() init has unknown key `statusCode`; use `status` or `headers`.'],
  ['init with an own __proto__ key', (c) => ajax(c, {}, true, JSON.parse('{"__proto__":{"status":500}}')), 'koa-messages: ctx.ajax() init has unknown key `__proto__`; use `status` or `headers`.'],
  ['init.status 99', (c) => ajax(c, {}, true, { status: 99 }), 'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 99.'],
  ['init.status 600', (c) => ajax(c, {}, true, { status: 600 }), 'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 600.'],
  ['init.status 200.5', (c) => ajax(c, {}, true, { status: 200.5 }), 'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 200.5.'],
  ["init.status '201'", (c) => ajax(c, {}, true, { status: '201' }), 'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got string.'],
  ['init.status 204 (no body: the messages would be lost)', (c) => ajax(c, {}, true, { status: 204 }), 'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 204.'],
  ['init.status 304', (c) => ajax(c, {}, true, { status: 304 }), 'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 304.'],
  ['ctx.status = 204 before ctx.ajax()', (c) => { c.status = 204; return ajax(c, {}); }, 'koa-messages: ctx.ajax() cannot answer with status 204, which the handler set before: it carries no body, so the messages would be lost; pass { status } in init.'],
  ['init.headers as an array', (c) => ajax(c, {}, true, { headers: [['X-Poll', '1']] }), 'koa-messages: ctx.ajax() init `headers` must be a plain object of strings, got an array.'],
  ['init.headers null', (c) => ajax(c, {}, true, { headers: null }), 'koa-messages: ctx.ajax() init `headers` must be a plain object of strings, got null.'],
  ['init.headers with a number value', (c) => ajax(c, {}, true, { headers: { 'X-Votes': 5 } }), 'koa-messages: ctx.ajax() init `headers` value of `X-Votes` must be a string, got number.'],
  ['init.headers with a name Node refuses', (c) => ajax(c, {}, true, { headers: { 'X Poll': '1' } }), 'koa-messages: ctx.ajax() init `headers` has an invalid header name "X Poll".'],
  ['init.headers with CR LF in a value (header injection)', (c) => ajax(c, {}, true, { headers: { 'X-Poll': '1\r\nSet-Cookie: admin=1' } }), 'koa-messages: ctx.ajax() init `headers` value of `X-Poll` has a character a header cannot hold (such as CR, LF or NUL).'],
];

function circular(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  o['self'] = o;
  return o;
}

/**
 * One visitor with one stored message ('Pending') and a route that makes the bad call, records
 * what it threw and what state it left, then answers without touching messages itself.
 */
async function tryBadCall(call: (ctx: Context) => unknown) {
  const { app } = caseApp({
    kind: 'session-external',
    routes: {
      '/seed': (ctx) => {
        ctx.messages.info('Pending');
        ctx.body = 'seeded';
      },
      '/bad': (ctx) => {
        const status = ctx.status;
        let thrown: unknown;
        try {
          call(ctx);
        } catch (error) {
          thrown = error;
        }
        const left = {
          error: thrown instanceof TypeError ? thrown.message : `not a TypeError: ${String(thrown)}`,
          size: ctx.messages.size,
          used: ctx.messages.used,
          level: ctx.messages.level,
          statusChanged: ctx.status !== status,
          body: ctx.body === undefined ? null : String(ctx.body),
          headers: Object.keys(ctx.response.headers),
        };
        ctx.status = 200;
        ctx.body = left;
      },
      '/show': (ctx) => {
        ctx.ajax({});
      },
    },
  });
  const a = agentOf(app);
  await a.get('/seed').expect(200);
  const res = await a.get('/bad').expect(200);
  const next = await a.get('/show').expect(200);
  return { left: res.body as Record<string, unknown>, cacheControl: res.headers['cache-control'], next: next.text };
}

describe('hardening: bad input to every public function', () => {
  describe('in a request', () => {
    for (const [what, call, message] of requestRows) {
      it(`rejects ${what} with its exact TypeError, leaving nothing half done`, async () => {
        const { left, cacheControl, next } = await tryBadCall(call);
        expect(left['error']).to.equal(message);
        // Nothing added, nothing marked read, threshold unchanged, no answer or header left behind.
        expect(left['size']).to.equal(1);
        expect(left['used']).to.equal(false);
        expect(left['level']).to.equal(20);
        expect(left['body']).to.equal(null);
        expect(left['headers']).to.deep.equal([]);
        expect(cacheControl).to.equal(undefined);
        // And the stored message is still there for the next request.
        expect(next).to.equal('{"messages":[{"message":"Pending","tags":"info"}]}');
      });
    }

    it('answers normally with a second, valid ctx.ajax() after a rejected one in the same request', async () => {
      const { app } = caseApp({
        kind: 'session-external',
        routes: {
          '/seed': (ctx) => {
            ctx.messages.info('Pending');
            ctx.body = 'seeded';
          },
          '/retry': (ctx) => {
            try {
              ajax(ctx, {}, true, { headers: { 'X-Poll': '1\r\n' } });
            } catch {
              ctx.ajax({ retried: true }, true);
            }
          },
        },
      });
      const a = agentOf(app);
      await a.get('/seed').expect(200);
      await a.get('/retry').expect(200, '{"retried":true,"success":true,"messages":[{"message":"Pending","tags":"info"}]}');
      await a.get('/retry').expect(200, '{"retried":true,"success":true}');
    });
  });
});
