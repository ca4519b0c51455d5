import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

import { expect } from 'chai';

import { BUNDLE_FILE } from '../../example/app.js';
import { bundleClient } from '../../example/bundle.js';

describe('the demo page bundle', () => {
  it('is built from the page script, the shipped koa-messages/client and zod only: no Koa, no Node module', async () => {
    const meta = await bundleClient();
    const inputs = Object.keys(meta.inputs);
    const ours = inputs.filter((path) => !path.startsWith('node_modules/zod/')).sort();
    // `npm test` builds dist/ first; the page imports the package by name, so it gets the built files.
    expect(ours).to.deep.equal([
      'dist/client/fetch-ajax.js',
      'dist/client/index.js',
      'dist/client/issues.js',
      'dist/client/live.js',
      'dist/client/on-messages.js',
      'dist/shared/errors.js',
      'dist/shared/levels.js',
      'dist/shared/wire.js',
      'example/client/main.ts',
    ]);
    const external = Object.values(meta.inputs).flatMap((input) =>
      input.imports.filter((i) => i.external).map((i) => i.path),
    );
    expect(external).to.deep.equal([]);

    const code = await readFile(BUNDLE_FILE, 'utf8');
    expect(code).not.to.match(/\bnode:|\brequire\(|from\s*["']koa/);
  });

  it('stays small enough for a page: under 12 KB gzip (the script is on zod/mini)', async () => {
    await bundleClient();
    const gzip = gzipSync(await readFile(BUNDLE_FILE), { level: 9 }).length;
    // The measured size is in docs/api.md ("Bundle size"); this only catches a regression such as
    // classic zod or zod's locales coming back (test/client/size.test.ts holds the client's own limits).
    expect(gzip).to.be.below(12_000);
  });
});
