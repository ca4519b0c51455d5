import { expect } from 'chai';

import { CASES, measure } from './bundle-size.js';

// Issue 28: a page pays for what it uses. The bundle is of the versions package-lock.json pins
// (esbuild, zod), so it has one size; `npm run size` prints the table the docs quote.
describe('what koa-messages/client costs a page (esbuild, ESM, minified, gzip -9)', function () {
  this.timeout(60_000);

  for (const { name, code, limit } of CASES) {
    it(`${name}: at most ${limit / 1024} KiB gzip, built from our dist/ and zod's core only`, async () => {
      const { gzip, inputs } = await measure(code);
      // Anything else (classic zod, zod/mini's methods, zod's locales, a Node module) is a regression.
      const strangers = inputs.filter(
        (path) =>
          !/^dist\/(client|shared)\/[a-z-]+\.js$/.test(path) &&
          !/^node_modules\/zod\/v4\/core\/[a-z-]+\.js$/.test(path),
      );
      expect(strangers, 'files in the bundle that should not be there').to.deep.equal([]);
      expect(gzip, `${name}: ${gzip} bytes gzip`).to.be.at.most(limit);
    });
  }
});
