/**
 * The docs have two readers: users (docs/README.md and the pages beside it) and contributors
 * (docs/contributing/README.md, architecture first). code-blocks.test.ts checks every page's code
 * and links; this file checks the two indexes and the pointers to pages that live outside Markdown
 * links: the text of CHANGELOG.md, README.md and the pages, and the comments of src/, test/, bench/
 * and example/, which name pages by their path (`docs/redis.md`) and are not rewritten when a page
 * moves.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';

import { extractLinks, headingAnchors, markdownFiles } from '../helpers/markdown.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The pages one index links to, as paths from the repository root, in the order it links them. */
async function linkedPages(index: string): Promise<string[]> {
  const text = await readFile(join(ROOT, index), 'utf8');
  return extractLinks(index, text)
    .map(({ target }) => join(dirname(index), target.split('#')[0]!))
    .filter((path) => path.endsWith('.md'));
}

/** Source files under `dir` (node_modules and build output left out). */
async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(join(ROOT, d), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(ts|js|cjs|mjs|json|html|njk|lua)$/.test(entry.name)) files.push(path);
    }
  };
  if (existsSync(join(ROOT, dir))) await walk(dir);
  return files;
}

describe('the docs layout: a user guide and a contributors part', () => {
  it('has docs/README.md link every user page, and no contributors page', async () => {
    const all = await markdownFiles(ROOT);
    const userPages = all.filter(
      (f) => f.startsWith('docs/') && !f.startsWith('docs/contributing/') && f !== 'docs/README.md',
    );
    const linked = new Set(await linkedPages('docs/README.md'));
    expect(userPages.filter((f) => !linked.has(f))).to.deep.equal([], 'pages docs/README.md omits');
    const contributors = [...linked].filter(
      (f) => f.startsWith('docs/contributing/') && f !== 'docs/contributing/README.md',
    );
    expect(contributors).to.deep.equal(
      [],
      'docs/README.md is for users: link the contributors part through its index only',
    );
    expect(linked).to.include('docs/contributing/README.md');
  });

  it('has docs/contributing/README.md link every contributors page, architecture first', async () => {
    const all = await markdownFiles(ROOT);
    const pages = all.filter(
      (f) => f.startsWith('docs/contributing/') && f !== 'docs/contributing/README.md',
    );
    expect(pages, 'the code-blocks test reads docs/contributing/ too').to.include(
      'docs/contributing/architecture.md',
    );
    const linked = await linkedPages('docs/contributing/README.md');
    const own = linked.filter((f) => f.startsWith('docs/contributing/'));
    expect(own[0]).to.equal('docs/contributing/architecture.md');
    expect(pages.filter((f) => !own.includes(f))).to.deep.equal(
      [],
      'pages docs/contributing/README.md omits',
    );
  });

  it('has README.md link both indexes', async () => {
    const linked = await linkedPages('README.md');
    expect(linked).to.include.members(['docs/README.md', 'docs/contributing/README.md']);
  });

  it("has CHANGELOG.md's links lead to existing files and headings", async () => {
    const text = await readFile(join(ROOT, 'CHANGELOG.md'), 'utf8');
    const problems: string[] = [];
    for (const link of extractLinks('CHANGELOG.md', text)) {
      const [path = '', anchor] = link.target.split('#');
      const target = path === '' ? 'CHANGELOG.md' : path;
      if (!existsSync(join(ROOT, target))) problems.push(`${link.line}: ${target} does not exist`);
      else if (anchor !== undefined && target.endsWith('.md')) {
        const anchors = headingAnchors(await readFile(join(ROOT, target), 'utf8'));
        if (!anchors.has(anchor))
          problems.push(`${link.line}: ${target} has no heading #${anchor}`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('names only docs pages that exist, in the Markdown text and in the comments of the code', async () => {
    const files = ['CHANGELOG.md', ...(await markdownFiles(ROOT))];
    for (const dir of ['src', 'test', 'bench', 'example']) files.push(...(await sourceFiles(dir)));
    const problems: string[] = [];
    for (const file of files) {
      const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        for (const [path] of line.matchAll(/(?<![\w/.-])docs\/[\w./-]*[\w-]\.md\b/g)) {
          if (!existsSync(join(ROOT, path)))
            problems.push(`${file}:${i + 1}: ${path} does not exist`);
        }
      });
    }
    expect(problems, 'a page moved: point at its new path').to.deep.equal([]);
  });
});
