import { expect } from 'chai';

import { agent, buildApp } from './helpers/app.js';

describe('smoke', () => {
  it('carries a message across a redirect and shows it once', async () => {
    const app = buildApp({
      routes: {
        '/add': (ctx) => {
          ctx.messages.success('Vote recorded.');
          ctx.status = 303;
          ctx.redirect('/show');
        },
        '/show': (ctx) => {
          ctx.ajax({ votes: 3 }, true);
        },
      },
    });
    const a = agent(app);
    await a.post('/add').expect(303);
    const res = await a.get('/show').expect(200);
    expect(res.text).to.equal(
      '{"votes":3,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
    );
    const again = await a.get('/show').expect(200);
    expect(again.text).to.equal('{"votes":3,"success":true}');
  });
});
