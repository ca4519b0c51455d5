import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { expect } from 'chai';
import ts from 'typescript';

import { createScratchApp, type ScratchApp } from '../helpers/scratch-app.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// koa-messages is ESM only; CommonJS apps load it with require(), which Node runs without a flag
// from 20.19 and 22.12 (docs/node.md). This runs on every leg of the Node matrix, with that leg's
// node, from the packed package in an app outside the repository whose package.json has no "type".
const ENTRIES = [
  'koa-messages',
  'koa-messages/client',
  'koa-messages/redis',
  'koa-messages/testing',
];

/** What `require()` of an ES module prints on this Node: nothing, but on 22.12.x one warning. */
function expectedStderr(): RegExp {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major === 22 && minor === 12
    ? /^\(node:\d+\) ExperimentalWarning: CommonJS module .* is loading ES Module .* using require\(\)\./
    : /^$/;
}

/** Run a script of the app with this process's node, without the test run's loaders. */
async function node(app: ScratchApp, file: string): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NODE_OPTIONS'];
  delete env['NODE_V8_COVERAGE'];
  return run(process.execPath, [file], { cwd: app.dir, env });
}

describe(`a CommonJS app on Node ${process.version}`, function () {
  this.timeout(120_000);
  let app: ScratchApp;

  before(async () => {
    app = await createScratchApp(
      ROOT,
      ['koa', 'koa-session', 'zod', 'ioredis', 'redis', '@types/koa', '@types/node'],
      { type: 'commonjs' },
    );
  });
  after(async () => {
    if (app) await rm(app.dir, { recursive: true, force: true });
  });

  it('has a package.json without "type", so .js files are CommonJS', async () => {
    const pkg = JSON.parse(await readFile(join(app.dir, 'package.json'), 'utf8')) as object;
    expect(pkg).not.to.have.property('type');
  });

  it('require()s every entry, with what each exports, printing nothing unexpected', async () => {
    const script = [
      `const entries = ${JSON.stringify(ENTRIES)};`,
      'const out = {};',
      'for (const name of entries) out[name] = Object.keys(require(name)).sort();',
      "out.session = typeof require('koa-session').default;",
      'console.log(JSON.stringify(out));',
    ].join('\n');
    await writeFile(join(app.dir, 'entries.js'), `${script}\n`);
    const { stdout, stderr } = await node(app, 'entries.js');
    const out = JSON.parse(stdout) as Record<string, string[]>;
    expect(out['koa-messages']).to.include.members(['messages', 'LEVELS', 'MessagesError']);
    expect(out['koa-messages/client']).to.include.members(['ajax', 'ajaxResponseSchema']);
    expect(out['koa-messages/redis']).to.include.members(['redisStorage']);
    expect(out['koa-messages/testing']).to.include.members(['assertMessages', 'messagesOf']);
    // koa-session 7's CommonJS export is { default }: docs/koa2.md says so.
    expect(out['session']).to.equal('function');
    expect(stderr).to.match(expectedStderr());
  });

  it('type-checks and runs a TypeScript CommonJS app ("module": "nodenext", no "type": "module")', async () => {
    const code = [
      "import Koa from 'koa';",
      "import { messages } from 'koa-messages';",
      "import { ajaxResponseSchema } from 'koa-messages/client';",
      "import { redisStorage } from 'koa-messages/redis';",
      "import { messagesOf } from 'koa-messages/testing';",
      "import session from 'koa-session';",
      '',
      'const app = new Koa();',
      "app.keys = ['example-key-change-me'];",
      'app.use(session(app));',
      'app.use(messages());',
      'app.use((ctx) => {',
      "  if (ctx.method === 'POST') {",
      "    ctx.messages.success('Saved.');",
      '    ctx.status = 303;',
      "    ctx.redirect('/');",
      '  } else {',
      '    ctx.ajax({ page: 1 }, true);',
      '  }',
      '});',
      '',
      'async function main(): Promise<void> {',
      "  const server = app.listen(0, '127.0.0.1');",
      "  await new Promise((resolve) => server.once('listening', resolve));",
      '  const { port } = server.address() as { port: number };',
      '  const base = `http://127.0.0.1:${port}/`;',
      "  const post = await fetch(base, { method: 'POST', redirect: 'manual' });",
      "  const cookie = post.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');",
      '  const page = await fetch(base, { headers: { cookie } });',
      '  const shown = await messagesOf(page);',
      '  server.close();',
      '  console.log(',
      '    JSON.stringify({',
      '      shown,',
      '      client: typeof ajaxResponseSchema,',
      '      redis: typeof redisStorage,',
      '      moduleType: typeof module,',
      '    }),',
      '  );',
      '}',
      'void main();',
    ].join('\n');
    await writeFile(join(app.dir, 'app.ts'), `${code}\n`);
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      outDir: join(app.dir, 'out'),
    };
    const program = ts.createProgram({ rootNames: [join(app.dir, 'app.ts')], options });
    const emitted = program.emit();
    const problems = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    );
    expect(problems).to.deep.equal([]);
    const js = await readFile(join(app.dir, 'out', 'app.js'), 'utf8');
    expect(js).to.contain('require("koa-messages")');
    const { stdout, stderr } = await node(app, join('out', 'app.js'));
    expect(JSON.parse(stdout)).to.deep.equal({
      shown: [{ message: 'Saved.', tags: 'success' }],
      client: 'function',
      redis: 'function',
      moduleType: 'object',
    });
    expect(stderr).to.match(expectedStderr());
  });
});
