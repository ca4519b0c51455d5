import { expect } from 'chai';
import type { Context } from 'koa';
import Koa from 'koa';
import request from 'supertest';

import { type Flash, isMessagesError, messages } from '../src/index.js';
import { assertMessages } from '../src/testing/index.js';
import { agent, buildApp } from './helpers/app.js';

/** `ctx.flash` as the app sees it with `flash: true` (docs/flash.md shows the one-line opt-in). */
const flashOf = (ctx: Context): Flash => {
  const c = ctx as unknown as { flash: Flash };
  return ((...args: Parameters<Flash>) => c.flash(...args)) as Flash;
};

/** Routes that run what the query says: `/add?type=error&m=a&m=b`, `/take?type=error`, `/all`. */
function flashApp(options: Parameters<typeof messages>[0] = {}) {
  const texts = (ctx: Context) => ([] as string[]).concat((ctx.query.m as string[]) ?? []);
  return buildApp({
    options: { flash: true, ...options },
    routes: {
      '/add': (ctx) => {
        const type = ctx.query.type as string;
        ctx.body = { count: flashOf(ctx)(type, texts(ctx)) };
      },
      '/take': (ctx) => {
        ctx.body = flashOf(ctx)(ctx.query.type as string);
      },
      '/all': (ctx) => {
        ctx.body = flashOf(ctx)();
      },
      '/show': (ctx) => {
        ctx.ajax();
      },
    },
  });
}

describe('ctx.flash (connect-flash API)', () => {
  it('is not there unless messages({ flash: true })', async () => {
    const app = buildApp({
      routes: {
        '/': (ctx) => {
          ctx.body = { defined: 'flash' in ctx };
        },
      },
    });
    expect((await request(app.callback()).get('/')).text).to.equal('{"defined":false}');
  });

  it('adds with util.format arguments or an array and returns the count for that type', async () => {
    const app = buildApp({
      options: { flash: true },
      routes: {
        '/add': (ctx) => {
          const flash = flashOf(ctx);
          ctx.body = [
            flash('error', 'Upload %s failed after %d tries.', 'report.pdf', 3),
            flash('error', ['Second.', 'Third.']),
            flash('info', 'Plain text with %s and no arguments.'),
            flash('notice', 'A notice.'),
            flash('error', []),
          ];
          ctx.status = 200;
        },
        '/show': (ctx) => {
          ctx.ajax();
        },
      },
    });
    const a = agent(app);
    expect((await a.get('/add')).text).to.equal('[1,3,1,1,3]');
    assertMessages(await a.get('/show'), [
      { message: 'Upload report.pdf failed after 3 tries.', tags: 'error' },
      { message: 'Second.', tags: 'error' },
      { message: 'Third.', tags: 'error' },
      { message: 'Plain text with %s and no arguments.', tags: 'info' },
      { message: 'A notice.', tags: 'notice info' },
    ]);
  });

  it('counts messages of the type already pending from earlier requests', async () => {
    const a = agent(flashApp());
    expect((await a.get('/add?type=error&m=One.')).text).to.equal('{"count":1}');
    expect((await a.get('/add?type=notice&m=N.')).text).to.equal('{"count":1}');
    expect((await a.get('/add?type=error&m=Two.')).text).to.equal('{"count":2}');
  });

  it('reads one type and consumes only that type; the others stay for ctx.messages', async () => {
    const a = agent(flashApp());
    await a.get('/add?type=error&m=E1.&m=E2.');
    await a.get('/add?type=notice&m=N1.');
    await a.get('/add?type=info&m=I1.');
    expect((await a.get('/take?type=error')).text).to.equal('["E1.","E2."]');
    expect((await a.get('/take?type=error')).text).to.equal('[]');
    assertMessages(await a.get('/show'), [
      { message: 'N1.', tags: 'notice info' },
      { message: 'I1.', tags: 'info' },
    ]);
    assertMessages(await a.get('/show'), []);
  });

  it("round-trips a custom type: ctx.flash('notice') finds what ctx.flash('notice', …) added", async () => {
    const a = agent(flashApp());
    await a.get('/add?type=notice&m=Maintenance at noon.');
    await a.get('/add?type=info&m=Plain info.');
    expect((await a.get('/take?type=info')).text).to.equal('["Plain info."]');
    expect((await a.get('/take?type=notice')).text).to.equal('["Maintenance at noon."]');
  });

  it('maps error, warning/warn, success, info and debug to their levels', async () => {
    const a = agent(flashApp({ level: 'debug' }));
    for (const type of ['error', 'warning', 'warn', 'success', 'info', 'debug'])
      await a.get(`/add?type=${type}&m=${type}.`);
    assertMessages(await a.get('/show'), [
      { message: 'error.', level: 'error' },
      { message: 'warning.', level: 'warning' },
      { message: 'warn.', tags: 'warning' },
      { message: 'success.', level: 'success' },
      { message: 'info.', level: 'info' },
      { message: 'debug.', level: 'debug' },
    ]);
  });

  it("reads 'warn' as warning messages, and a debug flash below the level is not kept", async () => {
    const a = agent(flashApp());
    await a.get('/add?type=warning&m=W.');
    expect((await a.get('/add?type=debug&m=Hidden.')).text).to.equal('{"count":0}');
    expect((await a.get('/take?type=warn')).text).to.equal('["W."]');
    assertMessages(await a.get('/show'), []);
  });

  it('returns every type with ctx.flash() and consumes everything', async () => {
    const a = agent(flashApp());
    expect((await a.get('/all')).text).to.equal('{}');
    await a.get('/add?type=error&m=E.');
    await a.get('/add?type=notice&m=N.');
    await a.get('/add?type=warn&m=W.');
    await a.get('/add?type=error&m=E2.');
    expect((await a.get('/all')).text).to.equal(
      '{"error":["E.","E2."],"notice":["N."],"warning":["W."]}',
    );
    assertMessages(await a.get('/show'), []);
  });

  it('finds nothing on a second read in the same request, by type or all, nor in ctx.ajax()', async () => {
    const app = buildApp({
      options: { flash: true },
      routes: {
        '/add': (ctx) => {
          ctx.body = flashOf(ctx)('error', ['E.', 'F.']);
        },
        '/twice': (ctx) => {
          const flash = flashOf(ctx);
          const first = flash('error');
          ctx.body = [first, flash('error'), flash('info', 'Later.'), flash()];
        },
        '/all-then-ajax': (ctx) => {
          const all = flashOf(ctx)();
          ctx.ajax({ all });
        },
      },
    });
    const a = agent(app);
    await a.get('/add');
    expect((await a.get('/twice')).text).to.equal('[["E.","F."],[],1,{"info":["Later."]}]');
    await a.get('/add');
    expect((await a.get('/all-then-ajax')).text).to.equal('{"all":{"error":["E.","F."]}}');
    expect((await a.get('/all-then-ajax')).text).to.equal('{"all":{}}');
  });

  it('files messages added through ctx.messages under their level tag in ctx.flash()', async () => {
    const app = buildApp({
      options: { flash: true, tags: { 29: 'custom' } },
      routes: {
        '/': (ctx) => {
          ctx.messages.error('Tagged error.', { extraTags: 'sticky' });
          ctx.messages.add(29, 'Custom level.');
          ctx.messages.add(31, 'No tag.');
          ctx.body = flashOf(ctx)();
        },
      },
    });
    // (JSON puts the integer-like key first.)
    expect((await request(app.callback()).get('/')).text).to.equal(
      '{"31":["No tag."],"error":["Tagged error."],"custom":["Custom level."]}',
    );
  });

  it('does not consume what a HEAD request or a failed response read by type', async () => {
    const app = buildApp({
      options: { flash: true },
      routes: {
        '/add': (ctx) => {
          ctx.body = flashOf(ctx)('error', 'Kept.');
        },
        '/take': (ctx) => {
          ctx.body = flashOf(ctx)('error').join();
        },
        '/fail': (ctx) => {
          flashOf(ctx)('error');
          ctx.throw(503);
        },
        '/show': (ctx) => {
          ctx.ajax();
        },
      },
    });
    const a = agent(app);
    await a.get('/add');
    await a.head('/take').expect(200);
    await a.get('/fail').expect(503);
    assertMessages(await a.get('/show'), [{ message: 'Kept.', level: 'error' }]);
  });

  it('rejects a bad type or message with a TypeError and changes nothing', async () => {
    const errors: string[] = [];
    const app = buildApp({
      options: { flash: true },
      routes: {
        '/add': (ctx) => {
          ctx.body = flashOf(ctx)('error', 'Pending.');
        },
        '/bad': (ctx) => {
          const flash = flashOf(ctx) as unknown as (...args: unknown[]) => unknown;
          const calls: unknown[][] = [
            [42],
            [42, 'x'],
            [''],
            ['two words', 'x'],
            ['error', {}],
            ['error', 7],
            ['error', ['ok', 1]],
            ['error', ['a'], 'format argument'],
            [null, 'x'],
          ];
          for (const args of calls) {
            try {
              flash(...args);
              errors.push(`no error for ${JSON.stringify(args)}`);
            } catch (error) {
              errors.push(
                isMessagesError(error, 'ERR_KOA_MESSAGES_ARGUMENT') && error instanceof TypeError
                  ? 'TypeError'
                  : String(error),
              );
            }
          }
          ctx.body = 'done';
        },
        '/show': (ctx) => {
          ctx.ajax();
        },
      },
    });
    const a = agent(app);
    await a.get('/add');
    const bad = await a.get('/bad').expect(200);
    expect(bad.headers['set-cookie']).to.equal(undefined);
    expect(errors).to.deep.equal(Array(9).fill('TypeError'));
    assertMessages(await a.get('/show'), [{ message: 'Pending.', level: 'error' }]);
  });

  it('round-trips types through the cookie storage too', async () => {
    const a = agent(flashApp({ storage: 'cookie' }));
    await a.get('/add?type=notice&m=N.');
    await a.get('/add?type=error&m=E.');
    expect((await a.get('/take?type=notice')).text).to.equal('["N."]');
    expect((await a.get('/all')).text).to.equal('{"error":["E."]}');
    expect((await a.get('/all')).text).to.equal('{}');
  });

  it('refuses to replace an app’s own ctx.flash, at the first request', async () => {
    const app = new Koa();
    app.silent = true;
    (app.context as unknown as { flash: () => string }).flash = () => 'mine';
    const seen: string[] = [];
    app.on('error', (error: Error) =>
      seen.push(isMessagesError(error) ? error.code : String(error)),
    );
    app.use(messages({ storage: 'memory', flash: true }));
    await request(app.callback()).get('/').expect(500);
    expect(seen).to.deep.equal(['ERR_KOA_MESSAGES_OPTION']);
  });

  it('rejects a non-boolean flash option', () => {
    expect(() => messages({ flash: 'yes' as never })).to.throw(TypeError, /`flash`/);
  });
});
