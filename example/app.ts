import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';

// In your app: `from 'koa-messages'`. The server runs from this repository's sources; the page
// script imports the built `koa-messages/client` by name (see bundle.ts).
import { messages } from '../src/index.js';
import { readForm } from './form.js';
import { createPoll, MAX_CHOICE_LENGTH, MAX_CHOICES, type Poll } from './polls.js';
import { pollPage } from './views.js';

/** Where `npm run build:demo` writes the page's script (see `bundle.ts`). */
export const BUNDLE_FILE = fileURLToPath(new URL('../build-output/public/app.js', import.meta.url));
const STYLE_FILE = fileURLToPath(new URL('./public/style.css', import.meta.url));

export interface DemoOptions {
  /** The poll to serve; default a fresh `createPoll()`. */
  poll?: Poll;
  /** Cookie signing keys; default `SESSION_KEY` from the environment, or an example key. */
  keys?: string[];
}

/**
 * Did this request come from the page's script (`fetch` asking for JSON) rather than a plain form?
 * The vote route answers both: JSON for the script, a redirect for a browser without JavaScript.
 */
function wantsJson(ctx: Koa.Context): boolean {
  return ctx.get('X-Requested-With') === 'XMLHttpRequest' || ctx.accepts('html', 'json') === 'json';
}

/**
 * The polls demo: one question, a vote button per choice, a form to suggest a choice.
 *
 * @example
 * createApp().listen(3000, '127.0.0.1');
 */
export function createApp({ poll = createPoll(), keys }: DemoOptions = {}): Koa {
  const app = new Koa();
  // EXAMPLE key: set SESSION_KEY to a long random secret in any real deployment.
  app.keys = keys ?? [process.env['SESSION_KEY'] ?? 'example-key-change-me'];

  // Messages live in the koa-session cookie: no server-side store needed.
  app.use(session({ sameSite: 'lax', httpOnly: true }, app));
  app.use(messages());

  const router = new Router();

  router.get('/', (ctx) => {
    ctx.type = 'html';
    // The page lists ctx.messages, which consumes them: a reload will not show them again.
    ctx.body = pollPage(poll, ctx.messages);
    // The page carries one visitor's messages: no shared cache may keep it.
    ctx.set('Cache-Control', 'private, no-store');
  });

  // The seed's `vote_on_question` view.
  router.post('/choices/:id/vote', (ctx) => {
    const choice = /^\d+$/.test(ctx.params['id'] ?? '')
      ? poll.vote(Number(ctx.params['id']))
      : undefined;
    if (choice === undefined) ctx.messages.error('Invalid choice.');
    else ctx.messages.success('Vote recorded.');

    if (wantsJson(ctx)) {
      // ctx.ajax() adds the messages to the JSON and consumes them.
      if (choice === undefined) ctx.ajax({}, false);
      else ctx.ajax({ votes: choice.votes }, true);
    } else {
      // Without JavaScript the form posts here too: the messages wait in the session for the next page.
      ctx.status = 303;
      ctx.redirect('/');
    }
  });

  // Post/Redirect/Get: the message travels in the session to the page the browser loads next.
  router.post('/choices', async (ctx) => {
    const text = (await readForm(ctx)).get('text') ?? '';
    const result = poll.suggest(text);
    if ('added' in result) {
      // Plain text: the page escapes it (it may contain markup from the form).
      ctx.messages.success(`Added “${result.added.text}” to the poll.`);
    } else if (result.problem === 'empty') {
      ctx.messages.error('Type a choice before adding it.');
    } else if (result.problem === 'too-long') {
      ctx.messages.error(`A choice can be at most ${MAX_CHOICE_LENGTH} characters long.`);
    } else if (result.problem === 'duplicate') {
      ctx.messages.warning(`“${text.trim()}” is already a choice.`);
    } else {
      ctx.messages.warning(`The poll is full: it takes at most ${MAX_CHOICES} choices.`);
    }
    ctx.status = 303;
    ctx.redirect('/');
  });

  router.get('/static/style.css', async (ctx) => {
    ctx.type = 'css';
    ctx.body = await readFile(STYLE_FILE);
  });

  router.get('/static/app.js', async (ctx) => {
    ctx.type = 'application/javascript';
    try {
      ctx.body = await readFile(BUNDLE_FILE);
    } catch {
      ctx.throw(404, 'The page script is not built: run `npm run build:demo`.');
    }
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
