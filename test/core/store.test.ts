import { expect } from 'chai';

import { Message } from '../../src/index.js';
import { inRequest } from '../helpers/one-request.js';

describe('ctx.messages within one request', () => {
  it('yields message objects whose string form is their text', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.success('Vote recorded.', { extraTags: 'vote' });
      const [m] = [...ctx.messages];
      return {
        isMessage: m instanceof Message,
        string: String(m),
        // The template literal's own stringification is what is tested.
        // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- see above
        template: `${m}`,
        fields: {
          level: m!.level,
          message: m!.message,
          extraTags: m!.extraTags,
          tags: m!.tags,
          levelTag: m!.levelTag,
          html: m!.html,
        },
        json: JSON.parse(JSON.stringify(m)),
      };
    });
    expect(body).to.deep.equal({
      isMessage: true,
      string: 'Vote recorded.',
      template: 'Vote recorded.',
      fields: {
        level: 25,
        message: 'Vote recorded.',
        extraTags: 'vote',
        tags: 'vote success',
        levelTag: 'success',
        html: false,
      },
      json: {
        level: 25,
        message: 'Vote recorded.',
        extraTags: 'vote',
        html: false,
        tags: 'vote success',
        levelTag: 'success',
      },
    });
  });

  it('ignores an empty message, as Django does', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.info('');
      return { size: ctx.messages.size, used: ctx.messages.used };
    });
    expect(body).to.deep.equal({ size: 0, used: false });
  });

  it('counts with `size` without marking the store used', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.info('one');
      ctx.messages.info('two');
      return { size: ctx.messages.size, used: ctx.messages.used };
    });
    expect(body).to.deep.equal({ size: 2, used: false });
  });

  it('marks the store used on iteration, and iterating again gives the same messages', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.info('one');
      const first = [...ctx.messages];
      const used = ctx.messages.used;
      const second = [...ctx.messages];
      return {
        used,
        same: first.length === second.length && first.every((m, i) => m === second[i]),
        texts: second.map(String),
      };
    });
    expect(body).to.deep.equal({ used: true, same: true, texts: ['one'] });
  });

  it('iterates a snapshot: a message added while iterating shows on the next iteration', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.info('one');
      const seen: string[] = [];
      for (const m of ctx.messages) {
        seen.push(m.message);
        ctx.messages.info('added inside the loop');
      }
      return { seen, then: [...ctx.messages].map(String) };
    });
    expect(body).to.deep.equal({ seen: ['one'], then: ['one', 'added inside the loop'] });
  });

  it('says what it is in logs, without its contents', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.info('secret');
      return {
        tag: Object.prototype.toString.call(ctx.messages),
        json: JSON.stringify(ctx.messages),
      };
    });
    expect(body).to.deep.equal({ tag: '[object MessageStore]', json: '{}' });
  });
});
