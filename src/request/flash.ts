import { format } from 'node:util';

import { describeValue, MessagesError } from '../errors.js';
import type { Message } from '../message/message.js';
import { LEVELS } from '../shared/levels.js';
import type { RequestMessages } from './request-messages.js';

/**
 * `ctx.flash`, connect-flash's contract on top of `ctx.messages` (enable with `messages({ flash: true })`).
 *
 * - `ctx.flash(type, message, ...args)` adds (`util.format(message, ...args)` when there are
 *   arguments; an array adds each string) and returns how many messages of that type are pending.
 * - `ctx.flash(type)` returns that type's messages as strings and consumes only those.
 * - `ctx.flash()` returns `{ [type]: string[] }` and consumes everything.
 * - What a read returned is not pending for the rest of the request either (not in `ctx.ajax()`).
 *
 * Types are levels: `error`, `warning` (or `warn`), `success`, `info`, `debug`. Any other type is
 * an `info` message whose extra tag is the type, so `ctx.flash('notice')` finds what
 * `ctx.flash('notice', …)` added and `ctx.messages` shows it with tags `'notice info'`.
 */
export interface Flash {
  (): Record<string, string[]>;
  (type: string): string[];
  (type: string, message: string | readonly string[], ...args: unknown[]): number;
}

/**
 * The type of `ctx.flash` when `messages({ flash: true })` is used. Not declared on every Koa
 * context, because `ctx.flash` exists only where it is enabled (an app may have its own); opt in
 * once, where the app is typed:
 *
 * @example
 * import type { FlashContext } from 'koa-messages';
 * declare module 'koa' {
 *   interface BaseContext extends FlashContext {}
 * }
 */
export interface FlashContext {
  /** connect-flash's `req.flash()` over this request's messages: see {@link Flash}. */
  flash: Flash;
}

// A Map, not an object: a type named `constructor` or `__proto__` is a custom type like any other.
const STANDARD: ReadonlyMap<string, number> = new Map([
  ...Object.entries(LEVELS),
  ['warn', LEVELS.warning],
]);

const ALL = (): boolean => true;

/** A custom type becomes one extra tag: a token, no spaces. */
const CUSTOM_TYPE = /^\S+$/;

function checkType(type: unknown): string {
  if (typeof type !== 'string' || !CUSTOM_TYPE.test(type)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.flash() type must be a non-empty string without spaces (a level name or a tag), got ${typeof type === 'string' ? JSON.stringify(type) : describeValue(type)}.`,
    );
  }
  return type;
}

/** Whether `m` belongs to `type` (what `ctx.flash(type)` returns). */
function matcher(type: string): (m: Message) => boolean {
  const level = STANDARD.get(type);
  // `info` means plain info: an info message with an extra tag belongs to the custom type of that tag.
  if (level === LEVELS.info) return (m) => m.level === level && m.extraTags === '';
  if (level !== undefined) return (m) => m.level === level;
  return (m) => m.level === LEVELS.info && m.extraTags === type;
}

/** The type `ctx.flash()` files `m` under: the inverse of {@link matcher}. */
function typeOf(m: Message): string {
  if (m.level === LEVELS.info && m.extraTags !== '') return m.extraTags;
  return m.levelTag === '' ? String(m.level) : m.levelTag;
}

function texts(type: string, message: unknown, args: unknown[]): string[] {
  if (typeof message === 'string') return [args.length > 0 ? format(message, ...args) : message];
  if (Array.isArray(message) && args.length === 0 && message.every((m) => typeof m === 'string'))
    return message;
  throw new MessagesError(
    'ERR_KOA_MESSAGES_ARGUMENT',
    `ctx.flash('${type}', message) message must be a string (with util.format arguments) or an array of strings, got ${describeValue(message)}${Array.isArray(message) && args.length > 0 ? ' with format arguments' : ''}.`,
  );
}

/** `ctx.flash(...)` for one request's store. Every argument is checked before anything changes. */
export function flash(request: RequestMessages, args: unknown[]): unknown {
  // Trailing `undefined`s do not count: `req.flash(type, undefined)` reads, as in connect-flash.
  let count = args.length;
  while (count > 0 && args[count - 1] === undefined) count--;
  if (count === 0) {
    // Taken, not iterated: as in connect-flash, a second ctx.flash() (or ctx.ajax()) in the same
    // request finds nothing, where iterating ctx.messages twice shows the messages twice (Django).
    const all: Record<string, string[]> = {};
    for (const m of request.take(ALL)) {
      const type = typeOf(m);
      // An own property whatever the name: `constructor` (a tag from stored data) must not find
      // Object.prototype's, and `__proto__` must not set the prototype.
      if (!Object.hasOwn(all, type))
        Object.defineProperty(all, type, {
          value: [],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      all[type]!.push(m.message);
    }
    return all;
  }
  const type = checkType(args[0]);
  if (count === 1) return request.take(matcher(type)).map((m) => m.message);
  const list = texts(type, args[1], args.slice(2, count));
  const level = STANDARD.get(type);
  for (const text of list) {
    if (level === undefined) request.add('info', text, { extraTags: type });
    else request.add(level, text);
  }
  const match = matcher(type);
  return request.pending().filter(match).length;
}
