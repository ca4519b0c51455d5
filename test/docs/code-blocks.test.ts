/**
 * Every fenced code block of README.md, BENCHMARKS.md and docs/**\/*.md is true as written.
 *
 * What each block's info string means (docs/contributing/CONTRIBUTING-docs.md says the same for writers):
 *
 * - ```` ```ts ````: a complete module for Node, every import shown. Type-checked against the
 *   packed package in a scratch app outside the repository (strict, `noUncheckedIndexedAccess`,
 *   `exactOptionalPropertyTypes`, module/moduleResolution NodeNext, `"type": "module"`, Node types).
 * - ```` ```ts browser ````: a module for the page: the same, with the DOM lib and no Node types.
 * - The `ts` block under README's "Quick start" heading is also run: compiled, started with `PORT`,
 *   its routes called over HTTP, and every JSON comment in it (`// {"messages":[…]}`) must be an
 *   answer it really gave.
 * - ```` ```sh ````: commands. `npm install` lines may name only packages package.json declares
 *   (or the tarball `npm pack` makes), `npm start` / `npm test` / `npm run x` only scripts that
 *   exist, `npx x` only binaries of dev dependencies, and the files they name must exist; `npm ci`, `npm pack`,
 *   `npm pkg set`, `git clone`, `cd` pass.
 *   And they are run: in an empty app with the packed package, README's "Install" lines, then each
 *   page's `npm install` and `npm pkg set` lines, as written, with the real npm (from npm's cache when
 *   it has the packages, else the registry; `koa-messages` is the packed tarball). An install that
 *   fails there (ERESOLVE, say) fails for a reader too.
 *   Any other command fails: teach this test to check it, or show it as `text`.
 * - ```` ```js commonjs ````: a CommonJS module that exports a Koa app (`module.exports = app`).
 *   Run with node from the scratch app (as a `.cjs` file): a POST to `/`, then a GET with the
 *   cookies it set, and each JSON comment in it (`// {"messages":[…]}`) must be what the GET answered.
 * - ```` ```json ````: must parse as JSON.
 * - ```` ```html ````: every element opened is closed, in order (void elements such as `<input>` aside).
 * - ```` ```text ````: output or a format, shown as it is; not checked.
 * - Anything else (no language, `js`, …) fails: a block that cannot be checked should not exist.
 *
 * The scratch app's node_modules holds the packed koa-messages plus exactly the packages that the
 * docs' `npm install` lines name (symlinked from this repository's node_modules, so no network):
 * a block that imports a package no install line names fails, as it would for a reader.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { expect } from 'chai';
import request from 'supertest';
import ts from 'typescript';
import * as z from 'zod';

import {
  allCodeBlocks,
  type CodeBlock,
  extractCodeBlocks,
  extractLinks,
  headingAnchors,
  markdownFiles,
} from '../helpers/markdown.js';
import { createScratchApp, type ScratchApp } from '../helpers/scratch-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

const where = (b: CodeBlock) => `${b.file}:${b.line}`;
const blockName = (b: CodeBlock) => `${b.file.replace(/[^\w]/g, '_')}_L${b.line}.ts`;

/** The package names of one `npm install …` command's arguments (flags and versions removed). */
function installedNames(args: string[]): string[] {
  return args
    .filter((a) => !a.startsWith('-'))
    .map((a) => (a.startsWith('.') || a.startsWith('/') ? a : a.replace(/(.)@.*$/, '$1')));
}

/** The commands of an `sh` block: comments and blank lines dropped, `a && b` split. */
function commands(code: string): { line: number; words: string[] }[] {
  return code.split('\n').flatMap((text, i) =>
    text
      .replace(/(^|\s)#.*$/, '')
      .split('&&')
      .map((c) => c.trim().split(/\s+/).filter(Boolean))
      .filter((words) => words.length > 0)
      // `PORT=4000 npm start`: the command is what follows the variables.
      .map((words) => ({
        line: i + 1,
        words: words.slice(words.findIndex((w) => !/^\w+=/.test(w))),
      })),
  );
}

const INSTALL = new Set(['install', 'i', 'add']);

/** Why a sh command would mislead a reader, or `undefined` when it is fine. */
function checkCommand(words: string[], pkg: PackageJson): string | undefined {
  const [cmd, sub, ...rest] = words;
  const declared = {
    ...pkg.dependencies,
    ...pkg.peerDependencies,
    ...pkg.devDependencies,
  };
  if (cmd === 'npm' && sub !== undefined && INSTALL.has(sub)) {
    const tarball = `${pkg.name}-${pkg.version}.tgz`;
    const isTarball = (n: string) => n === tarball || n.endsWith(`/${tarball}`);
    const bad = installedNames(rest).filter(
      (n) => n !== pkg.name && !isTarball(n) && !(n in declared),
    );
    if (bad.length === 0) return undefined;
    return `it installs ${bad.join(', ')}, which package.json does not declare (peer or dev dependency; the packed tarball is ${tarball})`;
  }
  if (cmd === 'npm' && (sub === 'start' || sub === 'test')) {
    return sub in pkg.scripts ? undefined : `package.json has no \`${sub}\` script`;
  }
  if (cmd === 'npm' && sub === 'run') {
    const script = rest[0];
    return script !== undefined && script in pkg.scripts
      ? undefined
      : `package.json has no \`${script}\` script`;
  }
  if (cmd === 'npm' && (sub === 'ci' || sub === 'pack')) return undefined;
  if (cmd === 'npm' && sub === 'pkg' && rest[0] === 'set') return undefined;
  if (cmd === 'npx' && sub !== undefined) {
    if (!existsSync(join(ROOT, 'node_modules', '.bin', sub)))
      return `\`${sub}\` is not a binary of an installed dev dependency`;
    const missing = rest.filter(
      (a) => /^[\w.-]+\/[\w./-]+\.[jt]s$/.test(a) && !existsSync(join(ROOT, a)),
    );
    return missing.length === 0 ? undefined : `${missing.join(', ')} does not exist`;
  }
  if (cmd === 'cd' || (cmd === 'git' && sub === 'clone')) return undefined;
  return `this test does not know how to check \`${words.join(' ')}\`: add a rule to test/docs/code-blocks.test.ts, or show it in a \`text\` block`;
}

/**
 * The commands of a page that change what an app installs: `npm install <names…>` (a bare
 * `npm install` is in a clone of this repository) and `npm pkg set`, with the line they are on.
 */
function installCommands(block: CodeBlock): { line: number; words: string[] }[] {
  return commands(block.code).filter(
    ({ words: [cmd, sub, ...rest] }) =>
      cmd === 'npm' &&
      ((sub !== undefined && INSTALL.has(sub) && rest.some((w) => !w.startsWith('-'))) ||
        (sub === 'pkg' && rest[0] === 'set')),
  );
}

/** A wrong module per program (see {@link CANARY_ERRORS}). */
const CANARIES = {
  // Strict null checks with Node's types; the packed package's own types resolve (TS2322 twice).
  node: "import { escapeHtml } from 'koa-messages';\nexport const a: string = process.env['HOME'];\nexport const b: number = escapeHtml('x');\n",
  // The DOM lib is there (TS2322 on a real DOM property) and Node's types are not (TS2591).
  browser: 'document.title = 1;\nexport const c = process.argv;\n',
};
const CANARY_ERRORS = { node: [2322, 2322], browser: [2322, 2591] };

const VOID_ELEMENTS = new Set(
  'area base br col embed hr img input link meta source track wbr'.split(' '),
);

/** Why an HTML fragment's tags do not nest (`<b><i></b>`), or `undefined` when they do. */
function unbalancedHtml(code: string): string | undefined {
  const open: string[] = [];
  const html = code
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, '');
  for (const [, slash, tag = '', rest = ''] of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*)>/g)) {
    const name = tag.toLowerCase();
    if (slash === '') {
      if (!VOID_ELEMENTS.has(name) && !rest.endsWith('/')) open.push(name);
    } else if (open.pop() !== name) {
      return `</${name}> does not close the element opened last`;
    }
  }
  return open.length === 0 ? undefined : `<${open.join('>, <')}> never closed`;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; released before it is returned). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Fail with every problem on its own line (no diff of arrays), then how to fix them. */
function report(problems: string[], howToFix = ''): void {
  if (problems.length > 0) expect.fail(`\n${problems.join('\n\n')}\n\n${howToFix}`.trimEnd());
}

const HOW_TO_FIX =
  'Fix the block (or the code it documents) so that it compiles as written in a fresh app: every import shown, ' +
  'strict TypeScript, NodeNext; browser code is marked ```ts browser (see docs/contributing/CONTRIBUTING-docs.md).';

describe('the code blocks of README.md and docs/', function () {
  this.timeout(60_000);

  let pkg: PackageJson;
  let blocks: CodeBlock[];
  let app: ScratchApp;
  const names = new Map<string, CodeBlock>();

  before(async function () {
    pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    blocks = await allCodeBlocks(ROOT);
    // The scratch app gets the packages the docs tell a reader to install, and nothing else
    // (a name the repository has not installed is reported by the sh test, with its line).
    const wanted = blocks
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => commands(b.code))
      .filter(({ words }) => words[0] === 'npm' && INSTALL.has(words[1] ?? ''))
      .flatMap(({ words }) => installedNames(words.slice(2)));
    app = await createScratchApp(ROOT, wanted);
  });

  let failed = false;
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(async () => {
    // Kept after a failure, so that it can be reproduced: `cd <dir> && npx tsc -p .`.
    if (app && !failed) await rm(app.dir, { recursive: true, force: true });
  });

  it('finds the blocks, and each has a language this test checks', () => {
    expect(blocks.length).to.be.greaterThan(10);
    const bad = blocks
      .filter((b) => {
        if (b.lang === 'ts') return !b.flags.every((f) => f === 'browser');
        if (b.lang === 'js') return b.flags.join(' ') !== 'commonjs';
        return !['sh', 'json', 'html', 'text'].includes(b.lang) || b.flags.length > 0;
      })
      .map(
        (b) =>
          `${where(b)}: \`\`\`${[b.lang, ...b.flags].join(' ')} is not a kind of block this test checks; use ts, ts browser, sh, json, html or text (docs/contributing/CONTRIBUTING-docs.md)`,
      );
    report(bad);
  });

  it('type-checks every ts block as its own module against the packed package', async () => {
    const kinds = { node: [] as string[], browser: [] as string[] };
    for (const b of blocks.filter((b) => b.lang === 'ts')) {
      const name = blockName(b);
      names.set(name, b);
      await writeFile(join(app.dir, name), `${b.code}\n`);
      kinds[b.flags.includes('browser') ? 'browser' : 'node'].push(name);
    }
    // Canaries: one wrong line per program, which must be reported, so that a program that checks
    // nothing (no files, the wrong lib, no strictness) cannot pass.
    for (const [kind, code] of Object.entries(CANARIES)) {
      await writeFile(join(app.dir, `canary-${kind}.ts`), code);
      kinds[kind as keyof typeof CANARIES].push(`canary-${kind}.ts`);
    }
    const common = {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      moduleDetection: 'force',
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      skipLibCheck: true,
      noEmit: true,
    };
    const configs = {
      node: { compilerOptions: { ...common, lib: ['ES2022'], types: ['node'] }, files: kinds.node },
      browser: {
        compilerOptions: { ...common, lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] },
        files: kinds.browser,
      },
    };
    const problems: string[] = [];
    for (const [kind, config] of Object.entries(configs)) {
      if (config.files.length === 0) continue;
      const file = join(app.dir, kind === 'node' ? 'tsconfig.json' : 'tsconfig.browser.json');
      await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
      const parsed = ts.parseJsonConfigFileContent(config, ts.sys, app.dir, undefined, file);
      const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
      const canary = `canary-${kind}.ts`;
      const seen: number[] = [];
      for (const d of ts.getPreEmitDiagnostics(program)) {
        if (d.file?.fileName.endsWith(`/${canary}`)) seen.push(d.code);
        else problems.push(explain(d));
      }
      expect(seen, `${canary}: what the ${kind} program must reject`).to.deep.equal(
        CANARY_ERRORS[kind as keyof typeof CANARIES],
      );
    }
    report(problems, `${HOW_TO_FIX}\nThe scratch app is kept: ${app.dir}`);
  });

  /** One tsc diagnostic, placed at the Markdown line it comes from. */
  function explain(d: ts.Diagnostic): string {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return `error TS${d.code}: ${text}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const block = names.get(d.file.fileName.slice(app.dir.length + 1));
    if (!block) {
      return `${d.file.fileName}(${line + 1},${character + 1}): error TS${d.code}: ${text} (a file the blocks import, not a block)`;
    }
    const source = block.code.split('\n')[line] ?? '';
    // A package the scratch app lacks is one that no install line of the docs names.
    const hint =
      d.code === 2307 || d.code === 7016
        ? "\n    (the scratch app has only the packages that the docs' `npm install` lines name: show the install line on this page, in a ```sh block)"
        : '';
    return `${block.file}:${block.line + 1 + line}:${character + 1} (\`\`\`ts block at line ${block.line}): error TS${d.code}: ${text}\n    ${source.trim()}${hint}`;
  }

  it('runs the Quick start server and it answers as its comments say', async function () {
    const quick = blocks.filter(
      (b) => b.file === 'README.md' && b.heading === 'Quick start' && b.lang === 'ts',
    );
    expect(quick, 'README.md needs exactly one ```ts block under "## Quick start"').to.have.length(
      1,
    );
    const block = quick[0]!;
    const js = ts.transpileModule(block.code, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText;
    await writeFile(join(app.dir, 'quick-start.js'), js);

    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    delete env['NODE_V8_COVERAGE']; // the packed copy is not this repository's src/
    delete env['NODE_OPTIONS'];
    const child = spawn(process.execPath, ['quick-start.js'], { cwd: app.dir, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 50, 'running'))]);
        if (code !== 'running') {
          throw new Error(
            `${where(block)}: the Quick start exited (code ${String(code)}) instead of serving:\n${output}`,
          );
        }
        const up = await fetch(base).then(
          () => true,
          () => false,
        );
        if (up) break;
        if (Date.now() > deadline)
          throw new Error(
            `${where(block)}: the Quick start did not listen on PORT=${port}:\n${output}`,
          );
      }

      const bodies: string[] = [];
      const json = async (res: request.Response, status = 200) => {
        expect(res.status, res.text).to.equal(status);
        bodies.push(res.text);
        return res.text;
      };
      const browser = request.agent(base);
      expect(await json(await browser.post('/do-something'))).to.equal(
        '{"messages":[{"message":"Did something!","tags":"success"}]}',
      );
      expect(await json(await browser.post('/choices/1/vote'))).to.equal(
        '{"votes":3,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
      );
      expect(await json(await browser.post('/choices/9/vote'))).to.equal(
        '{"success":false,"messages":[{"message":"Invalid choice.","tags":"error"}]}',
      );
      // What the README's browser snippet does: ajax() takes the failure answer as a result.
      const client = (await import(
        pathToFileURL(join(app.dir, 'node_modules', pkg.name, 'dist/client/index.js')).href
      )) as typeof import('../../src/client/index.js');
      const failure = await client.ajax(
        `${base}/choices/9/vote`,
        { method: 'POST' },
        z.object({ votes: z.number() }),
      );
      expect(failure).to.deep.equal({
        success: false,
        data: {},
        messages: [{ message: 'Invalid choice.', tags: 'error' }],
        status: 200,
      });

      const redirect = await browser.post('/feedback');
      expect([redirect.status, redirect.headers['location']]).to.deep.equal([303, '/']);
      const page = await browser.get('/');
      expect(page.text).to.equal(
        '<ul class="messages"><li class="info">Thanks for your feedback.</li></ul>',
      );
      expect((await browser.get('/')).text).to.equal('<ul class="messages"></ul>');

      // The JSON the block's comments promise is what the server answered.
      const promised = [...block.code.matchAll(/\/\/\s*(\{.*\})\s*$/gm)].map((m) => m[1]!);
      expect(
        promised.length,
        'the Quick start shows its answers in `// {…}` comments',
      ).to.be.greaterThan(0);
      for (const text of promised) {
        expect(
          bodies,
          `${where(block)}: the comment ${text} is not an answer the server gave`,
        ).to.include(JSON.stringify(JSON.parse(text)));
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('runs the CommonJS blocks: a POST, then a GET that answers as their comments say', async () => {
    const cjs = blocks.filter((b) => b.lang === 'js' && b.flags.includes('commonjs'));
    expect(cjs.map((b) => b.file)).to.include('docs/koa2.md');
    const client = [
      "const app = require(require('node:path').resolve(process.argv[2]));",
      "const server = app.listen(0, '127.0.0.1', async () => {",
      '  const base = `http://127.0.0.1:${server.address().port}/`;',
      "  const post = await fetch(base, { method: 'POST', redirect: 'manual' });",
      "  const cookie = post.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');",
      '  const page = await fetch(base, { headers: { cookie } });',
      '  console.log(JSON.stringify({ post: post.status, get: await page.text() }));',
      '  server.close();',
      '});',
    ].join('\n');
    await writeFile(join(app.dir, 'commonjs-client.cjs'), `${client}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['NODE_V8_COVERAGE'];
    delete env['NODE_OPTIONS'];
    const problems: string[] = [];
    for (const b of cjs) {
      const name = blockName(b).replace(/\.ts$/, '.cjs');
      await writeFile(join(app.dir, name), `${b.code}\n`);
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['commonjs-client.cjs', `./${name}`],
        { cwd: app.dir, env },
      ).catch((error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? String(error),
      }));
      const promised = [...b.code.matchAll(/\/\/.*?(\{.*\})\s*$/gm)].map((m) => m[1]!);
      if (promised.length === 0)
        problems.push(`${where(b)}: shows no answer in a \`// {…}\` comment`);
      let got: { post: number; get: string } | undefined;
      try {
        got = JSON.parse(stdout) as { post: number; get: string };
      } catch {
        problems.push(`${where(b)}: did not run:\n${stdout}${stderr}`);
        continue;
      }
      if (stderr !== '') problems.push(`${where(b)}: printed on stderr:\n${stderr}`);
      for (const text of promised) {
        if (JSON.stringify(JSON.parse(text)) !== got.get) {
          problems.push(
            `${where(b)}: the comment ${text} is not what the GET answered: ${got.get}`,
          );
        }
      }
    }
    report(problems);
  });

  it("runs every page's install lines with npm in an empty app, after README's", async function () {
    this.timeout(600_000);
    const run = promisify(execFile);
    const tarball = `./${app.tarball}`;
    // As a reader types them; koa-messages (not on the registry yet) is the packed tarball.
    const args = (words: string[]) =>
      words
        .slice(1)
        .map((w) => w.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1'))
        .map((w) =>
          w === pkg.name || w.endsWith(`/${pkg.name}-${pkg.version}.tgz`) ? tarball : w,
        );
    // Only npm's own settings: none of the npm_* variables of the `npm test` that runs this.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_OPTIONS'),
    );
    Object.assign(env, {
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    });
    const problems: string[] = [];
    const install = async (dir: string, block: CodeBlock) => {
      for (const { line, words } of installCommands(block)) {
        try {
          await run('npm', args(words), { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
        } catch (error) {
          const { stderr = '' } = error as { stderr?: string };
          const why = stderr
            .split('\n')
            .filter((l) => /npm error/.test(l))
            .slice(0, 20)
            .join('\n    ');
          problems.push(
            `${block.file}:${block.line + line}: \`${words.join(' ')}\` failed:\n    ${why}`,
          );
          return false;
        }
      }
      return true;
    };

    const base = await mkdtemp(join(tmpdir(), 'koa-messages-install-'));
    await cp(join(app.dir, app.tarball), join(base, app.tarball));
    await writeFile(
      join(base, 'package.json'),
      `${JSON.stringify({ name: 'docs-install-app', private: true, type: 'module' }, null, 2)}\n`,
    );
    const readme = blocks.filter(
      (b) => b.file === 'README.md' && b.heading === 'Install' && b.lang === 'sh',
    );
    expect(readme.flatMap(installCommands), "README.md's Install lines").not.to.deep.equal([]);
    for (const block of readme) await install(base, block);
    report(problems);

    const pages = new Map<string, CodeBlock[]>();
    for (const b of blocks.filter((b) => b.lang === 'sh' && b.file !== 'README.md')) {
      if (installCommands(b).length > 0) pages.set(b.file, [...(pages.get(b.file) ?? []), b]);
    }
    expect([...pages.keys()], 'pages with install lines').to.include('docs/templates.md');
    const dirs: string[] = [];
    for (const [file, pageBlocks] of pages) {
      // Each page from README's app: what one page says to install must work without another's.
      const dir = `${base}-${file.replace(/[^\w]/g, '_')}`;
      dirs.push(dir);
      await cp(base, dir, { recursive: true, verbatimSymlinks: true });
      for (const block of pageBlocks) if (!(await install(dir, block))) break;
    }
    report(
      problems,
      `Fix the page so that its lines install as written after README's (the apps are kept: ${base}-*).`,
    );
    for (const dir of [base, ...dirs]) await rm(dir, { recursive: true, force: true });
  });

  it('names in sh blocks only packages, scripts and files that exist', () => {
    const problems: string[] = [];
    for (const b of blocks.filter((b) => b.lang === 'sh')) {
      for (const { line, words } of commands(b.code)) {
        const why = checkCommand(words, pkg);
        if (why) problems.push(`${b.file}:${b.line + line}: \`${words.join(' ')}\`: ${why}`);
      }
    }
    report(problems);
  });

  it("has README's Install line name every required peer dependency", () => {
    const install = blocks.filter(
      (b) => b.file === 'README.md' && b.heading === 'Install' && b.lang === 'sh',
    );
    const named = new Set(
      install.flatMap((b) =>
        commands(b.code)
          .filter(({ words }) => words[0] === 'npm' && INSTALL.has(words[1] ?? ''))
          .flatMap(({ words }) => installedNames(words.slice(2))),
      ),
    );
    const required = Object.keys(pkg.peerDependencies ?? {}).filter(
      (p) => !pkg.peerDependenciesMeta?.[p]?.optional,
    );
    expect(
      required.filter((p) => !named.has(p)),
      'README.md "## Install": the install line must name these peer dependencies',
    ).to.deep.equal([]);
  });

  it('has json blocks that parse', () => {
    const problems = blocks
      .filter((b) => b.lang === 'json')
      .flatMap((b) => {
        try {
          JSON.parse(b.code);
          return [];
        } catch (error) {
          return [`${where(b)}: ${(error as Error).message}`];
        }
      });
    report(problems);
  });

  it('has html blocks whose elements are closed in order', () => {
    const problems = blocks
      .filter((b) => b.lang === 'html')
      .flatMap((b) => {
        const why = unbalancedHtml(b.code);
        return why === undefined ? [] : [`${where(b)}: ${why}`];
      });
    report(problems);
  });

  it('has checkers that reject broken sh, html, links and fences', () => {
    expect(checkCommand(['npm', 'install', 'left-pad'], pkg)).to.match(/does not declare/);
    expect(checkCommand(['npm', 'run', 'no-such-script'], pkg)).to.match(/no `no-such-script`/);
    expect(checkCommand(['npx', 'tsx', 'bench/no-such-file.ts'], pkg)).to.match(/does not exist/);
    expect(checkCommand(['curl', 'http://127.0.0.1/'], pkg)).to.match(/does not know how to check/);
    expect(checkCommand(['npm', 'install', 'koa', '@types/koa@^3', '-D'], pkg)).to.equal(undefined);
    expect(unbalancedHtml('<p><b>x</p>')).to.equal('</p> does not close the element opened last');
    expect(unbalancedHtml('<form><input name="q"><button>Go</button></form>')).to.equal(undefined);
    expect(() => extractCodeBlocks('x.md', 'text\n```ts\nconst a = 1;\n')).to.throw('x.md:2');
    expect([...headingAnchors('# A\n## `cookie` option\n## A')]).to.deep.equal([
      'a',
      'cookie-option',
      'a-1',
    ]);
  });

  it('links every page under docs/ from README.md, directly or through other pages', async () => {
    const reached = new Set(['README.md']);
    const queue = ['README.md'];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const { target } of extractLinks(file, text)) {
        const path = join(dirname(file), target.split('#')[0]!);
        if (path.endsWith('.md') && existsSync(join(ROOT, path)) && !reached.has(path)) {
          reached.add(path);
          queue.push(path);
        }
      }
    }
    const orphans = (await markdownFiles(ROOT)).filter((f) => !reached.has(f));
    report(
      orphans.map((f) => `${f}: no page links to it`),
      'Link each page from the "Documentation" list of README.md, or from a page that list links.',
    );
  });

  it('lists every error code of the packed package in README.md and docs/api.md', async () => {
    const { MESSAGES_ERROR_CODES } = (await import(
      pathToFileURL(join(app.dir, 'node_modules', pkg.name, 'dist/index.js')).href
    )) as typeof import('../../src/index.js');
    expect(MESSAGES_ERROR_CODES.length).to.be.greaterThan(0);
    const problems: string[] = [];
    for (const file of ['README.md', 'docs/api.md']) {
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const code of MESSAGES_ERROR_CODES) {
        if (!text.includes(`\`${code}\``)) problems.push(`${file}: does not name \`${code}\``);
      }
    }
    report(problems, 'Add the code, with what it means, where the other codes are listed.');
  });

  it('keeps README.md to what a user needs first: at most 250 lines, the rest in docs/', async () => {
    const lines = (await readFile(join(ROOT, 'README.md'), 'utf8')).split('\n').length;
    expect(lines, 'README.md: move details to a page under docs/ and link it').to.be.at.most(250);
  });

  it('has relative links that lead to existing files and headings', async () => {
    const problems: string[] = [];
    for (const file of await markdownFiles(ROOT)) {
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const link of extractLinks(file, text)) {
        const [path = '', anchor] = link.target.split('#');
        const target = path === '' ? file : join(dirname(file), path);
        if (!existsSync(join(ROOT, target))) {
          problems.push(`${file}:${link.line}: ${link.target}: ${target} does not exist`);
        } else if (anchor !== undefined && target.endsWith('.md')) {
          const anchors = headingAnchors(await readFile(join(ROOT, target), 'utf8'));
          if (!anchors.has(anchor)) {
            problems.push(
              `${file}:${link.line}: ${link.target}: ${target} has no heading #${anchor}`,
            );
          }
        }
      }
    }
    report(problems);
  });
});
