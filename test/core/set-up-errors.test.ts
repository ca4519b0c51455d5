import Router from '@koa/router';
import { expect } from 'chai';
import Koa from 'koa';
import session from 'koa-session';

import {
  cookieStorage,
  isMessagesError,
  messages,
  MESSAGES_ERROR_CODES,
  MessagesError,
  type MessagesOptions,
} from '../../src/index.js';
import { TEST_KEYS } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';

/** An app whose errors are recorded, not printed. */
function recordingApp(): { app: Koa; errors: unknown[] } {
  const app = new Koa();
  app.keys = TEST_KEYS;
  app.silent = true;
  const errors: unknown[] = [];
  app.on('error', (error) => errors.push(error));
  return { app, errors };
}

const codeOf = (error: unknown) => (error as { code?: unknown }).code;

describe('set-ups that cannot work fail loudly, on the first request', () => {
  describe('messages() installed before koa-session', () => {
    const orders: [string, MessagesOptions][] = [
      ['session', {}],
      ['fallback', { storage: 'fallback' }],
    ];
    for (const [storage, options] of orders) {
      it(`answers 500 with ERR_KOA_MESSAGES_NO_SESSION for storage '${storage}', and never a silent 303`, async () => {
        const { app, errors } = recordingApp();
        app.use(messages(options));
        app.use(session(app));
        app.use((ctx) => {
          ctx.messages.success('Vote recorded.');
          ctx.status = 303;
          ctx.redirect('/');
        });
        const res = await new Browser(app).go('post', '/vote');
        expect(res.status).to.equal(500);
        expect(errors).to.have.length(1);
        expect(errors[0]).to.be.instanceOf(TypeError);
        expect(codeOf(errors[0])).to.equal('ERR_KOA_MESSAGES_NO_SESSION');
        expect(String(errors[0])).to.equal(
          `TypeError: koa-messages: storage \`${storage}\` needs koa-session's middleware to run before ` +
            'messages(), and it had not run when this request reached messages(): koa-session would save the ' +
            'session before messages() writes to it, and the messages would be lost. Install koa-session first: ' +
            `app.use(session(app)); app.use(messages(${storage === 'session' ? '' : "{ storage: 'fallback' }"}));`,
        );
      });
    }

    it('fails as soon as the handler reads messages, not only at the end', async () => {
      const { app, errors } = recordingApp();
      app.use(messages());
      app.use(session(app));
      let reached = false;
      app.use((ctx) => {
        void ctx.messages.size;
        reached = true;
        ctx.body = 'ok';
      });
      expect((await new Browser(app).go('get', '/')).status).to.equal(500);
      expect(reached).to.equal(false);
      expect(codeOf(errors[0])).to.equal('ERR_KOA_MESSAGES_NO_SESSION');
    });

    it('lets a request that does not use messages through untouched', async () => {
      const { app, errors } = recordingApp();
      app.use(messages());
      app.use(session(app));
      app.use((ctx) => {
        ctx.body = 'no messages here';
      });
      const res = await new Browser(app).go('get', '/');
      expect([res.status, res.text, errors.length]).to.deep.equal([200, 'no messages here', 0]);
    });

    it('works with koa-session first, and with messages() on a router inside its scope', async () => {
      const { app, errors } = recordingApp();
      app.use(session(app));
      const router = new Router();
      router.use(messages());
      router.post('/vote', (ctx) => {
        ctx.messages.success('Vote recorded.');
        ctx.status = 303;
        ctx.redirect('/');
      });
      router.get('/', (ctx) => {
        ctx.ajax();
      });
      app.use(router.routes());
      const browser = new Browser(app);
      expect((await browser.go('post', '/vote')).status).to.equal(303);
      expect((await browser.go('get', '/')).text).to.equal(
        '{"messages":[{"message":"Vote recorded.","tags":"success"}]}',
      );
      expect(errors).to.deep.equal([]);
    });
  });

  describe('ctx.messages and ctx.ajax() where messages() has not run', () => {
    // A fresh app whose routes answer before messages(): no request ever passes through it.
    function routesFirst(handler: (ctx: Koa.Context) => unknown) {
      const { app, errors } = recordingApp();
      app.use(session(app));
      const router = new Router();
      router.get('/', (ctx) => {
        handler(ctx);
      });
      app.use(router.routes());
      app.use(messages());
      return { app, errors };
    }

    const sentence =
      'TypeError: koa-messages: ctx.messages was used where messages() middleware has not run; ' +
      'app.use(messages()) must come before the middleware or router that uses it.';

    it("gives the app's very first request the explanatory error for ctx.messages", async () => {
      const { app, errors } = routesFirst((ctx) => ctx.messages.success('Saved.'));
      expect((await new Browser(app).go('get', '/')).status).to.equal(500);
      expect(errors.map(String)).to.deep.equal([sentence]);
      expect(codeOf(errors[0])).to.equal('ERR_KOA_MESSAGES_NOT_INSTALLED');
    });

    it("gives the app's very first request the same error for ctx.ajax()", async () => {
      const { app, errors } = routesFirst((ctx) => ctx.ajax({ votes: 1 }));
      expect((await new Browser(app).go('get', '/')).status).to.equal(500);
      expect(errors.map(String)).to.deep.equal([sentence]);
    });
  });

  describe('the error class', () => {
    it('is one TypeError subclass with a stable code per kind', () => {
      let thrown: unknown;
      try {
        messages({ level: 'verbose' as never });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(MessagesError);
      expect(thrown).to.be.instanceOf(TypeError);
      expect(isMessagesError(thrown)).to.equal(true);
      expect(isMessagesError(thrown, 'ERR_KOA_MESSAGES_OPTION')).to.equal(true);
      expect(isMessagesError(thrown, 'ERR_KOA_MESSAGES_ARGUMENT')).to.equal(false);
      expect(isMessagesError(new TypeError('koa-messages: lookalike'))).to.equal(false);
      expect(String(thrown)).to.match(/^TypeError: koa-messages: invalid messages\(\) options: /);
      expect(MESSAGES_ERROR_CODES).to.deep.equal([
        'ERR_KOA_MESSAGES_OPTION',
        'ERR_KOA_MESSAGES_ARGUMENT',
        'ERR_KOA_MESSAGES_NOT_INSTALLED',
        'ERR_KOA_MESSAGES_NO_SESSION',
        'ERR_KOA_MESSAGES_NO_KEYS',
      ]);
    });

    it('says ERR_KOA_MESSAGES_NO_KEYS when a cookie storage has no app.keys', async () => {
      const { app, errors } = recordingApp();
      app.keys = undefined as never;
      app.use(messages({ storage: cookieStorage() }));
      app.use((ctx) => {
        ctx.messages.info('x');
        ctx.body = 'ok';
      });
      expect((await new Browser(app).go('get', '/')).status).to.equal(500);
      expect(codeOf(errors[0])).to.equal('ERR_KOA_MESSAGES_NO_KEYS');
    });

    it('says ERR_KOA_MESSAGES_ARGUMENT for a bad argument in a request', async () => {
      const { app, errors } = recordingApp();
      app.use(session(app));
      app.use(messages());
      app.use((ctx) => {
        ctx.messages.add('loud' as never, 'x');
      });
      expect((await new Browser(app).go('get', '/')).status).to.equal(500);
      expect(codeOf(errors[0])).to.equal('ERR_KOA_MESSAGES_ARGUMENT');
    });
  });
});
