import { expect } from 'chai';
import type { Context } from 'koa';

import { LEVELS } from '../../src/index.js';
import { inRequest } from '../helpers/one-request.js';

// Django's add_level_messages: the six messages its level and tag tests add, in order.
function addLevelMessages(ctx: Context): void {
  ctx.messages.add('info', 'A generic info message');
  ctx.messages.add(29, 'Some custom level');
  ctx.messages.add('debug', 'A debugging message', { extraTags: 'extra-tag' });
  ctx.messages.add('warning', 'A warning');
  ctx.messages.add('error', 'An error');
  ctx.messages.add('success', 'This was a triumph.');
}

describe('levels, threshold and tags (Django)', () => {
  it('exports the five standard levels as integers', () => {
    expect(LEVELS).to.deep.equal({ debug: 10, info: 20, success: 25, warning: 30, error: 40 });
    expect(Object.isFrozen(LEVELS)).to.equal(true);
  });

  it('records everything but debug at the default threshold (info)', async () => {
    const body = await inRequest((ctx) => {
      addLevelMessages(ctx);
      return { level: ctx.messages.level, size: ctx.messages.size };
    });
    expect(body).to.deep.equal({ level: 20, size: 5 });
  });

  it('records all six with a threshold of 5 set in the request', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.level = 5;
      addLevelMessages(ctx);
      return { level: ctx.messages.level, size: ctx.messages.size };
    });
    expect(body).to.deep.equal({ level: 5, size: 6 });
  });

  it('records only warning and error with a threshold of 30', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.level = 'warning';
      addLevelMessages(ctx);
      return [...ctx.messages].map(String);
    });
    expect(body).to.deep.equal(['A warning', 'An error']);
  });

  it('takes the configured threshold (29) and records 29, warning and error', async () => {
    const body = await inRequest(
      (ctx) => {
        addLevelMessages(ctx);
        return { level: ctx.messages.level, levels: [...ctx.messages].map((m) => m.level) };
      },
      { level: 29 },
    );
    expect(body).to.deep.equal({ level: 29, levels: [29, 30, 40] });
  });

  it('records a message whose level equals the threshold (inclusive)', async () => {
    const body = await inRequest(
      (ctx) => {
        ctx.messages.add(25, 'At the threshold');
        ctx.messages.add(24, 'Just below');
        return [...ctx.messages].map(String);
      },
      { level: 'success' },
    );
    expect(body).to.deep.equal(['At the threshold']);
  });

  it('restores the configured threshold when `undefined` is assigned', async () => {
    const body = await inRequest(
      (ctx) => {
        ctx.messages.level = 40;
        const raised = ctx.messages.level;
        ctx.messages.level = undefined;
        return [raised, ctx.messages.level];
      },
      { level: 'warning' },
    );
    expect(body).to.deep.equal([40, 30]);
  });

  it('gives each message its tags: extra tags first, then the level tag, empty parts left out', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.level = 0;
      addLevelMessages(ctx);
      ctx.messages.add('info', 'No extra tags');
      return [...ctx.messages].map((m) => [m.tags, m.levelTag, m.extraTags]);
    });
    expect(body).to.deep.equal([
      ['info', 'info', ''],
      ['', '', ''],
      ['extra-tag debug', 'debug', 'extra-tag'],
      ['warning', 'warning', ''],
      ['error', 'error', ''],
      ['success', 'success', ''],
      ['info', 'info', ''],
    ]);
  });

  it('merges the `tags` option over the defaults ("" hides a tag, custom levels get theirs)', async () => {
    const body = await inRequest(
      (ctx) => {
        ctx.messages.level = 0;
        addLevelMessages(ctx);
        return [...ctx.messages].map((m) => m.tags);
      },
      { tags: { 20: 'info', 10: '', warning: '', 40: 'bad', 29: 'custom' } },
    );
    expect(body).to.deep.equal(['info', 'custom', 'extra-tag', '', 'bad', 'success']);
  });

  it('keeps extra tags as one string, never split or trimmed', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.info('Spaced', { extraTags: ' a  b ' });
      return [...ctx.messages].map((m) => m.tags);
    });
    expect(body).to.deep.equal([' a  b  info']);
  });

  it('takes extraTags: null as no extra tags, as Django takes None', async () => {
    const result = await inRequest((ctx) => {
      ctx.messages.info('No extras', { extraTags: null });
      return [...ctx.messages].map((m) => [m.tags, m.extraTags]);
    });
    expect(result).to.deep.equal([['info', '']]);
  });

  it('offers a shortcut per level that adds at that level', async () => {
    const body = await inRequest((ctx) => {
      ctx.messages.level = 'debug';
      ctx.messages.debug('d');
      ctx.messages.info('i');
      ctx.messages.success('s', { extraTags: 'x' });
      ctx.messages.warning('w');
      ctx.messages.error('e', { html: true });
      return [...ctx.messages].map((m) => [m.level, m.message, m.tags, m.html]);
    });
    expect(body).to.deep.equal([
      [10, 'd', 'debug', false],
      [20, 'i', 'info', false],
      [25, 's', 'x success', false],
      [30, 'w', 'warning', false],
      [40, 'e', 'error', true],
    ]);
  });

  // connect-flash and ctx.flash spell it `warn`; every place that takes a level name agrees.
  it("takes 'warn' as 'warning' in the level option, ctx.messages.level, add() and tags", async () => {
    const body = await inRequest(
      (ctx) => {
        const fromOption = ctx.messages.level;
        ctx.messages.add('warn', 'added as warn');
        ctx.messages.info('below the threshold');
        ctx.messages.level = 'warn';
        return {
          fromOption,
          fromSetter: ctx.messages.level,
          messages: [...ctx.messages].map((m) => [m.level, m.levelTag, m.tags]),
        };
      },
      { level: 'warn', tags: { warn: 'caution' } },
    );
    expect(body).to.deep.equal({
      fromOption: 30,
      fromSetter: 30,
      messages: [[30, 'caution', 'caution']],
    });
  });
});
