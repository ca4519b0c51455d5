import { expect } from 'chai';
import type { Context } from 'koa';
import * as z from 'zod';

import { messagesHeaderSchema } from '../../src/client/index.js';
import type { MessagesOptions } from '../../src/index.js';
import { agent, buildApp, readAll } from '../helpers/app.js';

const HX = { 'HX-Request': 'true' };

/** A cookie-carrying client of an app whose `/add` adds messages and whose other routes answer fragments. */
function client(
  options: MessagesOptions = { htmx: true },
  extra: Record<string, (ctx: Context) => unknown> = {},
) {
  return agent(
    buildApp({
      options,
      routes: {
        '/add': (ctx) => {
          ctx.messages.success('Saved.');
          ctx.messages.error('Bad <input>.');
          ctx.status = 204;
        },
        '/fragment': (ctx) => {
          ctx.body = '<li>row</li>';
        },
        '/page': (ctx) => {
          ctx.body = `<ul>${readAll(ctx)}</ul>`;
        },
        ...extra,
      },
    }),
  );
}

const TWO =
  '{"messages":[{"message":"Saved.","tags":"success"},{"message":"Bad &lt;input&gt;.","tags":"error"}]}';

describe('the htmx transport (option `htmx`): messages in HX-Trigger', () => {
  it('puts the pending messages of an htmx request into HX-Trigger, escaped, and consumes them', async () => {
    const a = client();
    await a.post('/add').expect(204);
    const res = await a.get('/fragment').set(HX).expect(200, '<li>row</li>');
    expect(res.headers['hx-trigger']).to.equal(TWO);
    expect(z.parse(messagesHeaderSchema, JSON.parse(res.headers['hx-trigger']!))).to.deep.equal(
      JSON.parse(TWO),
    );
    // The same marking as any response that showed messages.
    expect(res.headers['cache-control']).to.equal('private, no-store');
    expect(res.headers['vary']).to.equal('Cookie');
    expect((await a.get('/page')).text).to.equal('<ul></ul>');
  });

  it('adds messages in the same request to HX-Trigger too', async () => {
    const a = client(
      { htmx: true },
      {
        '/save': (ctx) => {
          ctx.messages.info('Done.');
          ctx.body = 'ok';
        },
      },
    );
    const res = await a.post('/save').set(HX).expect(200, 'ok');
    expect(res.headers['hx-trigger']).to.equal('{"messages":[{"message":"Done.","tags":"info"}]}');
  });

  it('is off by default, and never touches a request without HX-Request: true', async () => {
    for (const [options, headers] of [
      [{}, HX],
      [{ htmx: true }, {}],
      [{ htmx: true }, { 'HX-Request': 'false' }],
    ] as const) {
      const a = client(options);
      await a.post('/add').expect(204);
      const res = await a.get('/fragment').set(headers).expect(200);
      expect(res.headers['hx-trigger']).to.equal(undefined);
      expect(res.headers['cache-control']).to.equal(undefined);
      expect((await a.get('/page')).text).to.equal(
        '<ul>25:success:Saved.|40:error:Bad <input>.</ul>',
      );
    }
  });

  it('leaves alone a handler that showed the messages itself: a boosted page that lists them, ctx.ajax()', async () => {
    const a = client();
    await a.post('/add').expect(204);
    const page = await a
      .get('/page')
      .set({ ...HX, 'HX-Boosted': 'true' })
      .expect(200);
    expect(page.text).to.equal('<ul>25:success:Saved.|40:error:Bad <input>.</ul>');
    expect(page.headers['hx-trigger']).to.equal(undefined);

    const b = client({ htmx: true }, { '/json': (ctx) => ctx.ajax({ ok: 1 }) });
    await b.post('/add').expect(204);
    const json = await b.get('/json').set(HX).expect(200);
    expect(json.body.messages).to.have.length(2);
    expect(json.headers['hx-trigger']).to.equal(undefined);
  });

  it('merges with the handler’s own HX-Trigger: a JSON object keeps its text, an event list becomes keys', async () => {
    const cases: [string, string][] = [
      [
        '{"closeModal":{"id":3}}',
        '{"closeModal":{"id":3},"messages":[{"message":"Hi.","tags":"info"}]}',
      ],
      ['{}', '{"messages":[{"message":"Hi.","tags":"info"}]}'],
      ['closeModal', '{"closeModal":{},"messages":[{"message":"Hi.","tags":"info"}]}'],
      [' a , b ,', '{"a":{},"b":{},"messages":[{"message":"Hi.","tags":"info"}]}'],
    ];
    for (const [own, merged] of cases) {
      const a = client(
        { htmx: true },
        {
          '/own': (ctx) => {
            ctx.messages.info('Hi.');
            ctx.set('HX-Trigger', own);
            ctx.body = 'x';
          },
        },
      );
      expect((await a.get('/own').set(HX)).headers['hx-trigger']).to.equal(merged);
    }
  });

  it('keeps the messages pending, and the handler’s HX-Trigger unchanged, when that header cannot take them', async () => {
    for (const own of ['{not json', '{"messages":1}', 'messages, other']) {
      const a = client(
        { htmx: true },
        {
          '/own': (ctx) => {
            ctx.messages.info('Hi.');
            ctx.set('HX-Trigger', own);
            ctx.body = 'x';
          },
        },
      );
      const res = await a.get('/own').set(HX).expect(200);
      expect(res.headers['hx-trigger']).to.equal(own);
      expect((await a.get('/page')).text).to.equal('<ul>20:info:Hi.</ul>');
    }
  });

  it('follows the delivery rules: nothing on a 5xx, a thrown error, HEAD, OPTIONS, a prefetch or a redirect', async () => {
    const a = client(
      { htmx: true },
      {
        '/fail': (ctx) => {
          ctx.status = 503;
          ctx.body = 'down';
        },
        '/throw': () => {
          throw new Error('boom');
        },
        '/redirect': (ctx) => ctx.redirect('/page'),
      },
    );
    await a.post('/add').expect(204);
    const tries = [
      a.get('/fail').set(HX).expect(503),
      a.get('/throw').set(HX).expect(500),
      a.head('/fragment').set(HX).expect(200),
      a.options('/fragment').set(HX),
      a
        .get('/fragment')
        .set({ ...HX, 'Sec-Purpose': 'prefetch' })
        .expect(200),
      a.get('/redirect').set(HX).redirects(0).expect(302),
    ];
    for (const attempt of tries) expect((await attempt).headers['hx-trigger']).to.equal(undefined);
    expect((await a.get('/fragment').set(HX)).headers['hx-trigger']).to.equal(TWO);
  });

  it('delivers on a 4xx, which htmx reads the header of without swapping', async () => {
    const a = client(
      { htmx: true },
      {
        '/invalid': (ctx) => {
          ctx.messages.error('Name is required.');
          ctx.status = 422;
          ctx.body = '';
        },
      },
    );
    const res = await a.post('/invalid').set(HX).expect(422);
    expect(res.headers['hx-trigger']).to.equal(
      '{"messages":[{"message":"Name is required.","tags":"error"}]}',
    );
  });

  it('escapes non-ASCII as \\uXXXX so the header is ASCII and JSON.parse gives the text back', async () => {
    const text = 'Grüße — “quoted” 🎉 ok';
    const a = client(
      { htmx: true },
      {
        '/say': (ctx) => {
          ctx.messages.info(text);
          ctx.body = 'x';
        },
      },
    );
    const res = await a.get('/say').set(HX).expect(200);
    const raw = res.headers['hx-trigger']!;
    expect(raw).to.equal(
      '{"messages":[{"message":"Gr\\u00fc\\u00dfe \\u2014 \\u201cquoted\\u201d \\ud83c\\udf89 ok","tags":"info"}]}',
    );
    expect(/^[\x20-\x7e]*$/.test(raw)).to.equal(true);
    expect(JSON.parse(raw).messages[0].message).to.equal(text);
  });

  it('sends no more than maxHeaderBytes: the oldest messages that fit, the rest stay pending in order', async () => {
    const a = client(
      { htmx: true, maxHeaderBytes: 256 },
      {
        '/many': (ctx) => {
          for (let i = 1; i <= 8; i++)
            ctx.messages.info(`Message number ${i} with some padding text.`);
          ctx.body = 'x';
        },
      },
    );
    const first = await a.get('/many').set(HX).expect(200);
    const raw = first.headers['hx-trigger']!;
    expect(raw.length).to.be.at.most(256);
    const sent = JSON.parse(raw).messages.map((m: { message: string }) => m.message);
    expect(sent).to.deep.equal([1, 2, 3].map((i) => `Message number ${i} with some padding text.`));
    // 4 would be 289 bytes. The next htmx answer takes the next three, then a page takes what is left: none lost.
    const second = await a.get('/fragment').set(HX).expect(200);
    expect(
      JSON.parse(second.headers['hx-trigger']!).messages.map((m: { message: string }) => m.message),
    ).to.deep.equal([4, 5, 6].map((i) => `Message number ${i} with some padding text.`));
    expect((await a.get('/page')).text).to.equal(
      '<ul>20:info:Message number 7 with some padding text.|20:info:Message number 8 with some padding text.</ul>',
    );
  });

  it('keeps a message larger than maxHeaderBytes pending for a page (never dropped)', async () => {
    const big = 'x'.repeat(400);
    const a = client(
      { htmx: true, maxHeaderBytes: 256 },
      {
        '/big': (ctx) => {
          ctx.messages.warning(big);
          ctx.body = 'x';
        },
      },
    );
    expect((await a.get('/big').set(HX)).headers['hx-trigger']).to.equal(undefined);
    expect((await a.get('/page')).text).to.equal(`<ul>30:warning:${big}</ul>`);
  });

  it('refuses a bad `htmx` or `maxHeaderBytes` with a TypeError that names the option', () => {
    for (const [options, name] of [
      [{ htmx: 'yes' }, 'htmx'],
      [{ maxHeaderBytes: 100 }, 'maxHeaderBytes'],
      [{ maxHeaderBytes: 1.5 }, 'maxHeaderBytes'],
    ] as const) {
      expect(() => buildApp({ options: options as MessagesOptions, routes: {} }))
        .to.throw(TypeError, /^koa-messages: /)
        .with.property('message')
        .that.contains(`\`${name}\``);
    }
  });
});

describe('the header transport for bodiless answers: ctx.messages.toHeader() and X-Messages', () => {
  const routes = {
    '/delete': (ctx: Context) => {
      ctx.messages.success('Deleted “ünïcode” <b>row</b>.');
      ctx.messages.toHeader();
      ctx.status = 204;
    },
    '/download': (ctx: Context) => {
      ctx.messages.info('Export ready.');
      ctx.messages.toHeader();
      ctx.type = 'text/csv';
      ctx.body = 'a,b\n1,2\n';
    },
    '/moved': (ctx: Context) => {
      ctx.messages.info('Moved.');
      ctx.messages.toHeader();
      ctx.status = 303;
      ctx.redirect('/page');
    },
  };

  it('sends the messages of a 204 in X-Messages, escaped and ASCII-safe, and consumes them', async () => {
    const a = client({}, routes);
    const res = await a.delete('/delete').expect(204);
    expect(res.headers['x-messages']).to.equal(
      '{"messages":[{"message":"Deleted \\u201c\\u00fcn\\u00efcode\\u201d &lt;b&gt;row&lt;/b&gt;.","tags":"success"}]}',
    );
    expect(
      z.parse(messagesHeaderSchema, JSON.parse(res.headers['x-messages']!)).messages[0]!.message,
    ).to.equal('Deleted “ünïcode” &lt;b&gt;row&lt;/b&gt;.');
    expect(res.headers['cache-control']).to.equal('private, no-store');
    expect((await a.get('/page')).text).to.equal('<ul></ul>');
  });

  it('sends them beside a file download’s body, with or without the htmx option', async () => {
    for (const options of [{}, { htmx: true }]) {
      const res = await client(options, routes).get('/download').set(HX).expect(200, 'a,b\n1,2\n');
      expect(res.headers['x-messages']).to.equal(
        '{"messages":[{"message":"Export ready.","tags":"info"}]}',
      );
      expect(res.headers['hx-trigger']).to.equal(undefined);
    }
  });

  it('keeps them pending on a redirect, whose headers fetch never shows: the followed page has them', async () => {
    const a = client({}, routes);
    const res = await a.post('/moved').redirects(0).expect(303);
    expect(res.headers['x-messages']).to.equal(undefined);
    expect((await a.get('/page')).text).to.equal('<ul>20:info:Moved.</ul>');
  });

  it('is per response: without toHeader() a bodiless answer leaves the messages pending', async () => {
    const a = client({});
    const res = await a.post('/add').expect(204);
    expect(res.headers['x-messages']).to.equal(undefined);
    expect((await a.get('/page')).text).to.equal(
      '<ul>25:success:Saved.|40:error:Bad <input>.</ul>',
    );
  });
});
