import { expect } from 'chai';
import Koa from 'koa';

import { agent, buildApp } from '../helpers/app.js';

// Where Koa 2 and Koa 3 differ in ways a messages app meets (docs/koa2.md). Runs under both majors.
const KOA2 = typeof (new Koa().context as { back?: unknown }).back !== 'function';

describe(`Koa ${KOA2 ? 2 : 3}: what differs between the majors`, () => {
  const app = () =>
    buildApp({
      routes: {
        '/save': (ctx) => {
          ctx.messages.success('Saved.');
          ctx.status = 303;
          // The portable "back": Koa 3 has ctx.back(); Koa 2 has only ctx.redirect('back', alt).
          const c = ctx as unknown as {
            back?: (alt: string) => void;
            redirect: (url: string, alt?: string) => void;
          };
          if (typeof c.back === 'function') c.back('/home');
          else c.redirect('back', '/home');
        },
        '/literal-back': (ctx) => {
          ctx.messages.success('Saved.');
          ctx.status = 303;
          ctx.redirect('back');
        },
        '/form': (ctx) => {
          ctx.ajax();
        },
      },
    });

  it('sends a same-origin Referer back, with the message, through the portable back', async () => {
    const a = agent(app());
    const res = await a.post('/save').set('Referer', '/form').expect(303);
    expect(res.headers['location']).to.equal('/form');
    expect((await a.get('/form')).text).to.equal(
      '{"messages":[{"message":"Saved.","tags":"success"}]}',
    );
  });

  it("takes ctx.redirect('back') as Koa 2's Referer redirect, and as a path named back on Koa 3", async () => {
    const res = await agent(app()).post('/literal-back').set('Referer', '/form').expect(303);
    // Koa 3 removed the special case: the message waits, but the browser goes to ./back.
    expect(res.headers['location']).to.equal(KOA2 ? '/form' : 'back');
  });

  it('keeps the message pending when the thrown error is ENOENT (Koa 2 answers 404, Koa 3 500)', async () => {
    const a = agent(
      buildApp({
        // The cookie storage: its Set-Cookie travels on err.headers, which both majors' error handlers apply.
        session: false,
        options: { storage: 'cookie' },
        routes: {
          '/read': (ctx) => {
            ctx.messages.info('Kept.');
            throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
          },
          '/show': (ctx) => {
            ctx.ajax();
          },
        },
      }),
    );
    await a.get('/read').expect(KOA2 ? 404 : 500);
    expect((await a.get('/show')).text).to.equal(
      '{"messages":[{"message":"Kept.","tags":"info"}]}',
    );
  });
});
