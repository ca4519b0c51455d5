import { expect } from 'chai';
import type { Context, Next } from 'koa';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import session from 'koa-session';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';

import { escapeHtml, type Flash, messages } from '../src/index.js';
import { TEST_KEYS } from './helpers/app.js';

const flashOf = (ctx: Context) => {
  const c = ctx as unknown as { flash: Flash };
  return (type: string): string[] => c.flash(type);
};

/** Form bodies for passport-local (no body-parser dependency): `ctx.request.body`. */
async function form(ctx: Context, next: Next): Promise<void> {
  if (ctx.is('application/x-www-form-urlencoded')) {
    let raw = '';
    for await (const chunk of ctx.req) raw += String(chunk);
    (ctx.request as unknown as { body: unknown }).body = Object.fromEntries(
      new URLSearchParams(raw),
    );
  }
  await next();
}

const list = (texts: string[]) =>
  `<ul>${texts.map((t) => `<li>${escapeHtml(t)}</li>`).join('')}</ul>`;

/**
 * A login flow as koa-passport's README writes it: koa-session, messages({ flash: true }),
 * passport.initialize(), a local strategy, and pages that show what passport flashed, read through
 * ctx.flash(type) or through ctx.messages.
 */
function loginApp(read: 'flash' | 'messages') {
  const passport = new koaPassport.KoaPassport();
  passport.use(
    new LocalStrategy((username, password, done) => {
      if (username !== 'alice') return done(null, false, { message: 'Unknown user.' });
      if (password !== 'example-password') return done(null, false, { message: 'Wrong password.' });
      return done(null, { name: 'alice' }, { message: 'Welcome back, alice.' });
    }),
  );
  const show = (ctx: Context, type: string): string =>
    read === 'flash'
      ? list(flashOf(ctx)(type))
      : list([...ctx.messages].map((m) => `${m.tags}: ${m.message}`));

  const app = new Koa();
  app.keys = TEST_KEYS;
  app.silent = true;
  app.use(session(app));
  app.use(messages({ flash: true }));
  app.use(form);
  app.use(passport.initialize());
  app.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/login') {
      return passport.authenticate('local', {
        session: false,
        failureRedirect: '/login',
        failureFlash: true,
        successRedirect: '/',
        successFlash: true,
      })(ctx, next);
    }
    if (ctx.path === '/login') ctx.body = `<h1>Log in</h1>${show(ctx, 'error')}`;
    else if (ctx.path === '/') ctx.body = `<h1>Home</h1>${show(ctx, 'success')}`;
    else await next();
  });
  return app;
}

for (const read of ['flash', 'messages'] as const) {
  describe(`koa-passport's flashes, read through ${read === 'flash' ? "ctx.flash('error')" : 'ctx.messages'}`, () => {
    const expected = (tag: string, text: string) =>
      read === 'flash' ? `<ul><li>${text}</li></ul>` : `<ul><li>${tag}: ${text}</li></ul>`;

    it('shows "Missing credentials" once on the login page after a post without fields', async () => {
      const browser = request.agent(loginApp(read).callback());
      const post = await browser.post('/login').type('form').send({}).expect(302);
      expect(post.headers['location']).to.equal('/login');
      const page = await browser.get('/login').expect(200);
      expect(page.text).to.equal(`<h1>Log in</h1>${expected('error', 'Missing credentials')}`);
      expect((await browser.get('/login')).text).to.equal('<h1>Log in</h1><ul></ul>');
    });

    it("shows the strategy's message once after a bad password (failureFlash: true)", async () => {
      const browser = request.agent(loginApp(read).callback());
      await browser
        .post('/login')
        .type('form')
        .send({ username: 'alice', password: 'guess' })
        .expect(302)
        .expect('Location', '/login');
      expect((await browser.get('/login')).text).to.equal(
        `<h1>Log in</h1>${expected('error', 'Wrong password.')}`,
      );
      expect((await browser.get('/login')).text).to.equal('<h1>Log in</h1><ul></ul>');
    });

    it("shows the strategy's welcome once on the home page (successFlash: true)", async () => {
      const browser = request.agent(loginApp(read).callback());
      await browser
        .post('/login')
        .type('form')
        .send({ username: 'alice', password: 'example-password' })
        .expect(302)
        .expect('Location', '/');
      expect((await browser.get('/')).text).to.equal(
        `<h1>Home</h1>${expected('success', 'Welcome back, alice.')}`,
      );
      expect((await browser.get('/')).text).to.equal('<h1>Home</h1><ul></ul>');
    });
  });
}

describe("koa-passport's flashes with ctx.flash('error') read on another page", () => {
  it('leaves a success flash pending while the login page consumes only errors', async () => {
    const browser = request.agent(loginApp('flash').callback());
    await browser.post('/login').type('form').send({ username: 'bob', password: 'x' }).expect(302);
    await browser
      .post('/login')
      .type('form')
      .send({ username: 'alice', password: 'example-password' })
      .expect(302);
    expect((await browser.get('/login')).text).to.equal(
      '<h1>Log in</h1><ul><li>Unknown user.</li></ul>',
    );
    expect((await browser.get('/')).text).to.equal(
      '<h1>Home</h1><ul><li>Welcome back, alice.</li></ul>',
    );
  });
});
