import type { z } from 'zod';

import { MessagesError } from './shared/errors.js';

export {
  describeValue,
  isMessagesError,
  MESSAGES_ERROR_CODES,
  MessagesError,
  type MessagesErrorCode,
} from './shared/errors.js';

/**
 * One Zod issue as a phrase that names the option in backticks.
 *
 * @param prefix - the path of the object being parsed (`['cookie']` for the cookie options).
 */
function formatIssue(issue: z.core.$ZodIssue, prefix: readonly string[] = []): string {
  const path = [...prefix, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    // Nested objects (`cookie: {…}`) name the full path: `cookie.maxAge`.
    return `unknown option ${issue.keys.map((key) => `\`${[...path, key].join('.')}\``).join(', ')}`;
  }
  if (issue.code === 'invalid_key') {
    const key = path.pop();
    return `option \`${path.join('.')}\` has key \`${key}\`, which is not an integer level or a level name`;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  const name = path.join('.');
  // Our own messages read as "must …"; Zod's ("expected boolean, received string") follow a colon.
  if (name === '') return message;
  return message.startsWith('must')
    ? `option \`${name}\` ${message}`
    : `option \`${name}\`: ${message}`;
}

/** The error for a failed options parse, listing every issue. */
export function optionsError(
  caller: string,
  error: z.ZodError,
  prefix: readonly string[] = [],
  code: 'ERR_KOA_MESSAGES_OPTION' | 'ERR_KOA_MESSAGES_ARGUMENT' = 'ERR_KOA_MESSAGES_OPTION',
): MessagesError {
  return new MessagesError(
    code,
    `invalid ${caller} options: ${error.issues.map((i) => formatIssue(i, prefix)).join('; ')}.`,
  );
}
