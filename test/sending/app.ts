import type { Context } from 'koa';

import type { MessagesOptions, Outbox } from '../../src/index.js';
import { agent, buildApp, readAll } from '../helpers/app.js';

/** The session's user, as an app's login sets it (koa-passport's role, without passport). */
export const sessionUser = (ctx: Context): string | undefined =>
  (ctx.session as { user?: string } | null)?.user;

/**
 * An app that sends and shows messages to logged-in users: `/login?user=` and `/logout` set the
 * session's user; `/page` lists what `ctx.messages` yields; `/add?text=` adds a visitor message
 * and redirects (a form POST); `/fail` reads and throws; `/ajax` answers with ctx.ajax().
 */
export function sendingApp(outbox: Outbox, options: MessagesOptions = {}) {
  return buildApp({
    options: { outbox, user: sessionUser, ...options },
    routes: {
      '/login': (ctx) => {
        ctx.session!.user = String(ctx.query['user']);
        ctx.body = 'ok';
      },
      '/logout': (ctx) => {
        ctx.session!.user = undefined;
        ctx.body = 'ok';
      },
      '/page': (ctx) => {
        ctx.body = readAll(ctx);
      },
      '/add': (ctx) => {
        ctx.messages.info(String(ctx.query['text']));
        ctx.redirect('/page');
      },
      '/keyed': (ctx) => {
        ctx.messages.info(String(ctx.query['text']), { key: String(ctx.query['key']) });
        ctx.body = readAll(ctx);
      },
      '/fail': (ctx) => {
        readAll(ctx);
        throw new Error('the handler failed');
      },
      '/nav': (ctx) => {
        readAll(ctx);
        ctx.set('HX-Redirect', '/page');
        ctx.body = '';
      },
      '/ajax': (ctx) => {
        ctx.ajax({ ok: true });
      },
      '/quiet': (ctx) => {
        ctx.body = 'no messages here';
      },
    },
  });
}

/** A browser of `user` on `app`: logged in, cookies carried. */
export async function loggedIn(app: ReturnType<typeof buildApp>, user: string) {
  const browser = agent(app);
  await browser.get('/login').query({ user }).expect(200);
  return browser;
}

/** Texts of a `/page` body (`level:tags:text|…`). */
export const texts = (body: string): string[] =>
  body === '' ? [] : body.split('|').map((m) => m.split(':').slice(2).join(':'));
