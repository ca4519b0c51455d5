import { createRequire } from 'node:module';

import { expect } from 'chai';
import Koa from 'koa';

// Which Koa this process runs: `npm test` runs the runtime suites once per major, and this proves
// the second run really got Koa 2 (KOA_MAJOR is set by the run, see test/koa2/mocharc.json).
const require = createRequire(import.meta.url);
const version = (name: string): string =>
  (require(`${name}/package.json`) as { version: string }).version;

describe('the Koa major under test', () => {
  it('is the one this mocha run was started for', () => {
    const expected = process.env.KOA_MAJOR ?? '3';
    // Koa 3 dropped `ctx.redirect('back')` for `ctx.back()`: the loaded class tells them apart.
    const hasBack = typeof (new Koa().context as { back?: unknown }).back === 'function';
    expect({ major: hasBack ? '3' : '2' }).to.deep.equal({ major: expected });
    expect(version(expected === '2' ? 'koa2' : 'koa').split('.')[0]).to.equal(expected);
  });
});
