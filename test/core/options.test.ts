import { expect } from 'chai';

import { messages, type MessagesOptions } from '../../src/index.js';

/** The TypeError `messages(options)` throws, as a user sees it. */
function errorOf(options: unknown): string {
  try {
    messages(options as MessagesOptions);
  } catch (error) {
    expect(error).to.be.instanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error('messages() accepted the options');
}

describe('messages(options)', () => {
  it('returns a middleware named messages', () => {
    const mw = messages();
    expect(mw).to.be.a('function');
    expect(mw.name).to.equal('messages');
  });

  it('does not touch the caller’s options object', () => {
    const options = Object.freeze({
      level: 'debug',
      tags: Object.freeze({ 20: 'note' }),
    }) as MessagesOptions;
    expect(() => messages(options)).not.to.throw();
  });

  const cases: [string, unknown, string][] = [
    [
      'a non-object',
      'session',
      'koa-messages: messages(options) takes an options object, got string.',
    ],
    [
      'an unknown key',
      { storrage: 'memory' },
      'koa-messages: invalid messages() options: unknown option `storrage`.',
    ],
    [
      'an unknown storage',
      { storage: 'disk' },
      "koa-messages: invalid messages() options: option `storage` must be 'session', 'cookie', 'fallback', 'memory', or a storage object with an open(ctx) method.",
    ],
    [
      'a storage object without open()',
      { storage: { load: () => [], save: () => undefined } },
      "koa-messages: invalid messages() options: option `storage` must be 'session', 'cookie', 'fallback', 'memory', or a storage object with an open(ctx) method.",
    ],
    [
      'an unknown level name',
      { level: 'verbose' },
      "koa-messages: invalid messages() options: option `level` must be a level name ('debug', 'info', 'success', 'warning', 'error') or an integer, got 'verbose'.",
    ],
    [
      'a fractional level',
      { level: 2.5 },
      "koa-messages: invalid messages() options: option `level` must be a level name ('debug', 'info', 'success', 'warning', 'error') or an integer, got 2.5.",
    ],
    [
      'both warn and warning tags, different',
      { tags: { warn: 'a', warning: 'b' } },
      'koa-messages: invalid messages() options: option `tags` has both `warn` ("a") and `warning` ("b"), which name the same level; keep one.',
    ],
    [
      'a tag that is not a string',
      { tags: { 20: 5 } },
      'koa-messages: invalid messages() options: option `tags.20`: expected string, received number.',
    ],
    [
      'a tag key that is not a level',
      { tags: { loud: 'x' } },
      'koa-messages: invalid messages() options: option `tags` has key `loud`, which is not an integer level or a level name.',
    ],
    [
      'escape as a string',
      { escape: 'yes' },
      'koa-messages: invalid messages() options: option `escape`: expected boolean, received string.',
    ],
    [
      'a session key (an option of the session storages)',
      { sessionKey: 'flash' },
      'koa-messages: invalid messages() options: option `sessionKey` belongs to the storage: pass `storage: sessionStorage({ key }) or fallbackStorage({ sessionKey })`.',
    ],
    [
      'maxMessages of 0',
      { maxMessages: 0 },
      'koa-messages: invalid messages() options: option `maxMessages` must be a positive integer.',
    ],
    [
      'onDrop that is not a function',
      { onDrop: 'log' },
      'koa-messages: invalid messages() options: option `onDrop` must be a function.',
    ],
  ];
  for (const [what, options, message] of cases) {
    it(`throws a TypeError naming the option for ${what}`, () => {
      expect(errorOf(options)).to.equal(message);
    });
  }

  it('lists every bad option at once', () => {
    expect(errorOf({ escape: 1, nope: true })).to.equal(
      'koa-messages: invalid messages() options: option `escape`: expected boolean, received number; unknown option `nope`.',
    );
  });
});
