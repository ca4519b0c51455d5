import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';

const script = fileURLToPath(new URL('../../bench/inprocess.ts', import.meta.url));

/**
 * The in-process bench in a tiny run: that it runs and prints its tables and budget lines, and that
 * its exit code says whether a budget line failed. It times nothing here (a speed is a benchmark,
 * never a test): which lines pass depends on the machine, so only their agreement with the exit
 * code is checked. It uses the dist/ that `npm test` built (`--no-build`).
 */
describe('bench:inprocess (a tiny run)', function () {
  this.timeout(60_000);

  it('prints the untouched-request and session-cycle tables, and exits 1 exactly when a budget line fails', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', script, '--no-build', '--rounds=2', '--requests=50', '--cycles=5'],
          { encoding: 'utf8' },
          (error, stdout) =>
            resolve({ code: error === null ? 0 : ((error.code as number | null) ?? null), stdout }),
        );
      },
    );
    for (const row of [
      '| the bare app (handler only): the zero | 0 (',
      "| koa-session's own middleware | ",
      '| koa-session again, a second app (A/A control) | ',
      '| `messages()`, session storage, over koa-session | ',
      "| `messages({ storage: 'cookie' })` over the bare app | ",
      "| `messages({ storage: 'fallback' })` over koa-session | ",
      "| `messages({ storage: 'memory' })` over the bare app | ",
      '| `redisStorage()`, no visitor cookie, over the bare app | ',
      'A/A control (koa-session in a second app, against the first): ',
      '| hand-written flash on `ctx.session` (the floor of budget (b)) | ',
      "| koa-messages 'session' | ",
      'A/A control (the floor in a second app, against the first): ',
    ])
      expect(stdout).to.include(row);
    const lines = stdout
      .split('\n')
      .filter((l) => /^- (PASS|FAIL|TIE|SKIP) \(in process\)/.test(l));
    // One per storage and the Redis "nothing sent" check.
    expect(lines).to.have.length(6);
    const failed = lines.some((l) => l.startsWith('- FAIL'));
    expect(code).to.equal(failed ? 1 : 0);
  });
});
