import { describeValue, MessagesError } from '../errors.js';
import { LEVEL_NAMES, type LevelName, LEVELS } from '../shared/levels.js';

/**
 * A level: a standard name, `'warn'` (the same as `'warning'`), or any integer.
 *
 * `'warn'` is accepted because connect-flash apps (and `ctx.flash`) spell it so, and most loggers
 * do: an app moving over should not find `ctx.flash('warn', …)` working and `level: 'warn'` not.
 */
export type Level = LevelName | 'warn' | number;

/** Level names with their integers, `warn` included: the names every level argument takes. */
export const LEVEL_ALIASES: Readonly<Record<string, number>> = Object.freeze({
  ...LEVELS,
  warn: LEVELS.warning,
});

/** Whether `name` is a level name (`'warn'` included), as an own property (never `'toString'`). */
export const isLevelName = (name: unknown): name is LevelName | 'warn' =>
  typeof name === 'string' && Object.hasOwn(LEVEL_ALIASES, name);

/** Django's DEFAULT_TAGS: the tag each standard level adds to a message's `tags`. */
export const DEFAULT_TAGS: Readonly<Record<number, string>> = Object.freeze({
  [LEVELS.debug]: 'debug',
  [LEVELS.info]: 'info',
  [LEVELS.success]: 'success',
  [LEVELS.warning]: 'warning',
  [LEVELS.error]: 'error',
});

/** `'debug', 'info', 'success', 'warning', 'error'`: what errors offer instead. */
export const NAME_LIST = LEVEL_NAMES.map((name) => `'${name}'`).join(', ');

/**
 * Turn a level name or integer into the integer.
 *
 * @param what - names the argument in the error, e.g. "ctx.messages.add() level".
 * @throws {TypeError} for an unknown name or a number that is not a safe integer.
 */
export function toLevel(level: unknown, what: string): number {
  if (typeof level === 'number') {
    if (Number.isSafeInteger(level)) return level;
    if (Number.isInteger(level)) {
      throw new MessagesError(
        'ERR_KOA_MESSAGES_ARGUMENT',
        `${what} must be a safe integer (at most 2^53 - 1 either side of 0), got ${level}.`,
      );
    }
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `${what} must be an integer or a level name, got ${level}.`,
    );
  }
  if (typeof level === 'string') {
    // Own-property lookup: 'toString' or '__proto__' must not resolve to something on the prototype.
    if (isLevelName(level)) return LEVEL_ALIASES[level]!;
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `${what} '${level}' is not a level name; use one of ${NAME_LIST} or an integer.`,
    );
  }
  throw new MessagesError(
    'ERR_KOA_MESSAGES_ARGUMENT',
    `${what} must be an integer or a level name (${NAME_LIST}), got ${describeValue(level)}.`,
  );
}
