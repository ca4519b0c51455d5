/**
 * The Node matrix (`npm run test:node`, part of `npm test`; docs/node.md): for each leg of
 * test/node/legs.ts, fetch the `node` binary the npm registry ships for that line (`npx -p node@24`,
 * kept in npm's cache, so only the first run downloads: about 5 s a line), check its version, and
 * run the runtime suites (test/node/mocharc.json) on it. A leg that does not run on the Node it
 * asked for fails twice: here, before mocha starts, and in test/node/version.test.ts.
 *
 * `npm run test:node -- 22 26` runs only those legs.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { type Leg, LEGS, onLeg } from './legs.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MOCHA = fileURLToPath(new URL('../../node_modules/mocha/bin/mocha.js', import.meta.url));

/** The path of the leg's node binary, fetched through npx (from npm's cache when it has it). */
async function binary(leg: Leg): Promise<{ path: string; version: string }> {
  const { stdout } = await run(
    'npx',
    [
      '--yes',
      '--prefer-offline',
      '--package',
      `node@${leg.node}`,
      '--',
      'node',
      '-p',
      'process.execPath + " " + process.version',
    ],
    { cwd: ROOT },
  );
  const [path = '', version = ''] = stdout.trim().split(' ');
  return { path, version };
}

async function runLeg(leg: Leg): Promise<string> {
  const started = Date.now();
  const { path, version } = await binary(leg);
  if (!onLeg(version, leg.node)) {
    return `npx -p node@${leg.node} gave ${version} (${path}): not that line`;
  }
  const fetched = Date.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KOA_MESSAGES_NODE: leg.node,
    KOA_MESSAGES_I18NEXT: leg.i18next,
  };
  delete env['NODE_OPTIONS'];
  delete env['NODE_V8_COVERAGE'];
  console.log(`\n# Node ${version} (node@${leg.node}), i18next ${leg.i18next}: ${path}`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(path, [MOCHA, '--config', 'test/node/mocharc.json'], {
      cwd: ROOT,
      env,
      stdio: 'inherit',
    });
    child.once('exit', resolve);
  });
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `# Node ${version}: ${code === 0 ? 'passed' : `FAILED (exit ${String(code)})`}; binary ${seconds(fetched - started)}, tests ${seconds(Date.now() - fetched)}`,
  );
  return code === 0 ? '' : `Node ${version} (node@${leg.node}): mocha exited with ${String(code)}`;
}

const wanted = process.argv.slice(2);
const legs = wanted.length === 0 ? LEGS : LEGS.filter((l) => wanted.includes(l.node));
if (legs.length === 0) {
  console.error(
    `No leg named ${wanted.join(', ')}; the legs are ${LEGS.map((l) => l.node).join(', ')}.`,
  );
  process.exit(2);
}
const failures: string[] = [];
for (const leg of legs) {
  const why = await runLeg(leg);
  if (why !== '') failures.push(why);
}
if (failures.length > 0) {
  console.error(`\nThe Node matrix failed:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`\nThe Node matrix passed: ${legs.map((l) => `node@${l.node}`).join(', ')}.`);
