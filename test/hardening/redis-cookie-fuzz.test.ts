import { expect } from 'chai';
import Keygrip from 'keygrip';
import type { Context } from 'koa';

import { pool, prng, serve } from './fuzz.js';
import { caseApp } from './helpers.js';
import { useRedis } from './redis.js';

/**
 * The Redis storage finds a visitor's messages through signed cookies (an id, and hint cookies
 * naming ids). Visitor A leaves messages pending; another client sends 6,000 cookie headers forged
 * from A's and its own real cookies: A's id or hint values without a valid signature for that
 * name and value (no signature, another cookie's signature, a wrong key's, bit flips, truncation,
 * A's values moved to other cookie names). None may show or take A's messages, none may answer 5xx.
 */
const CASES = 6_000;
const WRONG = new Keygrip(['not-the-app-key-example-only']);

/** `name=value` pairs of a response's Set-Cookie headers (deletions left out). */
function pairs(setCookie: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const header of setCookie) {
    const [pair] = header.split(';');
    const eq = pair!.indexOf('=');
    const value = pair!.slice(eq + 1);
    if (value !== '') found.set(pair!.slice(0, eq), value);
  }
  return found;
}

function flip(text: string, random: () => number): string {
  const chars = [...text];
  const at = Math.floor(random() * chars.length);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let next = chars[at]!;
  while (next === chars[at]) next = alphabet[Math.floor(random() * alphabet.length)]!;
  chars[at] = next;
  return chars.join('');
}

describe("hardening: forged Redis visitor cookies never reach another visitor's messages", function () {
  this.timeout(120_000);
  const redis = useRedis();

  it(`shows and takes nothing for ${CASES.toLocaleString('en')} forged cookie headers, and A still gets every message`, async () => {
    const { app } = caseApp({
      kind: 'redis',
      options: redis.options(),
      routes: {
        '/add': (ctx: Context) => {
          for (const text of ['first', 'second', 'third'])
            ctx.messages.info(`${String(ctx.query['who'])} ${text}`);
          ctx.body = 'added';
        },
        '/': (ctx: Context) => {
          ctx.body = JSON.stringify([...ctx.messages].map((m) => m.message));
        },
      },
    });
    const server = await serve(app);
    try {
      // Two real visitors with messages pending: A (the target) and M (the forger's own, valid cookies).
      const aCookies = pairs((await server.send('', '/add?who=A')).setCookie);
      // M (the forger) reads its own messages, then keeps replaying its old, validly signed cookies:
      // its hint makes every forged request claim, so only signatures stand between it and A's list.
      const mCookies = pairs((await server.send('', '/add?who=M')).setCookie);
      const mValid = [...mCookies].map(([n, v]) => `${n}=${v}`).join('; ');
      expect((await server.send(mValid)).body).to.equal('["M first","M second","M third"]');
      const idName = 'koa-messages';
      const aId = aCookies.get(idName)!;
      const aIdSig = aCookies.get(`${idName}.sig`)!;
      const aHint = [...aCookies.keys()].find(
        (n) => n.startsWith(`${idName}.p.`) && !n.endsWith('.sig'),
      )!;
      const aHintSig = aCookies.get(`${aHint}.sig`)!;
      const mId = mCookies.get(idName)!;
      const mIdSig = mCookies.get(`${idName}.sig`)!;
      const mHint = [...mCookies.keys()].find(
        (n) => n.startsWith(`${idName}.p.`) && !n.endsWith('.sig'),
      )!;
      const mHintSig = mCookies.get(`${mHint}.sig`)!;
      expect(
        [aId, aIdSig, aHint, aHintSig, mId, mIdSig, mHint, mHintSig].every(
          (v) => typeof v === 'string' && v !== '',
        ),
      ).to.equal(true);

      const random = prng(4242);
      const token = () =>
        Array.from(
          { length: 8 },
          () => 'abcdefghijklmnopqrstuvwxyz0123456789-_'[Math.floor(random() * 38)],
        ).join('');
      const forgeries: (() => string)[] = [
        () => `${idName}=${aId}`,
        () => `${idName}=${aId}; ${idName}.sig=${mIdSig}`,
        () => `${idName}=${aId}; ${idName}.sig=${flip(aIdSig, random)}`,
        () =>
          `${idName}=${aId}; ${idName}.sig=${aIdSig.slice(0, Math.floor(random() * aIdSig.length))}`,
        () => `${idName}=${aId}; ${idName}.sig=${WRONG.sign(`${idName}=${aId}`)}`,
        () => `${idName}=${aId}; ${idName}.sig=${aIdSig}=`,
        () => `${aHint}=${aId}`,
        () => `${aHint}=${aId}; ${aHint}.sig=${mHintSig}`,
        () => `${aHint}=${aId}; ${aHint}.sig=${flip(aHintSig, random)}`,
        () => `${aHint}=${aId}; ${aHint}.sig=${aIdSig}`,
        () => `${aHint}=${aId}; ${aHint}.sig=${WRONG.sign(`${aHint}=${aId}`)}`,
        () => `${idName}.p.${token()}=${aId}; ${idName}.p.${token()}.sig=${aHintSig}`,
        () => `${mHint}=${aId}; ${mHint}.sig=${mHintSig}`,
        () =>
          `${idName}=${mId}; ${idName}.sig=${mIdSig}; ${mHint}=${aId}; ${mHint}.sig=${mHintSig}`,
        () =>
          `${idName}=${mId}; ${idName}.sig=${mIdSig}; ${aHint}=${aId}; ${aHint}.sig=${flip(aHintSig, random)}`,
        () => `${idName}=${flip(aId, random)}; ${idName}.sig=${aIdSig}`,
        () => `${aHint}=${flip(aId, random)}; ${aHint}.sig=${aHintSig}`,
        () => `${idName}=${aId}${aId}; ${idName}.sig=${aIdSig}`,
        () => Array.from({ length: 20 }, () => `${idName}.p.${token()}=${aId}`).join('; '),
        // The forger's own valid hint, with A's id in place of its own under a bad signature.
        () =>
          `${idName}=${aId}; ${idName}.sig=${flip(aIdSig, random)}; ${mHint}=${mId}; ${mHint}.sig=${mHintSig}`,
        () =>
          `${idName}=${aId}; ${idName}.sig=${mIdSig}; ${mHint}=${mId}; ${mHint}.sig=${mHintSig}`,
        () => `${idName}=${aId}; ${mHint}=${mId}; ${mHint}.sig=${mHintSig}`,
        () =>
          `${idName}=${aId}; ${idName}.sig=${WRONG.sign(`${idName}=${aId}`)}; ${mHint}=${mId}; ${mHint}.sig=${mHintSig}`,
        () =>
          `${mHint}=${mId}; ${mHint}.sig=${mHintSig}; ${aHint}=${aId}; ${aHint}.sig=${flip(aHintSig, random)}`,
        () =>
          `${mHint}=${mId}; ${mHint}.sig=${mHintSig}; ${idName}.p.${token()}=${aId}; ${idName}.p.${token()}.sig=${aHintSig}`,
      ];

      const shown: string[] = [];
      const statuses = new Map<number, number>();
      await pool(CASES, 16, async (i) => {
        const cookie = forgeries[i % forgeries.length]!();
        const reply = await server.send(cookie);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status !== 200 || reply.body !== '[]')
          shown.push(`${reply.status} ${reply.body} ← ${cookie}`);
      });
      expect(shown.slice(0, 5)).to.deep.equal([]);
      expect([...statuses]).to.deep.equal([[200, CASES]]);

      // A's messages are all still there for A, and M's for M.
      const aHeader = [...aCookies].map(([n, v]) => `${n}=${v}`).join('; ');
      const mHeader = [...mCookies].map(([n, v]) => `${n}=${v}`).join('; ');
      expect((await server.send(aHeader)).body).to.equal('["A first","A second","A third"]');
      expect((await server.send(mHeader)).body).to.equal('[]');
    } finally {
      await server.close();
    }
  });
});
