import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import request from 'supertest';

import { createApp } from '../../example/app.js';
import { bundleClient } from '../../example/bundle.js';
import { createPoll, MAX_CHOICES } from '../../example/polls.js';

const LIST = '<ul id="messages" class="message-list" aria-live="polite">';
const NO_MESSAGES = `${LIST}</ul>`;
const item = (tags: string, text: string) =>
  `${LIST}<li class="message ${tags}"><span class="message-text">${text}</span>` +
  '<button type="button" class="message-close" aria-label="Dismiss">×</button></li></ul>';

/** A browser: cookies kept, the page asked for as HTML. */
function browser() {
  return request.agent(createApp({ keys: ['test-key-example-only'] }).callback());
}

describe('the polls demo app', () => {
  it('answers a vote from the page script with ctx.ajax() JSON: the new count, success and "Vote recorded."', async () => {
    const b = browser();
    const res = await b
      .post('/choices/2/vote')
      .set('X-Requested-With', 'XMLHttpRequest')
      .expect(200);
    expect(res.text).to.equal(
      '{"votes":1,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
    );
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(res.headers['cache-control']).to.equal('private, no-store');
    const again = await b.post('/choices/2/vote').set('Accept', 'application/json').expect(200);
    expect(again.text).to.equal(
      '{"votes":2,"success":true,"messages":[{"message":"Vote recorded.","tags":"success"}]}',
    );
  });

  it('answers a vote for a choice that does not exist with success false and "Invalid choice."', async () => {
    const b = browser();
    for (const id of ['99', 'abc', '0']) {
      const res = await b
        .post(`/choices/${id}/vote`)
        .set('X-Requested-With', 'XMLHttpRequest')
        .expect(200);
      expect(res.text).to.equal(
        '{"success":false,"messages":[{"message":"Invalid choice.","tags":"error"}]}',
      );
    }
  });

  it('leaves no message behind after a JSON answer: the next page shows none', async () => {
    const b = browser();
    await b.post('/choices/1/vote').set('X-Requested-With', 'XMLHttpRequest').expect(200);
    const page = await b.get('/').expect(200);
    expect(page.text).to.contain(NO_MESSAGES);
  });

  it('without JavaScript, redirects a vote with 303 and shows "Vote recorded." on the next page only', async () => {
    const b = browser();
    const res = await b
      .post('/choices/3/vote')
      .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
      .expect(303);
    expect(res.headers['location']).to.equal('/');
    const page = await b.get('/').expect(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.headers['cache-control']).to.equal('private, no-store');
    expect(page.text).to.contain(item('success', 'Vote recorded.'));
    expect(page.text).to.contain(
      '<span class="count">1</span> <span class="unit">vote</span> · <span class="share">100</span>%',
    );
    const reload = await b.get('/').expect(200);
    expect(reload.text).to.contain(NO_MESSAGES);
  });

  it('adds a suggested choice, redirects with 303, and shows "Added …" escaped, once', async () => {
    const b = browser();
    const res = await b
      .post('/choices')
      .type('form')
      .send({ text: '  <script>alert(1)</script>  ' })
      .expect(303);
    expect(res.headers['location']).to.equal('/');
    const page = await b.get('/').expect(200);
    expect(page.text).to.contain(
      item('success', 'Added “&lt;script&gt;alert(1)&lt;/script&gt;” to the poll.'),
    );
    expect(page.text).to.contain(
      '<span class="choice-text">&lt;script&gt;alert(1)&lt;/script&gt;</span>',
    );
    expect(page.text).to.contain('aria-label="Vote for &lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(page.text).not.to.contain('<script>alert');
    const reload = await b.get('/').expect(200);
    expect(reload.text).to.contain(NO_MESSAGES);
  });

  it('refuses an empty, a too long and a duplicate suggestion with the message that says why', async () => {
    const b = browser();
    await b.post('/choices').type('form').send({ text: '   ' }).expect(303);
    expect((await b.get('/')).text).to.contain(item('error', 'Type a choice before adding it.'));
    await b
      .post('/choices')
      .type('form')
      .send({ text: 'x'.repeat(81) })
      .expect(303);
    expect((await b.get('/')).text).to.contain(
      item('error', 'A choice can be at most 80 characters long.'),
    );
    await b.post('/choices').type('form').send({ text: 'the SKY' }).expect(303);
    expect((await b.get('/')).text).to.contain(item('warning', '“the SKY” is already a choice.'));
  });

  it('stops taking suggestions when the poll is full', async () => {
    const poll = createPoll(
      'Q?',
      Array.from({ length: MAX_CHOICES }, (_, i) => `Choice ${i + 1}`),
    );
    const b = request.agent(createApp({ poll, keys: ['test-key-example-only'] }).callback());
    await b.post('/choices').type('form').send({ text: 'One more' }).expect(303);
    expect((await b.get('/')).text).to.contain(
      item('warning', 'The poll is full: it takes at most 12 choices.'),
    );
    expect(poll.choices).to.have.length(MAX_CHOICES);
  });

  it('answers 415 to a suggestion that is not a form, and 413 to one larger than 4 KiB', async () => {
    const b = browser();
    await b.post('/choices').send({ text: 'json' }).expect(415);
    await b
      .post('/choices')
      .type('form')
      .send({ text: 'x'.repeat(5000) })
      .expect(413);
  });

  it('serves an icon at /favicon.ico (no 404 on every page load) and the htmx script', async () => {
    const b = browser();
    const icon = await b.get('/favicon.ico').expect(200);
    expect(icon.headers['content-type']).to.equal('image/svg+xml');
    expect(icon.body.toString()).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const htmx = await b.get('/static/htmx.js').expect(200);
    expect(htmx.headers['content-type']).to.equal('application/javascript; charset=utf-8');
    expect(htmx.text).to.contain('htmx');
  });

  it('serves its stylesheet and the bundled page script', async () => {
    await bundleClient();
    const b = browser();
    const css = await b.get('/static/style.css').expect(200);
    expect(css.headers['content-type']).to.equal('text/css; charset=utf-8');
    const js = await b.get('/static/app.js').expect(200);
    expect(js.headers['content-type']).to.equal('application/javascript; charset=utf-8');
    expect(js.text).to.contain('The server sent an unexpected answer.');
  });

  it('prints the address it listens on, 127.0.0.1 as the README says, and serves there', async function () {
    this.timeout(60_000);
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    delete env['HOST'];
    delete env['NODE_V8_COVERAGE'];
    const child = spawn(process.execPath, ['--import=tsx', 'example/server.ts'], {
      cwd: root,
      env,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
      });
      expect(line).to.match(/^Polls demo: http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to stop\)$/);
      const url = /http:\/\/\S+/.exec(line)![0];
      expect((await fetch(url)).status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
