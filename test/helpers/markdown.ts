import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** Path of the Markdown file, relative to the repository root (`docs/redis.md`). */
  file: string;
  /** 1-based line of the opening fence. The block's first line of code is `line + 1`. */
  line: number;
  /** The info string's first word (`ts`; `bash` and `shell` read as `sh`, `typescript` as `ts`), `''` when none. */
  lang: string;
  /** The info string's other words (`['browser']` for ```` ```ts browser ````). */
  flags: string[];
  /** The code, without the fences, with the fence's indentation removed. */
  code: string;
  /** The nearest heading above the block (`Quick start`), `''` before the first heading. */
  heading: string;
}

/** Markdown files whose code blocks the docs test checks: README.md, BENCHMARKS.md, docs/**\/*.md. */
export async function markdownFiles(root: string): Promise<string[]> {
  const files = ['README.md', 'BENCHMARKS.md'];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  await walk('docs');
  return files.map((f) => relative(root, join(root, f))).sort();
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/;

/** Other spellings of the languages the docs test knows, so ```bash is checked as ```sh. */
const ALIASES: Record<string, string> = { typescript: 'ts', bash: 'sh', shell: 'sh', txt: 'text' };

/**
 * The fenced code blocks of a Markdown text (CommonMark fences: three or more backticks or
 * tildes, closed by a fence of the same character at least as long; indented fences, as inside
 * list items, are accepted and their indentation stripped from the code).
 *
 * @throws when a fence is never closed, naming the file and line.
 */
export function extractCodeBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const title = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (title) {
      heading = title[1]!;
      continue;
    }
    const open = FENCE.exec(line);
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const close = new RegExp(`^\\s*${fence.startsWith('`') ? '`' : '~'}{${fence.length},}\\s*$`);
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      const l = lines[j]!;
      code.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: this code fence is never closed.`);
    const [word = '', ...flags] = info.trim().split(/\s+/).filter(Boolean);
    const lang = ALIASES[word.toLowerCase()] ?? word;
    blocks.push({ file, line: i + 1, lang, flags, code: code.join('\n'), heading });
    i = j;
  }
  return blocks;
}

/** Every fenced code block of the files {@link markdownFiles} lists. */
export async function allCodeBlocks(root: string): Promise<CodeBlock[]> {
  const blocks: CodeBlock[] = [];
  for (const file of await markdownFiles(root)) {
    blocks.push(...extractCodeBlocks(file, await readFile(join(root, file), 'utf8')));
  }
  return blocks;
}

/** A relative link of a Markdown file (`[text](docs/redis.md#the-guarantee)`), outside code blocks. */
export interface MarkdownLink {
  file: string;
  line: number;
  target: string;
}

/** Relative links (not `http:`, `https:`, `mailto:`) outside fenced code blocks and code spans. */
export function extractLinks(file: string, text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, i) => {
    const f = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (f && (fence === undefined || f.startsWith(fence))) {
      fence = fence === undefined ? f : undefined;
      return;
    }
    if (fence !== undefined) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (!/^[a-z]+:/i.test(target)) links.push({ file, line: i + 1, target });
    }
  });
  return links;
}

/**
 * The anchors GitHub gives a file's headings: lower case, punctuation other than `-` and `_`
 * removed, spaces turned into `-`, and `-1`, `-2`, … appended to repeats.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (f && (fence === undefined || f.startsWith(fence))) {
      fence = fence === undefined ? f : undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const title = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (title === undefined) continue;
    const slug = title
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}
