// Zod defines two globals when first loaded; loaded here, before mocha's leak check starts, so
// that this file passes alone as in the whole run (where an earlier file has loaded it).
import 'zod';

import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { expect } from 'chai';

// Through the package name, as a user imports it (`npm test` builds dist/ first).
const redisEntry = 'koa-messages/redis';

async function filesUnder(dir: URL): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(js|d\.ts)$/.test(e.name))
    .map((e) => `${e.parentPath}/${e.name}`);
}

describe('the koa-messages/redis entry', () => {
  it('resolves to dist/redis.js with its declarations, and exports redisStorage', async () => {
    const { resolve } = createRequire(import.meta.url);
    expect(resolve(redisEntry)).to.match(/\/dist\/redis\.js$/);
    const mod = (await import(redisEntry)) as Record<string, unknown>;
    expect(Object.keys(mod).sort()).to.deep.equal([
      'redisOptionsSchema',
      'redisOutbox',
      'redisStorage',
    ]);
    const types = await readFile(new URL('../../dist/redis.d.ts', import.meta.url), 'utf8');
    expect(types).to.contain('redisStorage');
  });

  it('imports neither ioredis nor node-redis anywhere, declarations included: the client types are structural', async () => {
    const dist = new URL('../../dist/', import.meta.url);
    const mentioning: string[] = [];
    for (const file of await filesUnder(dist)) {
      const code = await readFile(file, 'utf8');
      if (/^\s*(import|export)\b[^\n]*['"](ioredis|redis|@redis\/[a-z]+)['"]/m.test(code))
        mentioning.push(file.slice(file.indexOf('/dist/') + 6));
    }
    expect(mentioning).to.deep.equal([]);
  });
});
