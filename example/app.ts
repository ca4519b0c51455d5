import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import Router from '@koa/router';
import views from '@ladjs/koa-views';
import Koa from 'koa';
import session from 'koa-session';

// In your app: `from 'koa-messages'`. The server runs from this repository's sources; the page
// script imports the built `koa-messages/client` by name (see bundle.ts).
import { memoryOutbox, messages, messagesLive, type Outbox } from '../src/index.js';
import { readForm } from './form.js';
import { createPoll, MAX_CHOICE_LENGTH, MAX_CHOICES, type Poll } from './polls.js';
import { demoUser, ensureDemoUser, startReport } from './report.js';
import { pollLocals, templateEnv, VIEWS_DIR } from './views.js';

/** Where `npm run build:demo` writes the page's script (see `bundle.ts`). */
export const BUNDLE_FILE = fileURLToPath(new URL('../build-output/public/app.js', import.meta.url));
const STYLE_FILE = fileURLToPath(new URL('./public/style.css', import.meta.url));
const FAVICON_FILE = fileURLToPath(new URL('./public/favicon.svg', import.meta.url));
// The browser build htmx ships, served as is (the page loads it with a plain <script>).
const HTMX_FILE = createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js');

export interface DemoOptions {
  /** The poll to serve; default a fresh `createPoll()`. */
  poll?: Poll;
  /** Cookie signing keys; default `SESSION_KEY` from the environment, or an example key. */
  keys?: string[];
  /** How long a toast that is not an error stays, in milliseconds; default 6000. */
  toastMs?: number;
  /** Where messages to users wait (docs/sending.md); default a fresh `memoryOutbox()`. */
  outbox?: Outbox;
  /** How long the "Prepare a report" worker takes, in milliseconds; default 2000. */
  reportMs?: number;
}

/**
 * Did this request come from the page's script (`fetch` asking for JSON) rather than a plain form?
 * The vote route answers both: JSON for the script, a redirect for a browser without JavaScript.
 */
function wantsJson(ctx: Koa.Context): boolean {
  return ctx.get('X-Requested-With') === 'XMLHttpRequest' || ctx.accepts('html', 'json') === 'json';
}

/** Add a suggested choice to the poll, or say why not, as a message. */
function suggest(ctx: Koa.Context, poll: Poll, text: string): void {
  const result = poll.suggest(text);
  if ('added' in result) {
    // Plain text: the templates escape it (it may contain markup from the form).
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
}

/**
 * The polls demo: one question, a vote button per choice, a form to suggest a choice.
 *
 * @example
 * createApp().listen(3000, '127.0.0.1');
 */
export function createApp({
  poll = createPoll(),
  keys,
  toastMs = 6000,
  outbox = memoryOutbox(),
  reportMs = 2000,
}: DemoOptions = {}): Koa {
  const app = new Koa();
  // EXAMPLE key: set SESSION_KEY to a long random secret in any real deployment.
  app.keys = keys ?? [process.env['SESSION_KEY'] ?? 'example-key-change-me'];

  // Messages live in the koa-session cookie: no server-side store needed.
  app.use(session({ sameSite: 'lax', httpOnly: true }, app));
  // htmx: an htmx request whose answer does not list the messages gets them in HX-Trigger.
  // outbox + user: messages sent to the demo's pseudo-user (a report job's) reach their tabs.
  app.use(messages({ htmx: true, outbox, user: demoUser }));
  // Server-rendered pages: nunjucks through @ladjs/koa-views. `ctx.render()` hands the templates
  // ctx.state, where messages() put `messages`: a template that loops over it consumes them.
  app.use(
    views(VIEWS_DIR, {
      extension: 'njk',
      map: { njk: 'nunjucks' },
      options: { nunjucksEnv: templateEnv() },
    }),
  );

  const router = new Router();

  router.get('/', async (ctx) => {
    // The page lists ctx.state.messages, which consumes them: a reload will not show them again.
    await ctx.render('poll', { ...pollLocals(poll), toastMs, live: demoUser(ctx) !== undefined });
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
    suggest(ctx, poll, (await readForm(ctx)).get('text') ?? '');
    ctx.status = 303;
    ctx.redirect('/');
  });

  // The same suggestion from htmx: the answer is the results fragment, which does not list the
  // messages, so koa-messages sends them in the HX-Trigger header (option `htmx`).
  router.post('/htmx/choices', async (ctx) => {
    suggest(ctx, poll, (await readForm(ctx)).get('text') ?? '');
    await ctx.render('_results', pollLocals(poll));
  });

  // "Prepare a report": a worker finishes later and sends the user a message, shown live in one tab.
  router.post('/report', (ctx) => {
    startReport(outbox, ensureDemoUser(ctx), reportMs);
    ctx.messages.info('Preparing your report…');
    if (wantsJson(ctx)) ctx.ajax({}, true);
    else {
      ctx.status = 303;
      ctx.redirect('/');
    }
  });

  // The open tabs' event stream (koa-messages/client `live()`).
  router.get('/messages/live', messagesLive());

  router.get('/static/style.css', async (ctx) => {
    ctx.type = 'css';
    ctx.body = await readFile(STYLE_FILE);
  });

  router.get(['/favicon.ico', '/static/favicon.svg'], async (ctx) => {
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = await readFile(FAVICON_FILE);
  });

  router.get('/static/htmx.js', async (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = await readFile(HTMX_FILE);
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
