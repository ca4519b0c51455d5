/**
 * Bytes of cookie value per message for storage 'cookie', measured through a real Koa app:
 * `npx tsx bench/cookie-size.ts`. Prints the table in docs/storages.md ("Encoding"), and what
 * deflate would have given, to back the choice of not compressing.
 *
 * Not a timing benchmark: sizes are deterministic, so this prints once and exits.
 */
import { deflateRawSync } from 'node:zlib';

import Koa from 'koa';
import request from 'supertest';

import { cookieStorage, messages } from '../src/index.js';

interface Case {
  label: string;
  text: string;
  extraTags?: string;
  html?: boolean;
}

const forty = 'Your profile changes were saved, thanks!';
const cases: Case[] = [
  { label: 'short ASCII, `success`', text: 'Saved.' },
  { label: '40 ASCII characters', text: forty },
  { label: '40 ASCII + extra tags `sticky`', text: forty, extraTags: 'sticky' },
  { label: '40 ASCII, `html: true`', text: forty, html: true },
  { label: '100 ASCII characters', text: `${forty}${forty}${forty.slice(0, 20)}` },
  { label: '40 characters, French', text: 'Votre vote a été enregistré, merci bien.' },
  {
    label: '40 characters, Japanese',
    text: '投票が記録されました。ご協力ありがとうございます。今後ともよろしくお願いします。',
  },
];

let current: Case[] = [];
const app = new Koa();
app.keys = ['bench-key-example-only'];
app.use(messages({ storage: cookieStorage({ maxSize: 4096 }) }));
app.use((ctx) => {
  for (const c of current)
    ctx.messages.success(c.text, { extraTags: c.extraTags ?? '', html: c.html ?? false });
  ctx.status = 204;
});

async function valueLength(list: Case[]): Promise<number> {
  current = list;
  const res = await request(app.callback()).post('/').expect(204);
  const header = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0] ?? '';
  return header.slice('messages='.length).split(';')[0]!.length;
}

/** Django 5's uncompressed form of the same list, for comparison: ["__json_message",0,25,"text",""] each. */
function djangoLength(list: Case[]): number {
  const asciiJson = (v: unknown) =>
    JSON.stringify(v).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  const json = `[${list.map((c) => asciiJson(['__json_message', c.html ? 1 : 0, 25, c.text, c.extraTags ?? ''])).join(',')}]`;
  // base64url without padding, ':' and a 43-character SHA-256 signature.
  return Math.ceil((Buffer.byteLength(json) * 4) / 3) + 1 + 43;
}

console.log(
  '| message | characters | first message (whole cookie) | each further message | Django, each further |',
);
console.log('|---|---|---|---|---|');
for (const c of cases) {
  const one = await valueLength([c]);
  const three = await valueLength([c, c, c]);
  const django = (djangoLength([c, c, c]) - djangoLength([c])) / 2;
  console.log(
    `| ${c.label} | ${[...c.text].length} | ${one} | ${(three - one) / 2} | ${django.toFixed(0)} |`,
  );
}

console.log(
  '\nDeflate (raw, level 9) on the JSON, base64url, + dot + tag, against the plain encoding:',
);
const lists: [string, Case[]][] = [
  ['one 40-character message', [cases[1]!]],
  ['three different messages', [cases[0]!, cases[1]!, cases[5]!]],
  [
    'ten similar messages',
    Array.from({ length: 10 }, (_, i) => ({
      label: '',
      text: `Imported row ${i}: 1 record created, 0 updated.`,
    })),
  ],
];
for (const [label, list] of lists) {
  const plain = await valueLength(list);
  const json = JSON.stringify(list.map((c) => [25, c.text]));
  const deflated =
    Math.ceil((deflateRawSync(Buffer.from(json), { level: 9 }).length * 4) / 3) + 1 + 22 + 1;
  console.log(`| ${label} | ${plain} | ${deflated} (with a 1-character format flag) |`);
}
