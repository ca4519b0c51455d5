import { expect } from 'chai';
import type { Context } from 'koa';
import * as classic from 'zod';
import * as mini from 'zod/mini';

import {
  ajaxResponseSchema,
  LEVEL_NAMES,
  levelNameSchema,
  LEVELS,
  messageSchema,
  messagesEventDetailSchema,
  messagesHeaderSchema,
} from '../src/client/index.js';
import { agent, buildApp } from './helpers/app.js';

/** An app's data schema, written with classic zod or with zod/mini: the client takes both. */
const FLAVOURS = [
  { name: 'classic zod', z: classic, Vote: classic.object({ votes: classic.number() }) },
  { name: 'zod/mini', z: mini, Vote: mini.object({ votes: mini.number() }) },
] as const;

for (const flavour of FLAVOURS) {
  describe(`koa-messages/client schemas, in an app on ${flavour.name}`, () => {
    const { z } = flavour;
    // Typed per flavour by ajaxResponseSchema's overloads; the runtime is the same.
    const Vote = ajaxResponseSchema(
      flavour.Vote as classic.ZodObject<{ votes: classic.ZodNumber }>,
    );

    it('parses real ctx.ajax() answers, with and without messages', async () => {
      const a = agent(
        buildApp({
          routes: {
            '/vote': (ctx: Context) => {
              ctx.messages.success('Vote recorded.');
              ctx.ajax({ votes: 4 }, true);
            },
            '/count': (ctx: Context) => ctx.ajax({ votes: 4 }),
            '/invalid': (ctx: Context) => {
              ctx.messages.error('Invalid choice.');
              ctx.ajax({}, false);
            },
          },
        }),
      );
      const voted = Vote.parse(JSON.parse((await a.post('/vote')).text));
      expect(voted).to.deep.equal({
        votes: 4,
        success: true,
        messages: [{ message: 'Vote recorded.', tags: 'success' }],
      });
      expect(Vote.parse(JSON.parse((await a.get('/count')).text))).to.deep.equal({ votes: 4 });
      const invalid = z.parse(ajaxResponseSchema(), JSON.parse((await a.post('/invalid')).text));
      expect(invalid).to.deep.equal({
        success: false,
        messages: [{ message: 'Invalid choice.', tags: 'error' }],
      });
    });

    it('rejects answers that break the shape', () => {
      const bad = [
        { votes: 1, messages: [] },
        { votes: 1, success: 'yes' },
        { votes: 1, messages: [{ message: 'x' }] },
        { votes: 1, messages: [{ message: 5, tags: '' }] },
        { votes: '1' },
        [],
      ];
      expect(bad.map((body) => Vote.safeParse(body).success)).to.deep.equal([
        false,
        false,
        false,
        false,
        false,
        false,
      ]);
    });

    it('gives back a schema of the flavour it was given: classic keeps its methods, mini stays mini', () => {
      const methods = ['extend', 'pick', 'optional'].filter(
        (name) => typeof (Vote as unknown as Record<string, unknown>)[name] === 'function',
      );
      expect(methods).to.deep.equal(flavour.z === classic ? ['extend', 'pick', 'optional'] : []);
      expect(Vote).to.be.instanceOf(Object.getPrototypeOf(flavour.Vote).constructor);
    });

    it('keeps a refinement of the data schema', () => {
      const refined =
        flavour.z === classic
          ? classic.object({ votes: classic.number() }).refine((v) => v.votes >= 0)
          : mini
              .object({ votes: mini.number() })
              .check(mini.refine((v: { votes: number }) => v.votes >= 0));
      const schema = ajaxResponseSchema(refined as unknown as classic.ZodObject);
      expect([{ votes: 1 }, { votes: -1 }].map((b) => schema.safeParse(b).success)).to.deep.equal([
        true,
        false,
      ]);
    });

    it('keeps unknown keys with the default schema', () => {
      expect(z.parse(ajaxResponseSchema(), { a: 1, success: true })).to.deep.equal({
        a: 1,
        success: true,
      });
    });

    it('nests the exported schemas as fields of the app’s own z.object(...)', () => {
      const Page = z.object({
        level: levelNameSchema,
        first: messageSchema,
        header: messagesHeaderSchema,
        event: messagesEventDetailSchema,
      });
      const one = { message: 'Hi', tags: 'info' };
      const page = {
        level: 'info',
        first: one,
        header: { messages: [one], other: 1 },
        event: { value: [one] },
      };
      expect(z.parse(Page, page)).to.deep.equal(page);
      expect(z.safeParse(Page, { ...page, level: 'fatal' }).success).to.equal(false);
      expect(z.safeParse(Page, { ...page, header: { messages: [] } }).success).to.equal(false);
    });
  });
}

describe('koa-messages/client schemas', () => {
  it('refuses a data schema that is not a z.object()', () => {
    for (const notAnObject of [classic.string(), mini.string(), { shape: {} }, null]) {
      expect(() => ajaxResponseSchema(notAnObject as never))
        .to.throw(
          TypeError,
          'koa-messages: ajaxResponseSchema(dataSchema) takes a z.object(...) schema.',
        )
        .with.property('code', 'ERR_KOA_MESSAGES_ARGUMENT');
    }
  });

  it('shares the level names and numbers with the server', () => {
    expect(LEVEL_NAMES).to.deep.equal(Object.keys(LEVELS));
    expect(Object.keys(levelNameSchema._zod.def.entries)).to.deep.equal([
      'debug',
      'info',
      'success',
      'warning',
      'error',
    ]);
    expect(mini.safeParse(levelNameSchema, 'fatal').success).to.equal(false);
    expect(classic.parse(messageSchema, { message: 'a', tags: 'b' })).to.deep.equal({
      message: 'a',
      tags: 'b',
    });
  });
});
