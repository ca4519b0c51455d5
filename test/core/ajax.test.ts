import { expect } from 'chai';
import type { Context } from 'koa';
import request from 'supertest';

import { agent, buildApp } from '../helpers/app.js';

/** An app whose `/` route runs `handler` with memory storage. */
function appWith(handler: (ctx: Context) => unknown, options = {}) {
  return buildApp({
    options: { storage: 'memory', ...options },
    session: false,
    routes: { '/': handler },
  });
}

const get = (handler: (ctx: Context) => unknown, options = {}) =>
  request(appWith(handler, options).callback()).get('/');

describe('ctx.ajax() (djem AjaxResponse)', () => {
  it('answers {} with no data and no messages', async () => {
    const res = await get((ctx) => ctx.ajax()).expect(200);
    expect(res.text).to.equal('{}');
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
  });

  it('answers the data as given', async () => {
    const res = await get((ctx) => ctx.ajax({ test: 'test' })).expect(200);
    expect(res.text).to.equal('{"test":"test"}');
  });

  it('adds success: true', async () => {
    expect((await get((ctx) => ctx.ajax(undefined, true))).text).to.equal('{"success":true}');
  });

  it('adds success: false', async () => {
    expect((await get((ctx) => ctx.ajax(undefined, false))).text).to.equal('{"success":false}');
  });

  it('coerces success to a boolean ("dumb" → true, 0 → false, [] → true)', async () => {
    expect((await get((ctx) => ctx.ajax({}, 'dumb'))).text).to.equal('{"success":true}');
    expect((await get((ctx) => ctx.ajax({}, 0))).text).to.equal('{"success":false}');
    expect((await get((ctx) => ctx.ajax({}, ''))).text).to.equal('{"success":false}');
    expect((await get((ctx) => ctx.ajax({}, []))).text).to.equal('{"success":true}');
  });

  it('puts data keys first, then success', async () => {
    expect((await get((ctx) => ctx.ajax({ test: 'test' }, true))).text).to.equal(
      '{"test":"test","success":true}',
    );
  });

  it("leaves the data's own success alone when success is undefined or null, and replaces it otherwise", async () => {
    expect((await get((ctx) => ctx.ajax({ success: 'maybe', a: 1 }))).text).to.equal(
      '{"success":"maybe","a":1}',
    );
    expect((await get((ctx) => ctx.ajax({ success: 'maybe', a: 1 }, null))).text).to.equal(
      '{"success":"maybe","a":1}',
    );
    expect((await get((ctx) => ctx.ajax({ success: 'maybe', a: 1 }, false))).text).to.equal(
      '{"success":false,"a":1}',
    );
  });

  it('merges the messages in order, with their tags', async () => {
    const res = await get((ctx) => {
      ctx.messages.success('This is a success message.');
      ctx.messages.error('This is an error message.');
      ctx.messages.add('info', 'This is an info message.', { extraTags: 'special' });
      ctx.ajax();
    });
    expect(res.text).to.equal(
      '{"messages":[{"message":"This is a success message.","tags":"success"},' +
        '{"message":"This is an error message.","tags":"error"},' +
        '{"message":"This is an info message.","tags":"special info"}]}',
    );
    expect(res.headers['cache-control']).to.equal('private, no-store');
    expect(res.headers['vary']).to.equal('Cookie');
  });

  it('escapes message HTML unless the message was added as html, and never escapes tags', async () => {
    const res = await get((ctx) => {
      ctx.messages.error('This is a message <em>with bad HTML</em>.', { extraTags: 'a&b' });
      ctx.messages.success('This is a message <em>with safe HTML</em>.', { html: true });
      ctx.messages.info(`Tom & "Jerry" 'quoted'`);
      ctx.ajax();
    });
    expect(res.text).to.equal(
      '{"messages":[{"message":"This is a message &lt;em&gt;with bad HTML&lt;/em&gt;.","tags":"a&b error"},' +
        '{"message":"This is a message <em>with safe HTML</em>.","tags":"success"},' +
        '{"message":"Tom &amp; &quot;Jerry&quot; &#x27;quoted&#x27;","tags":"info"}]}',
    );
  });

  it('sends text as it is with escape: false', async () => {
    const res = await get(
      (ctx) => {
        ctx.messages.error('<b>raw</b>');
        ctx.ajax();
      },
      { escape: false },
    );
    expect(res.text).to.equal('{"messages":[{"message":"<b>raw</b>","tags":"error"}]}');
  });

  it('answers data, then success, then messages', async () => {
    const res = await get((ctx) => {
      ctx.messages.success('This is a success message.');
      ctx.ajax({ test: 'test' }, true);
    });
    expect(res.text).to.equal(
      '{"test":"test","success":true,"messages":[{"message":"This is a success message.","tags":"success"}]}',
    );
  });

  it("replaces the data's messages key when there are messages, and keeps it when there are none", async () => {
    expect((await get((ctx) => ctx.ajax({ messages: 'mine' }))).text).to.equal(
      '{"messages":"mine"}',
    );
    const res = await get((ctx) => {
      ctx.messages.info('Theirs');
      ctx.ajax({ messages: 'mine', n: 1 });
    });
    expect(res.text).to.equal('{"messages":[{"message":"Theirs","tags":"info"}],"n":1}');
  });

  it('never mutates the caller’s object and returns the body it sent', async () => {
    const res = await get((ctx) => {
      const data = { votes: 3 };
      ctx.messages.success('Vote recorded.');
      const body = ctx.ajax(data, true);
      ctx.body = JSON.stringify({ data, body, same: body === (data as unknown) });
    });
    expect(JSON.parse(res.text)).to.deep.equal({
      data: { votes: 3 },
      body: { votes: 3, success: true, messages: [{ message: 'Vote recorded.', tags: 'success' }] },
      same: false,
    });
  });

  it('keeps a JSON-parsed __proto__ key as a plain key and changes no prototype', async () => {
    const res = await get((ctx) => {
      const data = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
      ctx.messages.info('hi');
      const body = ctx.ajax(data, true);
      ctx.set(
        'X-Polluted',
        String(({} as Record<string, string | undefined>)['polluted'] ?? 'no') +
          ',' +
          String(Object.getPrototypeOf(body) === Object.prototype),
      );
    });
    expect(res.text).to.equal(
      '{"__proto__":{"polluted":true},"a":1,"success":true,"messages":[{"message":"hi","tags":"info"}]}',
    );
    expect(res.headers['x-polluted']).to.equal('no,true');
  });

  it('accepts an object with a null prototype', async () => {
    const res = await get((ctx) => {
      const data = Object.create(null) as Record<string, unknown>;
      data['k'] = 'v';
      ctx.ajax(data);
    });
    expect(res.text).to.equal('{"k":"v"}');
  });

  it('applies init.status and init.headers', async () => {
    const res = await get((ctx) => {
      ctx.messages.error('Invalid choice.');
      ctx.ajax({}, false, { status: 422, headers: { 'X-Poll': '1' } });
    }).expect(422);
    expect(res.headers['x-poll']).to.equal('1');
    expect(res.text).to.equal(
      '{"success":false,"messages":[{"message":"Invalid choice.","tags":"error"}]}',
    );
  });

  it('keeps a status the handler set before when init has none', async () => {
    await get((ctx) => {
      ctx.status = 201;
      ctx.ajax({ id: 7 });
    }).expect(201, '{"id":7}');
  });

  it('leaves an answer without messages cacheable, but only per cookie (it looked for messages)', async () => {
    const res = await get((ctx) => ctx.ajax({ a: 1 }));
    expect(res.headers['cache-control']).to.equal(undefined);
    expect(res.headers['vary']).to.equal('Cookie');
  });
});

describe('ctx.ajax() across requests (session storage)', () => {
  const routes = {
    '/vote': (ctx: Context) => {
      ctx.messages.success('Vote recorded.');
      ctx.status = 303;
      ctx.redirect('/votes');
    },
    '/votes': (ctx: Context) => {
      ctx.messages.info('Fresh count.');
      ctx.ajax({ votes: 3 }, true);
    },
    '/quiet': (ctx: Context) => ctx.ajax({ votes: 3 }),
  };

  it('delivers a message added before a redirect once, with the new ones after it', async () => {
    const a = agent(buildApp({ routes }));
    await a.post('/vote').expect(303);
    expect((await a.get('/votes')).text).to.equal(
      '{"votes":3,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"},{"message":"Fresh count.","tags":"info"}]}',
    );
    expect((await a.get('/quiet')).text).to.equal('{"votes":3}');
  });

  it('consumes nothing when the data is rejected', async () => {
    const app = buildApp({
      routes: {
        ...routes,
        '/bad': (ctx: Context) => {
          try {
            ctx.ajax([1, 2] as never);
          } catch (error) {
            ctx.body = (error as Error).message;
          }
        },
      },
    });
    const a = agent(app);
    await a.post('/vote').expect(303);
    expect((await a.get('/bad')).text).to.equal(
      'koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got an array.',
    );
    expect((await a.get('/quiet')).text).to.equal(
      '{"votes":3,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
    );
  });

  it('consumes nothing when the body cannot be serialized', async () => {
    const app = buildApp({
      routes: {
        ...routes,
        '/bigint': (ctx: Context) => {
          try {
            ctx.ajax({ n: 10n });
          } catch (error) {
            ctx.body = `${(error as Error).name}: ${(error as Error).message}`;
          }
        },
      },
    });
    const a = agent(app);
    await a.post('/vote').expect(303);
    expect((await a.get('/bigint')).text).to.equal(
      'TypeError: koa-messages: ctx.ajax() body cannot be serialized to JSON: Do not know how to serialize a BigInt',
    );
    expect((await a.get('/quiet')).text).to.equal(
      '{"votes":3,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
    );
  });
});
