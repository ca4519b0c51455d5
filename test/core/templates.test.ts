import { expect } from 'chai';
import type { Context } from 'koa';

import { escapeHtml, type MessageStore } from '../../src/index.js';
import { agent, buildApp } from '../helpers/app.js';

/**
 * A template as a view engine would run it: it receives `ctx.state` as its locals and loops over
 * `messages` (Django's context processor gives `messages` and `DEFAULT_MESSAGE_LEVELS` the same way).
 */
function render(locals: Record<string, unknown>, showMessages: boolean): string {
  const levels = locals['messageLevels'] as Record<string, number>;
  const items = showMessages
    ? [...(locals['messages'] as MessageStore)].map(
        (m) =>
          `<li class="${m.tags}"${m.level >= levels['error']! ? ' role="alert"' : ''}>${escapeHtml(m.message)}</li>`,
      )
    : [];
  return `<ul>${items.join('')}</ul>`;
}

describe('ctx.state for server-rendered pages', () => {
  const routes = {
    '/add': (ctx: Context) => {
      ctx.messages.error('Invalid <choice>.');
      ctx.messages.success('Saved.');
      ctx.status = 303;
      ctx.redirect('/page');
    },
    '/page': (ctx: Context) => {
      ctx.type = 'html';
      ctx.body = render(ctx.state, true);
    },
    '/no-messages-page': (ctx: Context) => {
      ctx.type = 'html';
      ctx.body = render(ctx.state, false);
    },
  };

  it('exposes the store and the level map, and a page that loops over them consumes the messages', async () => {
    const a = agent(buildApp({ routes }));
    await a.post('/add').expect(303);
    const page = await a.get('/page').expect(200);
    expect(page.text).to.equal(
      '<ul><li class="error" role="alert">Invalid &lt;choice&gt;.</li><li class="success">Saved.</li></ul>',
    );
    expect(page.headers['cache-control']).to.equal('private, no-store');
    expect(page.headers['vary']).to.equal('Cookie');
    expect((await a.get('/page')).text).to.equal('<ul></ul>');
  });

  it('leaves the messages pending when the page does not loop over them', async () => {
    const a = agent(buildApp({ routes }));
    await a.post('/add').expect(303);
    const plain = await a.get('/no-messages-page').expect(200, '<ul></ul>');
    expect(plain.headers['cache-control']).to.equal(undefined);
    expect((await a.get('/page')).text).to.equal(
      '<ul><li class="error" role="alert">Invalid &lt;choice&gt;.</li><li class="success">Saved.</li></ul>',
    );
  });
});
