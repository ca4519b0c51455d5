import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';
import * as classic from 'zod';
import * as mini from 'zod/mini';

import { ajax, AjaxError, messagesFromHeader, onMessages } from '../../src/client/index.js';
import { buildApp } from '../helpers/app.js';

/** The app's data schemas, written with classic zod or with zod/mini: ajax() takes both. */
const FLAVOURS = [
  {
    name: 'classic zod',
    Vote: classic.object({ votes: classic.number() }),
    notAnObject: classic.array(classic.number()),
  },
  {
    name: 'zod/mini',
    Vote: mini.object({ votes: mini.number() }),
    notAnObject: mini.array(mini.number()),
  },
] as const;

for (const { name, Vote, notAnObject } of FLAVOURS) {
  describe(`client ajax(), data schemas on ${name}`, () => {
    let server: Server;
    let base: string;
    /** The headers of each request the server saw. */
    let seen: Record<string, string | string[] | undefined>[];

    before(async () => {
      const app = buildApp({
        routes: {
          '/vote': (ctx) => {
            ctx.messages.success('Vote recorded.');
            ctx.ajax({ votes: 3 }, true);
          },
          '/invalid-choice': (ctx) => {
            ctx.messages.error('Invalid choice.');
            ctx.ajax({}, false);
          },
          '/rejected': (ctx) => {
            ctx.messages.warning('Too many votes <today>.');
            ctx.ajax({ retryAfter: 60 }, false, { status: 429 });
          },
          '/quiet': (ctx) => {
            ctx.ajax({ votes: 4 });
          },
          '/wrong-shape': (ctx) => {
            ctx.ajax({ votes: 'three' }, true);
          },
          '/empty-messages': (ctx) => {
            ctx.body = { votes: 1, messages: [] };
          },
          '/crash': () => {
            throw new Error('boom');
          },
          '/deleted': (ctx) => {
            ctx.messages.success('Row “3” deleted.');
            ctx.messages.toHeader();
            ctx.status = 204;
          },
          '/bad-header': (ctx) => {
            ctx.set('X-Messages', '{"messages":"no"}');
            ctx.status = 204;
          },
          '/echo': (ctx) => {
            ctx.ajax({ method: ctx.method, body: ctx.get('Content-Type') });
          },
        },
      });
      const listening = app.listen(0, '127.0.0.1');
      listening.on('request', (req) => seen.push(req.headers));
      await new Promise((resolve) => listening.once('listening', resolve));
      server = listening;
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    beforeEach(() => {
      seen = [];
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('returns the typed data, the messages and success of a ctx.ajax() answer', async () => {
      const result = await ajax(`${base}/vote`, { method: 'POST' }, Vote);
      expect(result).to.deep.equal({
        success: true,
        data: { votes: 3 },
        messages: [{ message: 'Vote recorded.', tags: 'success' }],
        status: 200,
      });
      // Types: data is the schema's type once a failure is ruled out, and unchecked before.
      // @ts-expect-error a success:false answer's data is not checked, so votes may be anything
      const unchecked: number = result.data.votes;
      if (result.success !== false) {
        const votes: number = result.data.votes;
        expect(votes).to.equal(unchecked);
      }
    });

    it('asks for JSON and says it is an XMLHttpRequest-style call', async () => {
      await ajax(`${base}/vote`, { method: 'POST' }, Vote);
      expect(seen[0]?.['accept']).to.equal('application/json');
      expect(seen[0]?.['x-requested-with']).to.equal('XMLHttpRequest');
    });

    it('keeps headers the caller set and adds its own only where missing', async () => {
      const result = await ajax(`${base}/echo`, {
        method: 'PUT',
        headers: { Accept: 'application/vnd.polls+json', 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(seen[0]?.['accept']).to.equal('application/vnd.polls+json');
      expect(seen[0]?.['x-requested-with']).to.equal('XMLHttpRequest');
      expect(result.data).to.deep.equal({ method: 'PUT', body: 'application/json' });
    });

    it('returns a success:false answer as a result with its messages, without checking its data', async () => {
      const result = await ajax(`${base}/invalid-choice`, { method: 'POST' }, Vote);
      expect(result).to.deep.equal({
        success: false,
        data: {},
        messages: [{ message: 'Invalid choice.', tags: 'error' }],
        status: 200,
      });
    });

    it('parses an error status the same way: the 429 with success:false and escaped message text is a result', async () => {
      const result = await ajax(`${base}/rejected`, { method: 'POST' }, Vote);
      expect(result).to.deep.equal({
        success: false,
        data: { retryAfter: 60 },
        messages: [{ message: 'Too many votes &lt;today&gt;.', tags: 'warning' }],
        status: 429,
      });
    });

    it('gives success undefined and no messages when the server sent neither', async () => {
      const result = await ajax(`${base}/quiet`, undefined, Vote);
      expect(result).to.deep.equal({
        success: undefined,
        data: { votes: 4 },
        messages: [],
        status: 200,
      });
    });

    it('keeps every data key when no data schema is given', async () => {
      const result = await ajax(`${base}/rejected`);
      expect(result.data).to.deep.equal({ retryAfter: 60 });
      const quiet = await ajax(`${base}/quiet`);
      expect(quiet.data).to.deep.equal({ votes: 4 });
    });

    it('throws AjaxError "invalid", naming the key, when the data does not match the schema', async () => {
      const error = await ajax(`${base}/wrong-shape`, { method: 'POST' }, Vote).then(
        () => expect.fail('ajax() resolved'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(AjaxError);
      const e = error as AjaxError;
      expect(e.name).to.equal('AjaxError');
      expect(e.reason).to.equal('invalid');
      expect(e.status).to.equal(200);
      expect(e.issues.map((i) => i.path)).to.deep.equal([['votes']]);
      expect(e.message).to.equal(
        `POST ${base}/wrong-shape answered 200 with an unexpected body: Invalid input: expected number, received string at votes`,
      );
    });

    it('throws AjaxError "invalid" for an empty messages list, which ctx.ajax() never sends', async () => {
      const error = (await ajax(`${base}/empty-messages`).catch((e: unknown) => e)) as AjaxError;
      expect(error).to.be.instanceOf(AjaxError);
      expect(error.reason).to.equal('invalid');
      expect(error.issues.map((i) => i.path)).to.deep.equal([['messages']]);
    });

    it('throws AjaxError "not-json" with the status when the server answers with an error page', async () => {
      const error = (await ajax(`${base}/crash`).catch((e: unknown) => e)) as AjaxError;
      expect(error).to.be.instanceOf(AjaxError);
      expect(error.reason).to.equal('not-json');
      expect(error.status).to.equal(500);
      expect(error.message).to.equal(
        `GET ${base}/crash answered 500 with a body that is not JSON.`,
      );
    });

    it('throws AjaxError "network" when nothing answers', async () => {
      // A port that was just free: nothing listens on it.
      const probe = buildApp({ routes: {} }).listen(0, '127.0.0.1');
      await new Promise((resolve) => probe.once('listening', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));

      const error = (await ajax(`http://127.0.0.1:${port}/vote`, { method: 'POST' }).catch(
        (e: unknown) => e,
      )) as AjaxError;
      expect(error).to.be.instanceOf(AjaxError);
      expect(error.reason).to.equal('network');
      expect(error.status).to.equal(undefined);
      expect(error.message).to.equal(
        `POST http://127.0.0.1:${port}/vote got no answer: fetch failed`,
      );
      expect(error.cause).to.be.instanceOf(TypeError);
    });

    it('throws a TypeError for a data schema that is not z.object(...), before sending anything', async () => {
      const wrong = notAnObject as unknown as classic.ZodObject;
      const error = (await ajax(`${base}/vote`, { method: 'POST' }, wrong).catch(
        (e: unknown) => e,
      )) as TypeError;
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal(
        'koa-messages: ajaxResponseSchema(dataSchema) takes a z.object(...) schema.',
      );
      expect(seen).to.deep.equal([]);
    });

    it('reads the messages of a bodiless answer from X-Messages (ctx.messages.toHeader()) and parses the 204 as {}', async () => {
      const result = await ajax(`${base}/deleted`, { method: 'DELETE' });
      expect(result).to.deep.equal({
        success: undefined,
        data: {},
        messages: [{ message: 'Row “3” deleted.', tags: 'success' }],
        status: 204,
      });
    });

    it('ignores an X-Messages header of the wrong shape (the answer itself is still good)', async () => {
      const warn = console.warn;
      const warnings: unknown[] = [];
      console.warn = (...args: unknown[]) => void warnings.push(args[0]);
      try {
        const response = await fetch(`${base}/bad-header`);
        expect(messagesFromHeader(response)).to.deep.equal([]);
      } finally {
        console.warn = warn;
      }
      expect(String(warnings[0])).to.match(
        /^koa-messages: the X-Messages header has an unexpected shape/,
      );
    });
  });
}

describe('client onMessages(): the htmx `messages` event of htmx 2 and htmx 4', () => {
  const HI = [{ message: 'Hi', tags: 'info' }];
  let warnings: unknown[][];
  let warn: typeof console.warn;

  beforeEach(() => {
    warnings = [];
    warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args);
  });

  afterEach(() => {
    console.warn = warn;
  });

  /** Dispatch `messages` events with these details, as htmx does, and return what the handler got. */
  function deliver(...details: unknown[]): unknown[] {
    const target = new EventTarget();
    const got: unknown[] = [];
    const stop = onMessages((list) => got.push(list), target);
    for (const detail of details) target.dispatchEvent(new CustomEvent('messages', { detail }));
    stop();
    target.dispatchEvent(new CustomEvent('messages', { detail: HI }));
    return got;
  }

  it('reads htmx 2’s detail, { value: list } (with the elt htmx 2 adds beside it)', () => {
    expect(deliver({ value: HI, elt: {} })).to.deep.equal([HI]);
    expect(warnings).to.deep.equal([]);
  });

  it('reads htmx 4’s detail, the list itself', () => {
    expect(deliver(HI)).to.deep.equal([HI]);
    expect(warnings).to.deep.equal([]);
  });

  it('stops listening once the returned function is called', () => {
    expect(deliver()).to.deep.equal([]);
  });

  it('passes on nothing it cannot read, and warns for each such event instead of dropping it silently', () => {
    const unreadable = [{ value: 'not a list' }, [{ message: 'no tags' }], null, 'Hi', {}];
    expect(deliver(...unreadable)).to.deep.equal([]);
    expect(warnings.map((args) => args[1])).to.deep.equal(unreadable);
    expect(String(warnings[0]?.[0])).to.equal(
      "koa-messages: a messages event whose detail is neither htmx 4's list nor htmx 2's { value: list }; ignored: Invalid input: expected array, received string",
    );
    expect(String(warnings[1]?.[0])).to.match(
      /ignored: Invalid input: expected string, received undefined at 0\.tags$/,
    );
  });

  it('says nothing for an empty list: there is nothing to show, and nothing was lost', () => {
    expect(deliver([], { value: [] })).to.deep.equal([]);
    expect(warnings).to.deep.equal([]);
  });
});
