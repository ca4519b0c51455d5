import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';
import Koa from 'koa';
import session from 'koa-session';
import { type Browser, chromium, type Page } from 'playwright-core';

import { BUNDLE_FILE, createApp } from '../../example/app.js';
import { bundleClient } from '../../example/bundle.js';
import { messages } from '../../src/index.js';
import { PAGE_ZOD, pageZodInputs } from '../helpers/page-zod.js';
import { ensureDebianPackage } from '../helpers/system.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const { resolve } = createRequire(import.meta.url);
/**
 * The real htmx packages, their browser builds: htmx 2 (`htmx.org` 2.x) wraps the `messages` list
 * of HX-Trigger as `event.detail.value`, htmx 4 (the `htmx4` alias of `htmx.org` 4.x) hands the
 * list itself as `event.detail`; htmx 4 also swaps a 5xx answer, which htmx 2 does not.
 */
const HTMX_VERSIONS = [
  { major: 2, file: resolve('htmx.org/dist/htmx.min.js'), swapsErrors: false },
  { major: 4, file: resolve('htmx4/dist/htmx.min.js'), swapsErrors: true },
] as const;

const TRICKY = 'Grüße “quoted” 🎉 <script>window.__pwned = true</script> & done';

declare global {
  interface Window {
    __pwned?: boolean;
    __marker?: number;
  }
}

/**
 * A page with real htmx and the demo's script (whose onMessages() shows toasts), and routes that
 * answer fragments: one adds a message and fails with a 500, one succeeds.
 */
function fixture(htmxFile: string): Koa {
  const app = new Koa();
  app.keys = ['test-key-example-only'];
  app.silent = true;
  app.use(session(app));
  app.use(messages({ htmx: true }));
  app.use(async (ctx) => {
    if (ctx.path === '/') {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><title>htmx</title>
<script type="module" src="/app.js"></script><script src="/htmx.js"></script></head>
<body data-toast-ms="60000"><main><ul id="messages" aria-live="polite"></ul>
<div id="target">empty</div>
<button hx-post="/fail" hx-target="#target">Fail</button>
<button hx-post="/next" hx-target="#target">Next</button></main></body></html>`;
    } else if (ctx.path === '/fail') {
      ctx.messages.warning(TRICKY);
      ctx.status = 500;
      ctx.body = 'server error';
    } else if (ctx.path === '/next') {
      ctx.body = '<p id="swapped">fragment</p>';
    } else if (ctx.path === '/htmx.js') {
      ctx.type = 'application/javascript';
      ctx.body = await readFile(htmxFile);
    } else if (ctx.path === '/app.js') {
      ctx.type = 'application/javascript';
      ctx.body = await readFile(BUNDLE_FILE);
    }
  });
  return app;
}

for (const htmx of HTMX_VERSIONS) {
  describe(`messages over htmx ${htmx.major} (the real htmx.org) in headless Chromium, the page on ${PAGE_ZOD === 'mini' ? 'zod/mini' : 'classic zod'}`, function () {
    this.timeout(60_000);

    let browser: Browser;
    let server: Server;
    let page: Page;
    let pageErrors: string[];
    /** What the page said with console.warn (onMessages() warns for a detail it cannot read). */
    let warnings: string[];

    before(async function () {
      this.timeout(20 * 60_000);
      await ensureDebianPackage(CHROMIUM, 'chromium');
      // The page's script, its schemas on the zod this run is about (and proof that it is that one).
      expect(pageZodInputs(await bundleClient({ zod: PAGE_ZOD }))).to.deep.equal([PAGE_ZOD]);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
    });

    after(async () => {
      await browser?.close();
    });

    async function open(app: Koa): Promise<string> {
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      page = await (await browser.newContext()).newPage();
      pageErrors = [];
      warnings = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'warning') warnings.push(message.text());
      });
      // The demo serves htmx 2 from its own node_modules; this run's htmx takes its place.
      await page.route('**/static/htmx.js', (route) =>
        route.fulfill({ path: htmx.file, contentType: 'application/javascript' }),
      );
      await page.goto(`${base}/`);
      await page.waitForFunction(() => 'htmx' in window);
      // The htmx this run is about, not another one.
      expect(
        await page.evaluate(
          () => (window as unknown as { htmx: { version: string } }).htmx.version,
        ),
      ).to.match(new RegExp(`^${htmx.major}\\.`));
      await page.evaluate(() => (window.__marker = 1));
      return base;
    }

    afterEach(async () => {
      await page?.context().close();
      server?.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      expect(pageErrors).to.deep.equal([]);
      expect(warnings).to.deep.equal([]);
    });

    const toasts = () => page.locator('#messages .message-text').allTextContents();

    it('shows a toast for a fragment swap in the demo: the list is swapped in, the message comes in HX-Trigger', async () => {
      await open(createApp({ keys: ['test-key-example-only'], toastMs: 60_000 }));
      await page.getByLabel('Your choice (htmx)').fill('Tea');
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/htmx/choices')),
        page.getByRole('button', { name: 'Add with htmx' }).click(),
      ]);
      expect(answer.headers()['hx-trigger']).to.equal(
        '{"messages":[{"message":"Added \\u201cTea\\u201d to the poll.","tags":"success"}]}',
      );
      await page.locator('#messages .message.success').waitFor();
      expect(await toasts()).to.deep.equal(['Added “Tea” to the poll.']);
      expect(await page.locator('.choice-text').last().textContent()).to.equal('Tea');
      // A swap, not a navigation; and the swapped-in Vote buttons still vote through fetch.
      expect(await page.evaluate(() => window.__marker)).to.equal(1);
      await page.getByRole('button', { name: 'Vote for Tea' }).click();
      await page.waitForFunction(
        () => document.querySelectorAll('#messages .message').length === 2,
      );
      expect(await toasts()).to.deep.equal(['Added “Tea” to the poll.', 'Vote recorded.']);
    });

    it('keeps the message of a failed (500) htmx request and shows it, intact and escaped, with the next one', async () => {
      await open(fixture(htmx.file));
      const [failed] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/fail')),
        page.getByRole('button', { name: 'Fail' }).click(),
      ]);
      expect(failed.status()).to.equal(500);
      expect(failed.headers()['hx-trigger']).to.equal(undefined);
      await page.waitForTimeout(300);
      expect(await toasts()).to.deep.equal([]);
      // htmx's own choice: htmx 2 leaves the target alone on a 5xx, htmx 4 swaps the error page in.
      expect(await page.locator('#target').textContent()).to.equal(
        htmx.swapsErrors ? 'server error' : 'empty',
      );

      const [next] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/next')),
        page.getByRole('button', { name: 'Next' }).click(),
      ]);
      // ASCII on the wire, the HTML escaped by the server.
      expect(next.headers()['hx-trigger']).to.match(/^[\x20-\x7e]+$/);
      await page.locator('#swapped').waitFor();
      await page.locator('#messages .message.warning').waitFor();
      expect(await toasts()).to.deep.equal([TRICKY]);
      expect(await page.locator('#messages script').count()).to.equal(0);
      expect(await page.evaluate(() => window.__pwned)).to.equal(undefined);

      // Shown once: another request brings nothing.
      const [again] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/next')),
        page.getByRole('button', { name: 'Next' }).click(),
      ]);
      expect(again.headers()['hx-trigger']).to.equal(undefined);
      expect(await toasts()).to.deep.equal([TRICKY]);
    });
  });
}
