import views from '@ladjs/koa-views';
import { expect } from 'chai';
import Koa from 'koa';
import session from 'koa-session';
import request from 'supertest';

import { createApp } from '../../example/app.js';
import { templateEnv, VIEWS_DIR } from '../../example/views.js';
import { messages } from '../../src/index.js';

const LIST = '<ul id="messages" class="message-list" aria-live="polite">';
const CLOSE = '<button type="button" class="message-close" aria-label="Dismiss">×</button>';

/** An app that renders the demo's messages partial with nunjucks, as the demo's pages do. */
function partialApp(add: (ctx: Koa.Context) => void): Koa {
  const app = new Koa();
  app.keys = ['test-key-example-only'];
  app.use(session(app));
  app.use(messages());
  app.use(
    views(VIEWS_DIR, {
      extension: 'njk',
      map: { njk: 'nunjucks' },
      options: { nunjucksEnv: templateEnv() },
    }),
  );
  app.use(async (ctx) => {
    if (ctx.path === '/add') {
      add(ctx);
      ctx.status = 204;
    } else await ctx.render('_messages');
  });
  return app;
}

describe('server-rendered messages through nunjucks (@ladjs/koa-views)', () => {
  it('lists the messages with their tags, escapes a <script>, prints only `html: true` text as markup', async () => {
    const a = request.agent(
      partialApp((ctx) => {
        ctx.messages.error('<script>window.pwned = 1</script>');
        ctx.messages.info('<b>Welcome</b> back', { html: true, extraTags: 'greeting' });
      }).callback(),
    );
    await a.post('/add').expect(204);
    const page = await a.get('/').expect(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.text).to.contain(
      `${LIST}<li class="message error"><span class="message-text">&lt;script&gt;window.pwned = 1&lt;/script&gt;</span>${CLOSE}</li>` +
        `<li class="message greeting info"><span class="message-text"><b>Welcome</b> back</span>${CLOSE}</li></ul>`,
    );
    // Shown once: the loop consumed them, and the page is marked as one visitor's.
    expect(page.headers['cache-control']).to.equal('private, no-store');
    expect(page.headers['vary']).to.equal('Cookie');
    expect((await a.get('/').expect(200)).text).to.contain(`${LIST}</ul>`);
  });

  it('sends the messages of the htmx fragment in HX-Trigger when htmx asks (the demo turns `htmx` on)', async () => {
    const a = request.agent(createApp({ keys: ['test-key-example-only'] }).callback());
    const fragment = await a
      .post('/htmx/choices')
      .set('HX-Request', 'true')
      .type('form')
      .send({ text: 'Thé <b>' })
      .expect(200);
    expect(fragment.text).to.contain('<span class="choice-text">Thé &lt;b&gt;</span>');
    expect(fragment.headers['hx-trigger']).to.equal(
      '{"messages":[{"message":"Added \\u201cTh\\u00e9 &lt;b&gt;\\u201d to the poll.","tags":"success"}]}',
    );
    expect((await a.get('/').expect(200)).text).to.contain(`${LIST}</ul>`);
  });

  it('leaves the messages pending when the template does not iterate them (the demo’s results fragment)', async () => {
    const a = request.agent(createApp({ keys: ['test-key-example-only'] }).callback());
    // htmx's route answers with _results.njk, which never mentions `messages`; asked without
    // HX-Request (a plain client), nothing else delivers them, so they wait for the next full page.
    const fragment = await a.post('/htmx/choices').type('form').send({ text: 'Tea' }).expect(200);
    expect(fragment.text).to.match(/^<section class="way results" id="results"/);
    expect(fragment.text).to.contain('<span class="choice-text">Tea</span>');
    expect(fragment.text).not.to.contain('Added');
    // Private all the same: it wrote the session cookie that now holds the message.
    expect(fragment.headers['cache-control']).to.equal('private, no-store');
    expect(fragment.headers['hx-trigger']).to.equal(undefined);
    const page = await a.get('/').expect(200);
    expect(page.text).to.contain(
      `${LIST}<li class="message success"><span class="message-text">Added “Tea” to the poll.</span>${CLOSE}</li></ul>`,
    );
  });
});
