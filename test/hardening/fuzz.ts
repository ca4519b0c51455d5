import http from 'node:http';
import type { AddressInfo } from 'node:net';

import Keygrip from 'keygrip';
import type Koa from 'koa';

import { TEST_KEYS } from '../helpers/app.js';
import { forge, signPayload } from '../helpers/cookie.js';

/**
 * A cookie fuzzer: a seeded generator of forged and mutated messages-cookie headers, and a driver
 * that sends them to an app through a real HTTP server on 127.0.0.1 (keep-alive, many in flight).
 * Every value it makes is one the app must refuse: none carries a valid signature over a valid list.
 */

/** mulberry32: a small seeded PRNG, so a failing value can be regenerated from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WRONG_KEY = 'not-the-app-key-example-only';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Characters Node lets a client put in a header value: tab, printable ASCII, latin1 high half.
 * Inside a value made from a valid one (`inside`), no `;`, space or tab: a `;` would end the cookie
 * and leave the valid prefix, and HTTP trims trailing whitespace, so the mutation would undo itself.
 */
function headerChar(code: number, inside = false): string {
  const c = code & 0xff;
  const ok = c === 9 || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
  if (ok && !(inside && (c === 0x3b || c === 0x20 || c === 9))) return String.fromCharCode(c);
  return String.fromCharCode(0x21 + (c % 0x1a));
}

/** Valid message lists, the material that mutations start from. */
const LISTS = [
  '[[25,"Vote recorded."]]',
  '[[20,"Saved.","sticky"],[40,"<b>Disk</b> full","",1]]',
  '[[30,"Caf\u00e9 \u2603 \ud83c\udf89"],0]',
  JSON.stringify(Array.from({ length: 20 }, (_, i) => [25, `message ${i} with some text`])),
];

/** JSON that must never become a message, whatever signs it: prototype tricks, wrong shapes. */
export const POISON = [
  '{"__proto__":{"polluted":1}}',
  '[{"__proto__":{"polluted":1}}]',
  '[["__proto__","polluted"]]',
  '[[25,"x",{"__proto__":{"polluted":1}}]]',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '[[25,"x","",1,{"constructor":{"prototype":{"polluted":1}}}]]',
  '[[25,{"toString":"polluted"}]]',
  '[[25,""]]',
  '[[2.5,"fractional level"]]',
  '[["25","string level"]]',
  '[[1e400,"infinite level"]]',
  '[[25,"x","",2]]',
  '[[25,"x","",true]]',
  '[[25,"x",null]]',
  '[[25]]',
  '[0,[25,"marker first"]]',
  '[[25,"a"],0,[25,"marker inside"]]',
  '[[25,"a"],0,0]',
  '"[[25,\\"string of a list\\"]]"',
  '{"0":[25,"array-like"],"length":1}',
  'null',
  'true',
  '25',
  '{}',
  '[null]',
  '[[]]',
  '[[25,"x"],null]',
  '[[25,"x"]] trailing',
  '[[25,"x"]',
  '',
];

export type Category =
  | 'bit flip'
  | 'truncation'
  | 'extension'
  | 'wrong key'
  | 'other cookie name'
  | 'keygrip .sig scheme'
  | 'swapped tag'
  | 'poison, right key'
  | 'poison, wrong key'
  | 'bad UTF-8, right key'
  | 'bad base64, right key'
  | 'garbage'
  | 'huge'
  | 'duplicate cookies';

export const CATEGORIES: Category[] = [
  'bit flip',
  'truncation',
  'extension',
  'wrong key',
  'other cookie name',
  'keygrip .sig scheme',
  'swapped tag',
  'poison, right key',
  'poison, wrong key',
  'bad UTF-8, right key',
  'bad base64, right key',
  'garbage',
  'huge',
  'duplicate cookies',
];

export interface FuzzCase {
  category: Category;
  /** The whole Cookie header. */
  cookie: string;
}

const keygrip = new Keygrip(TEST_KEYS);

/** 40 KB of base64url text from a fixed seed: huge values are slices of it (building each one char by char costs seconds). */
const BULK = (() => {
  const random = prng(7);
  return Array.from({ length: 40_000 }, () => B64[Math.floor(random() * 64)]).join('');
})();

/**
 * The `i`-th fuzz case of a run: categories in turn, each value drawn from `random`.
 * Huge values stay under Node's 16 KB header limit except every tenth one, which must get a 431.
 */
export function fuzzCase(i: number, random: () => number, name = 'messages'): FuzzCase {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const int = (n: number) => Math.floor(random() * n);
  const valid = () => forge(pick(LISTS), TEST_KEYS[0], name);
  const randomText = (n: number, alphabet?: string, inside = false) =>
    Array.from({ length: n }, () =>
      alphabet === undefined ? headerChar(int(256), inside) : alphabet[int(alphabet.length)]!,
    ).join('');
  const category = CATEGORIES[i % CATEGORIES.length]!;
  const one = (value: string): FuzzCase => ({ category, cookie: `${name}=${value}` });

  switch (category) {
    case 'bit flip': {
      const original = valid();
      const chars = [...original];
      // Two flips of one bit cancel out: flip until the value differs.
      for (let flips = 1 + int(3); flips > 0 || chars.join('') === original; flips--) {
        const at = int(chars.length);
        const flipped = headerChar(chars[at]!.charCodeAt(0) ^ (1 << int(8)), true);
        // A flip that lands on the same character after clamping is flipped again.
        chars[at] = flipped === chars[at] ? (flipped === 'A' ? 'B' : 'A') : flipped;
      }
      return one(chars.join(''));
    }
    case 'truncation': {
      const value = valid();
      return one(value.slice(0, int(value.length)));
    }
    case 'extension':
      return one(
        valid() +
          randomText(1 + int(8), pick<string | undefined>([B64, `${B64}.`, undefined]), true),
      );
    case 'wrong key':
      return one(forge(pick(LISTS), WRONG_KEY, name));
    case 'other cookie name':
      // Signed with the app's own key, for a cookie of another name: the tag binds the name.
      return one(
        forge(
          pick(LISTS),
          TEST_KEYS[0],
          pick(['flash', 'koa.sess', `${name}x`, name.toUpperCase()]),
        ),
      );
    case 'keygrip .sig scheme': {
      // Koa's own signed-cookie scheme with the app's keys: name=value signed in a companion cookie.
      const value = Buffer.from(pick(LISTS)).toString('base64url');
      return {
        category,
        cookie: `${name}=${value}; ${name}.sig=${keygrip.sign(`${name}=${value}`)}`,
      };
    }
    case 'swapped tag': {
      // Payload of one valid cookie with the tag of another.
      const a = forge(LISTS[int(LISTS.length)]!, TEST_KEYS[0], name);
      const others = LISTS.filter((l) => !a.startsWith(Buffer.from(l).toString('base64url') + '.'));
      const b = forge(pick(others), TEST_KEYS[0], name);
      return one(`${a.slice(0, a.lastIndexOf('.'))}${b.slice(b.lastIndexOf('.'))}`);
    }
    case 'poison, right key':
      return one(forge(pick(POISON), TEST_KEYS[0], name));
    case 'poison, wrong key':
      return one(forge(pick(POISON), WRONG_KEY, name));
    case 'bad UTF-8, right key': {
      const bytes = Buffer.from(`[[25,"${randomText(4, 'abc')}X"]]`);
      bytes[bytes.length - 4] = pick([0x80, 0xc0, 0xed, 0xf8, 0xff]);
      return one(signPayload(bytes.toString('base64url'), TEST_KEYS[0], name));
    }
    case 'bad base64, right key': {
      const payload = Buffer.from(pick(LISTS)).toString('base64url');
      const at = int(payload.length);
      // Standard base64, padding, or a character outside any alphabet, signed as it is.
      const bad = `${payload.slice(0, at)}${pick(['+', '/', '=', '==', '%', '!', '~'])}${payload.slice(at)}`;
      return one(
        signPayload(
          pick([bad, payload.slice(0, 1 + 4 * int(payload.length >> 2)) + 'A']),
          TEST_KEYS[0],
          name,
        ),
      );
    }
    case 'garbage':
      return one(
        pick([
          () => randomText(int(200)),
          () => `${randomText(int(300), B64)}.${randomText(22, B64)}`,
          () => '.'.repeat(int(50)),
          () => '""',
          () => '',
        ])(),
      );
    case 'huge': {
      const tooBig = i % (10 * CATEGORIES.length) === CATEGORIES.indexOf('huge');
      const size = tooBig ? 17_000 + int(20_000) : 4_097 + int(11_000);
      const from = int(BULK.length - size);
      return one(`${BULK.slice(from, from + size)}.${randomText(22, B64)}`);
    }
    case 'duplicate cookies': {
      const values = Array.from({ length: 2 + int(3) }, () =>
        pick([forge(pick(LISTS), WRONG_KEY, name), randomText(int(60), B64), '']),
      );
      return { category, cookie: values.map((v) => `${name}=${v}`).join('; ') };
    }
  }
}

export interface Reply {
  status: number;
  body: string;
  setCookie: string[];
}

/** A real HTTP server for `app` on 127.0.0.1 and a keep-alive client for it. */
export async function serve(
  app: Koa,
): Promise<{ send(cookie: string, path?: string): Promise<Reply>; close(): Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback answers its own errors (500): its promise never rejects
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  return {
    send(cookie, path = '/') {
      return new Promise((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path, agent, headers: cookie === '' ? {} : { cookie } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const setCookie = res.headers['set-cookie'] ?? [];
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                setCookie,
              });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** Run `count` tasks with at most `concurrency` in flight. */
export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Everything `Object.prototype` and friends hold, to compare before and after. */
export function prototypeSnapshot(): string {
  const describe = (o: object) =>
    Reflect.ownKeys(o)
      .map((key) => {
        const d = Object.getOwnPropertyDescriptor(o, key)!;
        // The accessors are printed to compare them, never called.
        // eslint-disable-next-line @typescript-eslint/unbound-method -- see above
        return `${String(key)}:${typeof d.value}:${String(d.get)}:${String(d.set)}:${String(d.writable)}`;
      })
      .join(',');
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map(describe)
    .join('\n');
}
