import Router from '@koa/router';
import { expect } from 'chai';
import type { Context } from 'koa';
import Koa from 'koa';
import request from 'supertest';

import {
  cookieStorage,
  escapeHtml,
  fallbackStorage,
  messages,
  MessagesError,
  type MessagesOptions,
  sessionStorage,
} from '../../src/index.js';
import { agentOf, caseApp } from './helpers.js';

/**
 * Every public function with bad input: the exact error a user gets, and proof that nothing was
 * half done (nothing added, nothing consumed, no header or body left behind).
 */

// Calls made with the wrong types on purpose: the compiler would refuse them, JavaScript callers won't.
const m = (ctx: Context) =>
  ctx.messages as unknown as Record<string, (...args: unknown[]) => unknown>;
const put = (ctx: Context) => ctx.messages as unknown as Record<string, unknown>;
const ajax = (ctx: Context, ...args: unknown[]) =>
  (ctx.ajax as (...a: unknown[]) => unknown)(...args);

const NAMES = "'debug', 'info', 'success', 'warning', 'error'";

/** [what, the bad call, the exact message of the TypeError it throws] */
type Row = [string, (ctx: Context) => unknown, string];

const requestRows: Row[] = [
  // ctx.messages.add(level, …) and the level names
  [
    'add(undefined, text)',
    (c) => m(c)['add']!(undefined, 'Saved.'),
    `koa-messages: ctx.messages.add() level must be an integer or a level name (${NAMES}), got undefined.`,
  ],
  [
    'add(null, text)',
    (c) => m(c)['add']!(null, 'Saved.'),
    `koa-messages: ctx.messages.add() level must be an integer or a level name (${NAMES}), got null.`,
  ],
  [
    "add('INFO', text) (names are lower case)",
    (c) => m(c)['add']!('INFO', 'Saved.'),
    `koa-messages: ctx.messages.add() level 'INFO' is not a level name; use one of ${NAMES} or an integer.`,
  ],
  [
    "add('20', text)",
    (c) => m(c)['add']!('20', 'Saved.'),
    `koa-messages: ctx.messages.add() level '20' is not a level name; use one of ${NAMES} or an integer.`,
  ],
  [
    "add('toString', text)",
    (c) => m(c)['add']!('toString', 'Saved.'),
    `koa-messages: ctx.messages.add() level 'toString' is not a level name; use one of ${NAMES} or an integer.`,
  ],
  [
    "add('__proto__', text)",
    (c) => m(c)['add']!('__proto__', 'Saved.'),
    `koa-messages: ctx.messages.add() level '__proto__' is not a level name; use one of ${NAMES} or an integer.`,
  ],
  [
    'add(2.5, text)',
    (c) => m(c)['add']!(2.5, 'Saved.'),
    'koa-messages: ctx.messages.add() level must be an integer or a level name, got 2.5.',
  ],
  [
    'add(NaN, text)',
    (c) => m(c)['add']!(NaN, 'Saved.'),
    'koa-messages: ctx.messages.add() level must be an integer or a level name, got NaN.',
  ],
  [
    'add(Infinity, text)',
    (c) => m(c)['add']!(Infinity, 'Saved.'),
    'koa-messages: ctx.messages.add() level must be an integer or a level name, got Infinity.',
  ],
  [
    'add(2 ** 60, text)',
    (c) => m(c)['add']!(2 ** 60, 'Saved.'),
    'koa-messages: ctx.messages.add() level must be a safe integer (at most 2^53 - 1 either side of 0), got 1152921504606847000.',
  ],
  [
    'add(20n, text)',
    (c) => m(c)['add']!(20n, 'Saved.'),
    `koa-messages: ctx.messages.add() level must be an integer or a level name (${NAMES}), got bigint.`,
  ],
  [
    'add(new Number(20), text)',
    (c) => m(c)['add']!(new Number(20), 'Saved.'),
    `koa-messages: ctx.messages.add() level must be an integer or a level name (${NAMES}), got an instance of Number.`,
  ],
  // ctx.messages.add(…, message)
  [
    "add('info') without text",
    (c) => m(c)['add']!('info'),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got undefined.',
  ],
  [
    "add('info', null)",
    (c) => m(c)['add']!('info', null),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got null.',
  ],
  [
    "add('info', 42)",
    (c) => m(c)['add']!('info', 42),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got number.',
  ],
  [
    "add('info', new String('x'))",
    (c) => m(c)['add']!('info', new String('x')),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got an instance of String.',
  ],
  [
    "add('error', an Error)",
    (c) => m(c)['add']!('error', new Error('db down')),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got an instance of Error.',
  ],
  [
    'success(42)',
    (c) => m(c)['success']!(42),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got number.',
  ],
  [
    'error() without text',
    (c) => m(c)['error']!(),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got undefined.',
  ],
  // ctx.messages.add(…, …, options)
  [
    "add('info', text, null)",
    (c) => m(c)['add']!('info', 'Saved.', null),
    'koa-messages: ctx.messages.add() options must be an object, got null.',
  ],
  [
    "add('info', text, 'sticky')",
    (c) => m(c)['add']!('info', 'Saved.', 'sticky'),
    'koa-messages: ctx.messages.add() options must be an object, got string.',
  ],
  [
    "add('info', text, [])",
    (c) => m(c)['add']!('info', 'Saved.', []),
    'koa-messages: ctx.messages.add() options must be an object, got an array.',
  ],
  [
    'add options { extra_tags } (Django spelling)',
    (c) => m(c)['add']!('info', 'Saved.', { extra_tags: 'sticky' }),
    'koa-messages: unknown ctx.messages.add() option `extra_tags`; use `extraTags`, `html`, `key` or `maxAge`.',
  ],
  [
    'add options with an own __proto__ key',
    (c) => m(c)['add']!('info', 'Saved.', JSON.parse('{"__proto__":{"html":true}}')),
    'koa-messages: unknown ctx.messages.add() option `__proto__`; use `extraTags`, `html`, `key` or `maxAge`.',
  ],
  [
    'add options { maxAge: -1 }',
    (c) => m(c)['add']!('info', 'Saved.', { maxAge: -1 }),
    'koa-messages: ctx.messages.add() option `maxAge` must be a positive integer of milliseconds, got -1.',
  ],
  [
    'add options { maxAge: 0 }',
    (c) => m(c)['add']!('info', 'Saved.', { maxAge: 0 }),
    'koa-messages: ctx.messages.add() option `maxAge` must be a positive integer of milliseconds, got 0.',
  ],
  [
    'add options { maxAge: 1.5 }',
    (c) => m(c)['add']!('info', 'Saved.', { maxAge: 1.5 }),
    'koa-messages: ctx.messages.add() option `maxAge` must be a positive integer of milliseconds, got 1.5.',
  ],
  [
    "add options { maxAge: '1000' }",
    (c) => m(c)['add']!('info', 'Saved.', { maxAge: '1000' }),
    'koa-messages: ctx.messages.add() option `maxAge` must be a positive integer of milliseconds, got string.',
  ],
  [
    'add options { maxAge: Infinity }',
    (c) => m(c)['add']!('info', 'Saved.', { maxAge: Infinity }),
    'koa-messages: ctx.messages.add() option `maxAge` must be a positive integer of milliseconds, got Infinity.',
  ],
  [
    'add options { extraTags: 5 }',
    (c) => m(c)['add']!('info', 'Saved.', { extraTags: 5 }),
    'koa-messages: ctx.messages.add() option `extraTags` must be a string or null, got number.',
  ],
  [
    "add options { extraTags: ['a', 'b'] }",
    (c) => m(c)['add']!('info', 'Saved.', { extraTags: ['a', 'b'] }),
    'koa-messages: ctx.messages.add() option `extraTags` must be a string or null, got an array.',
  ],
  [
    "add options { html: 'true' }",
    (c) => m(c)['add']!('info', 'Saved.', { html: 'true' }),
    'koa-messages: ctx.messages.add() option `html` must be a boolean, got string.',
  ],
  [
    'success(text, { html: 1 })',
    (c) => m(c)['success']!('Saved.', { html: 1 }),
    'koa-messages: ctx.messages.add() option `html` must be a boolean, got number.',
  ],
  [
    'add options { key: 5 }',
    (c) => m(c)['add']!('info', 'Saved.', { key: 5 }),
    'koa-messages: ctx.messages.add() option `key` must be a non-empty string, got number.',
  ],
  [
    "success(text, { key: '' })",
    (c) => m(c)['success']!('Saved.', { key: '' }),
    "koa-messages: ctx.messages.add() option `key` must be a non-empty string, got ''.",
  ],
  [
    'add options { key: null }',
    (c) => m(c)['add']!('info', 'Saved.', { key: null }),
    'koa-messages: ctx.messages.add() option `key` must be a non-empty string, got null.',
  ],
  // ctx.messages.level = …, .used = …, .size = …
  [
    "ctx.messages.level = 'loud'",
    (c) => void (put(c)['level'] = 'loud'),
    `koa-messages: ctx.messages.level 'loud' is not a level name; use one of ${NAMES} or an integer.`,
  ],
  [
    'ctx.messages.level = null',
    (c) => void (put(c)['level'] = null),
    `koa-messages: ctx.messages.level must be an integer or a level name (${NAMES}), got null.`,
  ],
  [
    'ctx.messages.level = 2.5',
    (c) => void (put(c)['level'] = 2.5),
    'koa-messages: ctx.messages.level must be an integer or a level name, got 2.5.',
  ],
  [
    "ctx.messages.level = '20'",
    (c) => void (put(c)['level'] = '20'),
    `koa-messages: ctx.messages.level '20' is not a level name; use one of ${NAMES} or an integer.`,
  ],
  [
    'ctx.messages.used = 1',
    (c) => void (put(c)['used'] = 1),
    'koa-messages: ctx.messages.used must be a boolean, got number.',
  ],
  [
    "ctx.messages.used = 'false'",
    (c) => void (put(c)['used'] = 'false'),
    'koa-messages: ctx.messages.used must be a boolean, got string.',
  ],
  [
    'ctx.messages.used = undefined',
    (c) => void (put(c)['used'] = undefined),
    'koa-messages: ctx.messages.used must be a boolean, got undefined.',
  ],
  [
    'ctx.messages.size = 0',
    (c) => void (put(c)['size'] = 0),
    'Cannot set property size of #<MessageStore> which has only a getter',
  ],
  // ctx.ajax() data
  [
    'ctx.ajax(null)',
    (c) => ajax(c, null),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got null.',
  ],
  [
    'ctx.ajax([1, 2])',
    (c) => ajax(c, [1, 2]),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an array.',
  ],
  [
    "ctx.ajax('ok')",
    (c) => ajax(c, 'ok'),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got string.',
  ],
  [
    'ctx.ajax(3)',
    (c) => ajax(c, 3),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got number.',
  ],
  [
    'ctx.ajax(new Date())',
    (c) => ajax(c, new Date(0)),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Date.',
  ],
  [
    'ctx.ajax(new Map())',
    (c) => ajax(c, new Map()),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Map.',
  ],
  [
    'ctx.ajax(new Poll())',
    (c) => ajax(c, new (class Poll {})()),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Poll.',
  ],
  [
    'ctx.ajax(a function)',
    (c) => ajax(c, () => 1),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got function.',
  ],
  [
    'ctx.ajax(a promise)',
    (c) => ajax(c, Promise.resolve({})),
    'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an instance of Promise.',
  ],
  [
    'ctx.ajax({ n: 1n })',
    (c) => ajax(c, { n: 1n }),
    'koa-messages: ctx.ajax() body cannot be serialized to JSON: Do not know how to serialize a BigInt',
  ],
  [
    'ctx.ajax(a circular object)',
    (c) => ajax(c, circular()),
    "koa-messages: ctx.ajax() body cannot be serialized to JSON: Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    --- property 'self' closes the circle",
  ],
  [
    'ctx.ajax({ toJSON: () => undefined })',
    (c) => ajax(c, { toJSON: () => undefined }),
    'koa-messages: ctx.ajax() body cannot be serialized to JSON (its toJSON() returned undefined).',
  ],
  [
    'ctx.ajax(data whose toJSON throws)',
    (c) =>
      ajax(c, {
        toJSON: () => {
          throw new Error('no JSON today');
        },
      }),
    'koa-messages: ctx.ajax() body cannot be serialized to JSON: no JSON today',
  ],
  [
    'ctx.ajax(data with a throwing getter, true)',
    (c) =>
      ajax(
        c,
        {
          get votes() {
            throw new Error('not loaded');
          },
        },
        true,
      ),
    'koa-messages: ctx.ajax() body cannot be serialized to JSON: not loaded',
  ],
  // ctx.ajax() init
  [
    'ctx.ajax({}, true, null)',
    (c) => ajax(c, {}, true, null),
    'koa-messages: ctx.ajax() init must be an object, got null.',
  ],
  [
    "ctx.ajax({}, true, 'json')",
    (c) => ajax(c, {}, true, 'json'),
    'koa-messages: ctx.ajax() init must be an object, got string.',
  ],
  [
    'ctx.ajax({}, true, [])',
    (c) => ajax(c, {}, true, []),
    'koa-messages: ctx.ajax() init must be an object, got an array.',
  ],
  [
    'ctx.ajax({}, true, { statusCode: 201 })',
    (c) => ajax(c, {}, true, { statusCode: 201 }),
    'koa-messages: ctx.ajax() init has unknown key `statusCode`; use `status` or `headers`.',
  ],
  [
    'init with an own __proto__ key',
    (c) => ajax(c, {}, true, JSON.parse('{"__proto__":{"status":500}}')),
    'koa-messages: ctx.ajax() init has unknown key `__proto__`; use `status` or `headers`.',
  ],
  [
    'init.status 99',
    (c) => ajax(c, {}, true, { status: 99 }),
    'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 99.',
  ],
  [
    'init.status 600',
    (c) => ajax(c, {}, true, { status: 600 }),
    'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 600.',
  ],
  [
    'init.status 200.5',
    (c) => ajax(c, {}, true, { status: 200.5 }),
    'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 200.5.',
  ],
  [
    "init.status '201'",
    (c) => ajax(c, {}, true, { status: '201' }),
    'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got string.',
  ],
  [
    'init.status 204 (no body: the messages would be lost)',
    (c) => ajax(c, {}, true, { status: 204 }),
    'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 204.',
  ],
  [
    'init.status 304',
    (c) => ajax(c, {}, true, { status: 304 }),
    'koa-messages: ctx.ajax() init `status` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got 304.',
  ],
  [
    'ctx.status = 204 before ctx.ajax()',
    (c) => {
      c.status = 204;
      return ajax(c, {});
    },
    'koa-messages: ctx.ajax() cannot answer with status 204, which the handler set before: it carries no body, so the messages would be lost; pass { status } in init.',
  ],
  [
    'init.headers as an array',
    (c) => ajax(c, {}, true, { headers: [['X-Poll', '1']] }),
    'koa-messages: ctx.ajax() init `headers` must be a plain object of strings, got an array.',
  ],
  [
    'init.headers null',
    (c) => ajax(c, {}, true, { headers: null }),
    'koa-messages: ctx.ajax() init `headers` must be a plain object of strings, got null.',
  ],
  [
    'init.headers with a number value',
    (c) => ajax(c, {}, true, { headers: { 'X-Votes': 5 } }),
    'koa-messages: ctx.ajax() init `headers` value of `X-Votes` must be a string, got number.',
  ],
  [
    'init.headers with a name Node refuses',
    (c) => ajax(c, {}, true, { headers: { 'X Poll': '1' } }),
    'koa-messages: ctx.ajax() init `headers` has an invalid header name "X Poll".',
  ],
  [
    'init.headers with CR LF in a value (header injection)',
    (c) => ajax(c, {}, true, { headers: { 'X-Poll': '1\r\nSet-Cookie: admin=1' } }),
    'koa-messages: ctx.ajax() init `headers` value of `X-Poll` has a character a header cannot hold (such as CR, LF or NUL).',
  ],
];

const INVALID = 'koa-messages: invalid messages() options:';
const LEVEL_MUST = `must be a level name (${NAMES}) or an integer`;
const STORAGE_MUST =
  "must be 'session', 'cookie', 'fallback', 'memory', or a storage object with an open(ctx) method";

/** [what, the options, the exact message of the TypeError messages() throws] */
const optionRows: [string, unknown, string][] = [
  ['null', null, 'koa-messages: messages(options) takes an options object, got null.'],
  ...[-1, 0, 2.5, '60s', null].map((maxAge): [string, unknown, string] => [
    `maxAge: ${JSON.stringify(maxAge)}`,
    { maxAge },
    `${INVALID} option \`maxAge\` must be a positive integer of milliseconds.`,
  ]),
  [
    "translate: 't'",
    { translate: 't' },
    `${INVALID} option \`translate\` must be a function (descriptor, ctx) => string.`,
  ],
  [
    "dedupe: 'yes'",
    { dedupe: 'yes' },
    'koa-messages: invalid messages() options: option `dedupe`: expected boolean, received string.',
  ],
  ['an array', [], 'koa-messages: messages(options) takes an options object, got an array.'],
  [
    "a string ('memory')",
    'memory',
    'koa-messages: messages(options) takes an options object, got string.',
  ],
  [
    'a function',
    () => ({}),
    'koa-messages: messages(options) takes an options object, got function.',
  ],
  ['an unknown key', { maxMessage: 10 }, `${INVALID} unknown option \`maxMessage\`.`],
  [
    'an own __proto__ key (JSON config)',
    JSON.parse('{"__proto__":{"level":10}}'),
    `${INVALID} unknown option \`__proto__\`.`,
  ],
  ['storage: null', { storage: null }, `${INVALID} option \`storage\` ${STORAGE_MUST}.`],
  [
    "storage: 'redis' (a name it does not know)",
    { storage: 'redis' },
    `${INVALID} option \`storage\` ${STORAGE_MUST}.`,
  ],
  [
    'storage without open() (the shape of a load/save storage)',
    { storage: { load: () => [], save: () => undefined } },
    `${INVALID} option \`storage\` ${STORAGE_MUST}.`,
  ],
  [
    'storage with open that is not a function',
    { storage: { open: true } },
    `${INVALID} option \`storage\` ${STORAGE_MUST}.`,
  ],
  [
    'storage with enter that is not a function',
    { storage: { open: () => undefined, enter: 'early' } },
    `${INVALID} option \`storage\` ${STORAGE_MUST}.`,
  ],
  ['level: null', { level: null }, `${INVALID} option \`level\` ${LEVEL_MUST}, got null.`],
  ["level: 'INFO'", { level: 'INFO' }, `${INVALID} option \`level\` ${LEVEL_MUST}, got 'INFO'.`],
  ["level: '20'", { level: '20' }, `${INVALID} option \`level\` ${LEVEL_MUST}, got '20'.`],
  [
    "level: 'toString'",
    { level: 'toString' },
    `${INVALID} option \`level\` ${LEVEL_MUST}, got 'toString'.`,
  ],
  ['level: NaN', { level: NaN }, `${INVALID} option \`level\` ${LEVEL_MUST}, got NaN.`],
  ['level: 2.5', { level: 2.5 }, `${INVALID} option \`level\` ${LEVEL_MUST}, got 2.5.`],
  [
    'tags: an array',
    { tags: ['info'] },
    `${INVALID} option \`tags\` must be an object of tag strings keyed by level.`,
  ],
  [
    'tags: null',
    { tags: null },
    `${INVALID} option \`tags\` must be an object of tag strings keyed by level.`,
  ],
  [
    'tags with a number value',
    { tags: { 20: 5 } },
    `${INVALID} option \`tags.20\`: expected string, received number.`,
  ],
  [
    "tags with key '1.5'",
    { tags: { '1.5': 'half' } },
    `${INVALID} option \`tags\` has key \`1.5\`, which is not an integer level or a level name.`,
  ],
  [
    'tags with key toString',
    { tags: { toString: 'x' } },
    `${INVALID} option \`tags\` has key \`toString\`, which is not an integer level or a level name.`,
  ],
  [
    "escape: 'yes'",
    { escape: 'yes' },
    `${INVALID} option \`escape\`: expected boolean, received string.`,
  ],
  [
    'maxMessages: 0',
    { maxMessages: 0 },
    `${INVALID} option \`maxMessages\` must be a positive integer.`,
  ],
  [
    'maxMessages: -1',
    { maxMessages: -1 },
    `${INVALID} option \`maxMessages\` must be a positive integer.`,
  ],
  [
    'maxMessages: 1.5',
    { maxMessages: 1.5 },
    `${INVALID} option \`maxMessages\` must be a positive integer.`,
  ],
  [
    "maxMessages: '10'",
    { maxMessages: '10' },
    `${INVALID} option \`maxMessages\` must be a positive integer.`,
  ],
  [
    'maxMessages: Infinity',
    { maxMessages: Infinity },
    `${INVALID} option \`maxMessages\` must be a positive integer.`,
  ],
  ["onDrop: 'log'", { onDrop: 'log' }, `${INVALID} option \`onDrop\` must be a function.`],
  [
    "cookie with storage 'cookie' (the cookie storage's own option)",
    { storage: 'cookie', cookie: { maxSize: 999 } },
    `${INVALID} option \`cookie\` belongs to the storage: pass \`storage: cookieStorage({ … }) or fallbackStorage({ cookie: { … } })\`.`,
  ],
  [
    "sessionKey with storage 'memory'",
    { storage: 'memory', sessionKey: 'flash' },
    `${INVALID} option \`sessionKey\` belongs to the storage: pass \`storage: sessionStorage({ key }) or fallbackStorage({ sessionKey })\`.`,
  ],
  [
    'two bad options at once',
    { escape: 1, nope: true },
    `${INVALID} option \`escape\`: expected boolean, received number; unknown option \`nope\`.`,
  ],
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
/**
 * Descriptors (docs/translation.md), in an app with `translate`: [what, the bad call, the exact
 * message]. One more row, a descriptor in an app without it, is below.
 */
const descriptorRows: Row[] = [
  [
    'a descriptor without id',
    (c) => m(c)['success']!({ values: { a: 1 } }),
    `koa-messages: ctx.messages.add() message descriptor needs \`id\`, a non-empty string; got undefined.`,
  ],
  [
    'an empty id',
    (c) => m(c)['success']!({ id: '' }),
    `koa-messages: ctx.messages.add() message descriptor needs \`id\`, a non-empty string; got ''.`,
  ],
  [
    'a number id',
    (c) => m(c)['success']!({ id: 7 }),
    `koa-messages: ctx.messages.add() message descriptor needs \`id\`, a non-empty string; got number.`,
  ],
  [
    'values holding a function',
    (c) => m(c)['success']!({ id: 'x', values: { f: () => 1 } }),
    `koa-messages: ctx.messages.add() message descriptor \`values.f\` must be a string, a finite number, a boolean or null (JSON-safe), got function.`,
  ],
  [
    'values holding an object',
    (c) => m(c)['success']!({ id: 'x', values: { o: { a: 1 } } }),
    `koa-messages: ctx.messages.add() message descriptor \`values.o\` must be a string, a finite number, a boolean or null (JSON-safe), got an object.`,
  ],
  [
    'values holding an array',
    (c) => m(c)['success']!({ id: 'x', values: { list: [1] } }),
    `koa-messages: ctx.messages.add() message descriptor \`values.list\` must be a string, a finite number, a boolean or null (JSON-safe), got an array.`,
  ],
  [
    'values holding NaN',
    (c) => m(c)['success']!({ id: 'x', values: { n: NaN } }),
    `koa-messages: ctx.messages.add() message descriptor \`values.n\` must be a string, a finite number, a boolean or null (JSON-safe), got number.`,
  ],
  [
    'values that are an array',
    (c) => m(c)['success']!({ id: 'x', values: [1] }),
    `koa-messages: ctx.messages.add() message descriptor \`values\` must be a plain object, got an array.`,
  ],
  [
    'a descriptor with an unknown property',
    (c) => m(c)['success']!({ id: 'x', text: 'y' }),
    `koa-messages: ctx.messages.add() message descriptor has an unknown property \`text\`; it takes \`id\` and \`values\`.`,
  ],
  [
    'a Date for a descriptor',
    (c) => m(c)['success']!(new Date()),
    'koa-messages: ctx.messages.add() message must be a string or a descriptor { id, values? }, got an instance of Date.',
  ],
];

async function tryBadCall(call: (ctx: Context) => unknown, options: MessagesOptions = {}) {
  const { app } = caseApp({
    kind: 'session-external',
    options,
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
          error:
            thrown instanceof TypeError ? thrown.message : `not a TypeError: ${String(thrown)}`,
          code: (thrown as { code?: unknown } | undefined)?.code ?? null,
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
  return {
    left: res.body as Record<string, unknown>,
    cacheControl: res.headers['cache-control'],
    next: next.text,
  };
}

describe('hardening: bad input to every public function', () => {
  describe('messages(options)', () => {
    for (const [what, options, message] of optionRows) {
      it(`rejects ${what} with its exact TypeError and leaves the object as it was`, () => {
        const before =
          options !== null && typeof options === 'object' ? JSON.stringify(options) : undefined;
        let thrown: unknown;
        try {
          messages(options as never);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(MessagesError);
        expect(thrown).to.be.instanceOf(TypeError);
        expect(thrown).to.have.property('code', 'ERR_KOA_MESSAGES_OPTION');
        expect((thrown as TypeError).message).to.equal(message);
        if (before !== undefined) expect(JSON.stringify(options)).to.equal(before);
      });
    }

    it('ignores an own __proto__ key inside tags and changes no prototype', async () => {
      const options = JSON.parse('{"tags":{"__proto__":"polluted","25":"ok"}}') as {
        tags: Record<string, string>;
      };
      const { app } = caseApp({
        kind: 'memory',
        options,
        routes: {
          '/': (ctx) => {
            ctx.messages.success('Saved.');
            ctx.ajax({});
          },
        },
      });
      await agentOf(app).get('/').expect(200, '{"messages":[{"message":"Saved.","tags":"ok"}]}');
      expect(Object.getPrototypeOf(options.tags)).to.equal(Object.prototype);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    });
  });

  describe('storage factories', () => {
    const rows: [string, () => unknown, string][] = [
      [
        'cookieStorage(5)',
        () => cookieStorage(5 as never),
        'koa-messages: cookieStorage(options) takes an options object, got number.',
      ],
      [
        'cookieStorage({ maxSize: 1 })',
        () => cookieStorage({ maxSize: 1 }),
        'koa-messages: invalid cookieStorage() options: option `maxSize` must be an integer from 128 to 4096 (bytes of cookie value).',
      ],
      [
        "cookieStorage({ sameSite: 'Lax' })",
        () => cookieStorage({ sameSite: 'Lax' as never }),
        "koa-messages: invalid cookieStorage() options: option `sameSite` must be 'lax', 'strict', 'none' or false.",
      ],
      [
        "cookieStorage({ name: 'a b' })",
        () => cookieStorage({ name: 'a b' }),
        'koa-messages: invalid cookieStorage() options: option `name` must be a cookie name (an RFC 6265 token).',
      ],
      [
        'cookieStorage({ maxAge }) (not an option)',
        () => cookieStorage({ maxAge: 1000 } as never),
        'koa-messages: invalid cookieStorage() options: unknown option `maxAge`.',
      ],
      [
        'fallbackStorage(null)',
        () => fallbackStorage(null as never),
        'koa-messages: fallbackStorage(options) takes an options object, got null.',
      ],
      [
        'fallbackStorage({ cookie: { maxSize: 10 } })',
        () => fallbackStorage({ cookie: { maxSize: 10 } }),
        'koa-messages: invalid fallbackStorage() options: option `cookie.maxSize` must be an integer from 128 to 4096 (bytes of cookie value).',
      ],
      [
        'fallbackStorage({ key: … })',
        () => fallbackStorage({ key: 'flash' } as never),
        'koa-messages: invalid fallbackStorage() options: unknown option `key`.',
      ],
      [
        'sessionStorage({ sessionKey: … })',
        () => sessionStorage({ sessionKey: 'flash' } as never),
        'koa-messages: invalid sessionStorage() options: unknown option `sessionKey`.',
      ],
      [
        "sessionStorage('flash')",
        () => sessionStorage('flash' as never),
        'koa-messages: sessionStorage(options) takes an options object, got string.',
      ],
    ];
    // The one session-key rule, for both options that name a session key.
    const keys: [string, unknown, string][] = [
      ['5', 5, 'must be a non-empty string'],
      ["''", '', 'must be a non-empty string'],
      [
        "'_messages' (Django's key)",
        '_messages',
        "must not start with '_': koa-session does not save such keys",
      ],
      ["'__proto__'", '__proto__', "must not start with '_': koa-session does not save such keys"],
      [
        "'length' (a koa-session Session getter: every save would throw)",
        'length',
        "must not be 'length', a name koa-session's session object already uses",
      ],
      [
        "'isNew' (koa-session never saves it)",
        'isNew',
        "must not be 'isNew', a name koa-session's session object already uses",
      ],
      [
        "'save' (would hide ctx.session.save())",
        'save',
        "must not be 'save', a name koa-session's session object already uses",
      ],
      [
        "'toString'",
        'toString',
        "must not be 'toString', a name koa-session's session object already uses",
      ],
      [
        "'populated'",
        'populated',
        "must not be 'populated', a name koa-session's session object already uses",
      ],
    ];
    for (const [what, key, problem] of keys) {
      rows.push(
        [
          `sessionStorage({ key: ${what} })`,
          () => sessionStorage({ key: key as string }),
          `koa-messages: invalid sessionStorage() options: option \`key\` ${problem}.`,
        ],
        [
          `fallbackStorage({ sessionKey: ${what} })`,
          () => fallbackStorage({ sessionKey: key as string }),
          `koa-messages: invalid fallbackStorage() options: option \`sessionKey\` ${problem}.`,
        ],
      );
    }
    for (const [what, call, message] of rows) {
      it(`rejects ${what} with its exact TypeError`, () => {
        expect(call)
          .to.throw(MessagesError)
          .that.includes({ message, code: 'ERR_KOA_MESSAGES_OPTION' });
      });
    }
  });

  describe('escapeHtml(text)', () => {
    it('escapes what a template hands it, turning non-strings into text once', () => {
      expect(escapeHtml('<b title="x">Tom & Jerry\'s</b>')).to.equal(
        '&lt;b title=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/b&gt;',
      );
      expect(escapeHtml(42 as unknown as string)).to.equal('42');
      expect(escapeHtml(null as unknown as string)).to.equal('null');
      expect(escapeHtml(['<img src=x onerror=alert(1)>'] as unknown as string)).to.equal(
        '&lt;img src=x onerror=alert(1)&gt;',
      );
      let calls = 0;
      const shifty = { toString: () => (calls++ === 0 ? 'harmless' : '<script>alert(1)</script>') };
      expect(escapeHtml(shifty as unknown as string)).to.equal('harmless');
      expect(calls).to.equal(1);
    });
  });

  describe('ctx.messages where messages() has not run', () => {
    it('fails with a sentence that says where to install the middleware', async () => {
      const app = new Koa();
      app.silent = true;
      const errors: string[] = [];
      app.on('error', (error: Error) => errors.push(error.message));
      const router = new Router();
      router.get('/with', messages({ storage: 'memory' }), (ctx) => {
        ctx.messages.info('Here.');
        ctx.ajax({});
      });
      router.get('/without', (ctx) => {
        ctx.messages.info('Lost.');
        ctx.body = 'never';
      });
      app.use(router.routes());
      const a = request.agent(app.callback());
      await a.get('/with').expect(200, '{"messages":[{"message":"Here.","tags":"info"}]}');
      await a.get('/without').expect(500, 'Internal Server Error');
      expect(errors).to.deep.equal([
        'koa-messages: ctx.messages was used where messages() middleware has not run; app.use(messages()) must come before the middleware or router that uses it.',
      ]);
    });
  });

  describe('in a request', () => {
    /** The exact error, and nothing half done: nothing added, read, shown or set. */
    async function expectRejected(
      call: (ctx: Context) => unknown,
      message: string,
      code: string | null,
      options?: MessagesOptions,
    ): Promise<void> {
      const { left, cacheControl, next } = await tryBadCall(call, options);
      expect(left['error']).to.equal(message);
      expect(left['code']).to.equal(code);
      // Nothing added, nothing marked read, threshold unchanged, no answer or header left behind.
      expect(left['size']).to.equal(1);
      expect(left['used']).to.equal(false);
      expect(left['level']).to.equal(20);
      expect(left['body']).to.equal(null);
      expect(left['headers']).to.deep.equal([]);
      expect(cacheControl).to.equal(undefined);
      // And the stored message is still there for the next request.
      expect(next).to.equal('{"messages":[{"message":"Pending","tags":"info"}]}');
    }

    for (const [what, call, message] of requestRows) {
      it(`rejects ${what} with its exact TypeError, leaving nothing half done`, async () => {
        // Ours carry a code; the engine's own (assigning a getter-only property) does not.
        const code = message.startsWith('koa-messages:') ? 'ERR_KOA_MESSAGES_ARGUMENT' : null;
        await expectRejected(call, message, code);
      });
    }

    for (const [what, call, message] of descriptorRows) {
      it(`rejects ${what} with its exact TypeError, leaving nothing half done`, async () => {
        await expectRejected(call, message, 'ERR_KOA_MESSAGES_ARGUMENT', {
          translate: (descriptor) => descriptor.id,
        });
      });
    }

    it('rejects a descriptor in an app without translate, naming the option', async () => {
      await expectRejected(
        (c) => m(c)['success']!({ id: 'vote.recorded' }),
        "koa-messages: ctx.messages.add() got a message descriptor ({ id: 'vote.recorded' }), but messages() " +
          'has no `translate` option to turn it into text; pass translate: (descriptor, ctx) => string (docs/translation.md).',
        'ERR_KOA_MESSAGES_OPTION',
      );
    });

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
      await a
        .get('/retry')
        .expect(
          200,
          '{"retried":true,"success":true,"messages":[{"message":"Pending","tags":"info"}]}',
        );
      await a.get('/retry').expect(200, '{"retried":true,"success":true}');
    });
  });
});
