import { AssertionError } from 'node:assert';

import { z } from 'zod';

import { parseOptions, type Same } from '../config/parse.js';
import { describeValue, MessagesError } from '../errors.js';
import { DEFAULT_TAGS, type Level, toLevel } from '../message/level.js';
import { LEVELS } from '../shared/levels.js';
import {
  type MessagesOfOptions,
  type ReadMessage,
  readOptionsShape,
  readResponse,
  type ResponseLike,
} from './read-response.js';

/** One expected message: its text alone, or with its tags, or with its level. */
export type ExpectedMessage =
  | string
  | { readonly message: string; readonly tags: string }
  | { readonly message: string; readonly level: Level };

/** Options of `assertMessages()`. */
export interface AssertMessagesOptions extends MessagesOfOptions {
  /** Whether the order must match. @default true */
  ordered?: boolean | undefined;
}

const assertOptionsSchema = z.strictObject({
  ...readOptionsShape,
  ordered: z.boolean({ error: 'must be a boolean' }).default(true),
});
const exact: Same<z.input<typeof assertOptionsSchema>, AssertMessagesOptions> = true;
void exact;

/** What an expected item checks: the level as an integer. */
interface Check {
  message: string;
  tags?: string;
  level?: number;
  levelAs?: 'name' | 'number';
}

/** One message as a diff shows it: the keys the expected item checks, the level as it was given. */
interface Shown {
  message: string;
  tags?: string;
  level?: string | number;
}

/** A standard level's name from its integer (`30` is `'warning'`). */
const NAME_OF: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(LEVELS).map(([name, level]) => [level, name]),
);
/** The standard level whose default tag is `tag` (`'warning'` is 30). */
const LEVEL_OF_TAG: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(DEFAULT_TAGS).map(([level, tag]) => [tag, Number(level)]),
);

function toCheck(item: unknown, index: number): Check {
  const bad = (why: string): never => {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `assertMessages() expected[${index}] ${why}; use a string, { message, tags } or { message, level }.`,
    );
  };
  if (typeof item === 'string') return { message: item };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return bad(`is ${describeValue(item)}`);
  }
  const { message, tags, level, ...rest } = item as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) bad(`has unknown key ${unknown.map((k) => `\`${k}\``).join(', ')}`);
  if (typeof message !== 'string')
    bad(`has a \`message\` that is ${describeValue(message)}, not a string`);
  if ((tags === undefined) === (level === undefined))
    bad('must have exactly one of `tags` and `level`');
  if (tags !== undefined) {
    if (typeof tags !== 'string') bad(`has \`tags\` that are ${describeValue(tags)}, not a string`);
    return { message: message as string, tags: tags as string };
  }
  let numeric: number;
  try {
    numeric = toLevel(level, `assertMessages() expected[${index}] level`);
  } catch (error) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      (error as Error).message.replace(/^koa-messages: /, '').replace(/\.$/, '') +
        '; use a string, { message, tags } or { message, level }.',
      { cause: error },
    );
  }
  return {
    message: message as string,
    level: numeric,
    levelAs: typeof level === 'string' ? 'name' : 'number',
  };
}

/** A level written the way the expected item wrote it: `'success'` for a name, else `25`. */
const levelShown = (level: number, check: Check): string | number =>
  check.levelAs === 'name' ? (NAME_OF[level] ?? level) : level;

/** The expected item as the diff shows it. */
function shownExpected(check: Check): Shown {
  if (check.level === undefined)
    return { message: check.message, ...(check.tags === undefined ? {} : { tags: check.tags }) };
  return { message: check.message, level: levelShown(check.level, check) };
}

/**
 * The actual message seen through what `check` looks at, so the diff shows only those keys: a
 * `{ message, level }` item is compared (and shown) with the actual level, not the tags.
 */
function view(actual: ReadMessage, check: Check): Check {
  if (check.tags !== undefined) return { message: actual.message, tags: actual.tags };
  if (check.level !== undefined) {
    // A JSON body has no level: the level's tag is the last of `tags` (Django puts it last).
    const level = actual.level ?? LEVEL_OF_TAG[actual.tags.split(' ').pop() ?? ''];
    if (level !== undefined)
      return { message: actual.message, level, levelAs: check.levelAs ?? 'number' };
    // No standard level tag (a custom level, or tags changed by the app): show what there is.
    return { message: actual.message, tags: actual.tags };
  }
  return { message: actual.message };
}

/** An actual message (already seen through {@link view}) as the diff shows it. */
function shownActual(seen: Check): Shown {
  if (seen.level !== undefined)
    return { message: seen.message, level: levelShown(seen.level, seen) };
  return { message: seen.message, ...(seen.tags === undefined ? {} : { tags: seen.tags }) };
}

const same = (a: Check, b: Check): boolean =>
  a.message === b.message && a.tags === b.tags && a.level === b.level;

function compare(actual: ReadMessage[], checks: Check[], ordered: boolean): void {
  let ok = actual.length === checks.length;
  let shown: Shown[];
  if (ordered) {
    const seen = actual.map((m, i) =>
      i < checks.length ? view(m, checks[i]!) : { message: m.message, tags: m.tags },
    );
    ok &&= seen.every((v, i) => same(v, checks[i]!));
    shown = seen.map(shownActual);
  } else {
    // Greedy matching is exact here: every check is "equal on these keys", so it is a bipartite
    // match of equal items, where the first free equal item is as good as any other.
    const free = actual.slice();
    shown = [];
    for (const check of checks) {
      const at = free.findIndex((m) => same(view(m, check), check));
      if (at < 0) {
        ok = false;
        continue;
      }
      shown.push(shownExpected(check));
      free.splice(at, 1);
    }
    ok &&= free.length === 0;
    if (!ok) shown = actual.map((m) => ({ message: m.message, tags: m.tags }));
  }
  if (!ok) {
    throw new AssertionError({
      message: `koa-messages: the response carried other messages than expected${ordered ? '' : ' (in any order)'}.`,
      actual: shown,
      expected: checks.map(shownExpected),
      operator: 'deepStrictEqual',
    });
  }
}

/**
 * Assert the messages a response carried (Django's `assertMessages`), read as {@link messagesOf}
 * reads them. `expected` items are strings (the text only), `{ message, tags }` or
 * `{ message, level }` (a level name or integer).
 *
 * @param options - `ordered` (`true`), and `keys`/`cookieName` as for `messagesOf()`.
 * @throws {AssertionError} (`node:assert`, shown as a diff by mocha, node:test, vitest and jest) when
 *   the messages differ, or the response cannot be read.
 * @throws {TypeError} when `expected` or the options have the wrong shape: checked before the
 *   response is read.
 * @example
 * assertMessages(await agent.get('/show'), [{ message: 'Saved.', level: 'success' }]);
 */
export function assertMessages(
  response: Response,
  expected: readonly ExpectedMessage[],
  options?: AssertMessagesOptions,
): Promise<void>;
export function assertMessages(
  response: ResponseLike,
  expected: readonly ExpectedMessage[],
  options?: AssertMessagesOptions,
): void;
export function assertMessages(
  response: ResponseLike | Response,
  expected: readonly ExpectedMessage[],
  options?: AssertMessagesOptions,
): void | Promise<void> {
  if (!Array.isArray(expected)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `assertMessages() expected must be an array of messages, got ${describeValue(expected)}.`,
    );
  }
  const checks = expected.map(toCheck);
  const { keys, cookieName, ordered } = parseOptions(
    assertOptionsSchema,
    options,
    'assertMessages()',
    'ERR_KOA_MESSAGES_ARGUMENT',
  );
  const actual = readResponse(
    response,
    {
      ...(keys === undefined ? {} : { keys }),
      ...(cookieName === undefined ? {} : { cookieName }),
    },
    'assertMessages()',
  );
  if (Array.isArray(actual)) return compare(actual, checks, ordered);
  return actual.then((list) => compare(list, checks, ordered));
}
