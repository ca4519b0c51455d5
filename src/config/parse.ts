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
 * @param code - `ERR_KOA_MESSAGES_ARGUMENT` for the options of a call (the test helpers'), rather
 *   than of a set-up.
 * @throws {MessagesError} `code` naming each bad or unknown option.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  caller: string,
  code: 'ERR_KOA_MESSAGES_OPTION' | 'ERR_KOA_MESSAGES_ARGUMENT' = 'ERR_KOA_MESSAGES_OPTION',
): z.output<S> {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MessagesError(
      code,
      `${caller.replace(/\(\)$/, '(options)')} takes an options object, got ${describeValue(options)}.`,
    );
  }
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw optionsError(caller, parsed.error, [], code);
  return parsed.data;
}
