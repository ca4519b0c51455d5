import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { expect } from 'chai';
import Koa from 'koa';
import session from 'koa-session';
import request from 'supertest';
import { z } from 'zod';

import { TEST_KEYS } from './helpers/app.js';

const run = promisify(execFile);
const rootUrl = new URL('../', import.meta.url);
const root = fileURLToPath(rootUrl);

// Through the package name, as a user imports it: Node resolves these via package.json `exports`
// to the built files in dist/ (`npm test` builds first). The specifiers are variables so that the
// type-checker keeps reading src/ here; typings/ checks the built .d.ts.
const entry = 'koa-messages';
const clientEntry = 'koa-messages/client';

describe('the published package', () => {
  it('serves koa-messages and koa-messages/client from dist through the exports map', async () => {
    const { resolve } = createRequire(import.meta.url);
    expect(resolve(entry)).to.match(/\/dist\/index\.js$/);
    expect(resolve(clientEntry)).to.match(/\/dist\/client\/index\.js$/);
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(pkg.exports)).to.include.members([
      '.',
      './client',
      './testing',
      './package.json',
    ]);
  });

  it('runs the seed example end to end from the built files', async () => {
    const { messages, LEVELS } = (await import(entry)) as typeof import('../src/index.js');
    const { ajaxResponseSchema } = (await import(
      clientEntry
    )) as typeof import('../src/client/index.js');
    expect(LEVELS.success).to.equal(25);

    const app = new Koa();
    app.keys = TEST_KEYS;
    app.use(session(app));
    app.use(messages());
    app.use((ctx) => {
      if (ctx.path === '/vote') {
        ctx.messages.success('Vote recorded.');
        ctx.status = 303;
        ctx.redirect('/result');
      } else {
        ctx.ajax({ votes: 3 }, true);
      }
    });
    const a = request.agent(app.callback());
    await a.post('/vote').expect(303);
    const res = await a.get('/result').expect(200);
    expect(res.text).to.equal(
      '{"votes":3,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
    );
    expect(
      ajaxResponseSchema(z.object({ votes: z.number() })).parse(JSON.parse(res.text)).messages,
    ).to.have.length(1);
    expect((await a.get('/result')).text).to.equal('{"votes":3,"success":true}');
  });

  it('ships declaration files for both entries', async () => {
    const index = await readFile(new URL('../dist/index.d.ts', import.meta.url), 'utf8');
    const context = await readFile(new URL('../dist/context.d.ts', import.meta.url), 'utf8');
    const client = await readFile(new URL('../dist/client/index.d.ts', import.meta.url), 'utf8');
    expect(index).to.contain('export { messages }');
    expect(context).to.contain("declare module 'koa'");
    expect(context).to.contain('interface BaseContext');
    expect(client).to.contain('ajaxResponseSchema');
  });

  it('keeps the browser entry and what it shares with the server free of Node and Koa imports', async () => {
    const listing = async (dir: string) =>
      (await readdir(new URL(`../dist/${dir}/`, import.meta.url)))
        .filter((f) => f.endsWith('.js'))
        .sort()
        .map((f) => `${dir}/${f}`);
    const files = [...(await listing('client')), ...(await listing('shared'))];
    expect(files).to.deep.equal([
      'client/fetch-ajax.js',
      'client/index.js',
      'client/issues.js',
      'client/live.js',
      'client/on-messages.js',
      'shared/errors.js',
      'shared/levels.js',
      'shared/wire.js',
    ]);
    for (const file of files) {
      const code = await readFile(new URL(`../dist/${file}`, import.meta.url), 'utf8');
      const imports = [...code.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
      // Only zod's core (never classic zod: issue 28), and relative imports that stay inside client/ and shared/.
      expect(
        imports.every(
          (s) =>
            s === 'zod/v4/core' ||
            /^\.\/[\w-]+\.js$/.test(s!) ||
            /^\.\.\/shared\/[\w-]+\.js$/.test(s!),
        ),
        `${file} imports ${imports.join(', ')}`,
      ).to.equal(true);
    }
  });

  it('ships the sources its source maps and declaration maps point at', async function () {
    this.timeout(120_000);
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
    });
    const files = new Set(
      (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path),
    );
    const maps = [...files].filter((f) => f.endsWith('.map'));
    expect(maps.length).to.be.greaterThan(10);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(new URL(map, rootUrl), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        if (!files.has(target)) missing.push(`${map} -> ${target}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
