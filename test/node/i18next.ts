import { createRequire } from 'node:module';

import i18next26 from 'i18next';
import i18next27 from 'i18next27';

// The i18next the translation tests use: 26 (the `i18next` dev dependency) unless the Node matrix
// leg asks for 27 (the `i18next27` alias, which needs Node 22). test/node/version.test.ts checks
// that a leg got the one it asked for.
const wanted = process.env['KOA_MESSAGES_I18NEXT'] === '27' ? 'i18next27' : 'i18next';

/** i18next's default export, from the major this run tests. */
export const i18next: typeof i18next26 =
  wanted === 'i18next27' ? (i18next27 as unknown as typeof i18next26) : i18next26;

/** The version of the i18next package loaded, e.g. `27.2.10`. */
export const i18nextVersion = (
  createRequire(import.meta.url)(`${wanted}/package.json`) as { version: string }
).version;
