import { expect } from 'chai';
import fc from 'fast-check';
import type { Context } from 'koa';

import {
  cookieStorage,
  fallbackStorage,
  type MessagesOptions,
  type StoredMessage,
} from '../../src/index.js';
import {
  decodeMessage,
  decodeMessages,
  encodedMessageSchema,
  encodeMessage,
} from '../../src/storage/codec.js';
import { anyMessage } from './arbitraries.js';
import { agentOf, caseApp, type StorageKind } from './helpers.js';
import { useRedis } from './redis.js';

/** Read a JSON request body (the tests need no body-parser dependency for this). */
async function jsonBody(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]!,
  );

async function addAll(ctx: Context): Promise<void> {
  for (const m of (await jsonBody(ctx)) as StoredMessage[]) {
    ctx.messages.add(m.level, m.message, { extraTags: m.extraTags, html: m.html });
  }
}

/** Iterate, then answer with ctx.ajax(): the stored fields and the wire form in one response. */
function show(ctx: Context): void {
  const list = [...ctx.messages].map((m) => ({
    level: m.level,
    message: m.message,
    extraTags: m.extraTags,
    html: m.html,
  }));
  ctx.ajax({ list });
}

const routes = {
  '/add': async (ctx: Context) => {
    await addAll(ctx);
    ctx.status = 303;
    ctx.redirect('/show');
  },
  '/show': show,
  '/add-show': async (ctx: Context) => {
    await addAll(ctx);
    show(ctx);
  },
};

/** Any list of messages; every one is recorded (the threshold is the lowest safe integer). */
const anyList = fc.array(anyMessage, { minLength: 1, maxLength: 8 });

function expectShown(text: string, list: StoredMessage[]): void {
  const body = JSON.parse(text) as { list: unknown; messages: { message: string; tags: string }[] };
  expect(body.list).to.deep.equal(list);
  expect(body.messages.map((m) => m.message)).to.deep.equal(
    list.map((m) => (m.html ? m.message : escapeHtml(m.message))),
  );
}

describe('hardening: any message list survives storage unchanged', function () {
  this.timeout(60_000);

  it('decodes what the codec encodes, for any list (JSON in between)', () => {
    fc.assert(
      fc.property(anyList, (list) => {
        const json = JSON.stringify(list.map(encodeMessage));
        const { messages, clean } = decodeMessages(JSON.parse(json));
        expect(clean).to.equal(true);
        expect(messages).to.deep.equal(list);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes keyed messages as encoded, and encodes unkeyed ones without the key slot', () => {
    const keyed = fc.record({
      message: anyMessage,
      key: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(keyed, { maxLength: 8 }), (list) => {
        const withKeys: StoredMessage[] = list.map(({ message, key }) =>
          key === undefined ? message : { ...message, key },
        );
        const encoded = withKeys.map(encodeMessage);
        for (const [i, entry] of encoded.entries()) {
          // Without a key, the bytes are those of the version before keys existed.
          expect(entry.length).to.be.at.most(withKeys[i]!.key === undefined ? 4 : 5);
          if (withKeys[i]!.key !== undefined) expect(entry[4]).to.equal(withKeys[i]!.key);
        }
        const { messages, clean } = decodeMessages(JSON.parse(JSON.stringify(encoded)));
        expect(clean).to.equal(true);
        expect(messages).to.deep.equal(withKeys);
      }),
      { numRuns: 1000 },
    );
  });

  // decodeMessage() checks entries by hand for speed; the exported Zod schema is the definition.
  it('decodeMessage() accepts exactly what encodedMessageSchema accepts, and reads the same fields', () => {
    const value = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(
        0,
        -0,
        1,
        Number.MAX_SAFE_INTEGER,
        Number.MAX_SAFE_INTEGER + 1,
        -(2 ** 53),
        NaN,
        Infinity,
      ),
      fc.string({ maxLength: 3 }),
      fc.constant(''),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.constant(1),
      fc.constant('1'),
      fc.constant('k'),
      fc.object({ maxDepth: 1 }),
    );
    const entry = fc.oneof(
      fc.array(value, { maxLength: 6 }),
      // Near misses of valid entries: each slot valid or not, trailing slots present or not.
      fc.tuple(value, value),
      fc.tuple(value, value, value),
      fc.tuple(value, value, value, value),
      fc.tuple(
        fc.integer(),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.constantFrom(1, 0, true, '1'), { nil: undefined }),
      ),
      // Keyed entries and their near misses: the flag slot, then a key of any kind.
      fc.tuple(
        fc.integer(),
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.constantFrom(0, 1, undefined, null, 2),
        fc.oneof(fc.string({ maxLength: 3 }), fc.constant(''), value),
      ),
      fc.tuple(value, value, value, value, value),
      // Entries with an add time and an own maxAge (docs/expiry.md), and their near misses.
      fc.tuple(
        fc.integer(),
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.constantFrom(0, 1),
        fc.oneof(fc.constant(''), fc.string({ maxLength: 3 }), value),
        fc.oneof(fc.nat(), fc.integer({ min: -3, max: -1 }), value),
      ),
      fc.tuple(
        fc.integer(),
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.constantFrom(0, 1),
        fc.constant(''),
        fc.nat(),
        fc.oneof(fc.integer({ min: -1, max: 3 }), value),
      ),
      fc.tuple(value, value, value, value, value, value, value),
      fc.tuple(value, value, value, value, value, value, value, value),
      // Descriptors in the text slot (docs/translation.md) and their near misses.
      fc.tuple(
        fc.integer(),
        fc.oneof(
          fc.tuple(fc.string({ maxLength: 3 })),
          fc.tuple(
            fc.string({ maxLength: 3 }),
            fc.dictionary(
              fc.string({ maxLength: 2 }),
              fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), value),
              { maxKeys: 3 },
            ),
          ),
          fc.tuple(fc.string({ minLength: 1 }), value),
          fc.tuple(fc.string({ minLength: 1 }), fc.object({ maxDepth: 1 })),
          fc.array(value, { maxLength: 3 }),
        ),
      ),
      anyMessage.map(encodeMessage),
      fc
        .tuple(anyMessage, fc.array(value, { minLength: 1, maxLength: 3 }))
        .map(([m, more]) => [m.level, m.message, m.extraTags, 1, ...more]),
      fc.anything(),
    );
    fc.assert(
      fc.property(entry, (input) => {
        const parsed = encodedMessageSchema.safeParse(input);
        const decoded = decodeMessage(input);
        expect(decoded !== undefined, JSON.stringify(input)).to.equal(parsed.success);
        if (parsed.success) {
          const [level, text, extraTags = '', html, key, addedAt, maxAge] = parsed.data;
          const descriptor =
            typeof text === 'string'
              ? undefined
              : text.length === 1
                ? { id: text[0] }
                : { id: text[0], values: text[1] };
          expect(decoded).to.deep.equal({
            level,
            message: typeof text === 'string' ? text : text[0],
            extraTags,
            html: html === 1,
            ...(key === undefined || key === '' ? {} : { key }),
            ...(addedAt === undefined ? {} : { addedAt }),
            ...(maxAge === undefined ? {} : { maxAge }),
            ...(descriptor === undefined ? {} : { descriptor }),
          });
        }
      }),
      { numRuns: 20_000 },
    );
  });

  // The cookie gets the largest budget (8 worst-case messages fit); the fallback's the smallest, so
  // that its lists are split between the cookie and the session and must come back in order.
  const persistent: [StorageKind, MessagesOptions][] = [
    ['session-cookie', {}],
    ['session-external', {}],
    ['cookie', { storage: cookieStorage({ maxSize: 4096 }) }],
    ['fallback', { storage: fallbackStorage({ cookie: { maxSize: 128 } }) }],
    ['redis', {}],
  ];
  const redis = useRedis();
  for (const [kind, options] of persistent) {
    it(`shows any list exactly as added after a redirect, on ${kind} storage`, async () => {
      await fc.assert(
        fc.asyncProperty(anyList, async (list) => {
          const storage = kind === 'redis' ? redis.options() : {};
          const { app, drops } = caseApp({
            kind,
            options: { level: Number.MIN_SAFE_INTEGER, ...options, ...storage },
            routes,
          });
          const a = agentOf(app);
          await a.post('/add').send(list).expect(303);
          expectShown((await a.get('/show').expect(200)).text, list);
          expect((await a.get('/show').expect(200)).text).to.equal('{"list":[]}');
          expect(drops).to.deep.equal([]);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('shows any list exactly as added within the request, on memory storage', async () => {
    await fc.assert(
      fc.asyncProperty(anyList, async (list) => {
        const { app } = caseApp({
          kind: 'memory',
          options: { level: Number.MIN_SAFE_INTEGER },
          routes,
        });
        const a = agentOf(app);
        expectShown((await a.post('/add-show').send(list).expect(200)).text, list);
        // Memory keeps nothing past the response.
        await a.post('/add').send(list).expect(303);
        expect((await a.get('/show').expect(200)).text).to.equal('{"list":[]}');
      }),
      { numRuns: 40 },
    );
  });
});
