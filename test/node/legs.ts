/**
 * The Node matrix (docs/node.md): one leg per maintained Node line, plus the oldest Node 20 the
 * package supports. Each leg runs the runtime suites (test/node/mocharc.json) on the `node` binary
 * the npm registry ships for that line (`npx -p node@<node>`); the whole suite runs once, on the
 * Node that runs `npm test`.
 *
 * `node` is an npm version range of the `node` package: `'20.19'` is the newest 20.19.x, `'24'` the
 * newest 24.x. `i18next` is the i18next major the leg's translation tests load
 * (test/node/i18next.ts): 27 needs Node 22, so Node 20 keeps 26.
 */
export interface Leg {
  readonly node: string;
  readonly i18next: '26' | '27';
}

export const LEGS: readonly Leg[] = [
  { node: '20.19', i18next: '26' },
  { node: '22', i18next: '27' },
  { node: '24', i18next: '27' },
  { node: '26', i18next: '27' },
];

/** Whether `version` (`process.version`, `v24.1.0`) belongs to the leg's range (`24`, `20.19`). */
export const onLeg = (version: string, node: string): boolean => version.startsWith(`v${node}.`);
