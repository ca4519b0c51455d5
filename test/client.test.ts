import { expect } from 'chai';
import type { Context } from 'koa';
import { z } from 'zod';

import {
  ajaxResponseSchema,
  LEVEL_NAMES,
  levelNameSchema,
  LEVELS,
  messageSchema,
} from '../src/client/index.js';
import { agent, buildApp } from './helpers/app.js';

describe('koa-messages/client schemas', () => {
  const Vote = ajaxResponseSchema(z.object({ votes: z.number() }));

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
    const invalid = ajaxResponseSchema().parse(JSON.parse((await a.post('/invalid')).text));
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

  it('keeps unknown keys with the default schema', () => {
    expect(ajaxResponseSchema().parse({ a: 1, success: true })).to.deep.equal({
      a: 1,
      success: true,
    });
  });

  it('refuses a data schema that is not a z.object()', () => {
    expect(() => ajaxResponseSchema(z.string() as never)).to.throw(
      TypeError,
      'koa-messages: ajaxResponseSchema(dataSchema) takes a z.object(...) schema.',
    );
  });

  it('shares the level names and numbers with the server', () => {
    expect(LEVEL_NAMES).to.deep.equal(Object.keys(LEVELS));
    expect(levelNameSchema.options).to.deep.equal(['debug', 'info', 'success', 'warning', 'error']);
    expect(levelNameSchema.safeParse('fatal').success).to.equal(false);
    expect(messageSchema.parse({ message: 'a', tags: 'b' })).to.deep.equal({
      message: 'a',
      tags: 'b',
    });
  });
});
