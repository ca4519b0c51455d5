import type { z } from 'zod';

import { describeValue, MessagesError, optionsError } from '../errors.js';

/**
 * `true` when `A` and `B` accept the same values, `false` otherwise. Every options type is pinned to
 * its schema with it, so the documented interface and the runtime check cannot drift apart:
 *
 * ```ts
 * const exact: Same<z.input<typeof cookieOptionsSchema>, CookieOptions> = true;
 * ```
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * The one way options are validated: an options object (or nothing, for all defaults) parsed by
 * the factory's schema, every issue named in one `MessagesError`.
 *
 * @param caller - the function, as the error names it: `'cookieStorage()'`.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` naming each bad or unknown option.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  caller: string,
): z.output<S> {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `${caller.replace(/\(\)$/, '(options)')} takes an options object, got ${describeValue(options)}.`,
    );
  }
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw optionsError(caller, parsed.error);
  return parsed.data;
}
