import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

import { createApp } from '../../example/app.js';
import { bundleClient } from '../../example/bundle.js';
import { ensureDebianPackage } from '../helpers/system.js';

const CHROMIUM = '/usr/bin/chromium';
// Playwright adds --headless itself (`headless: true`); the rest keep a CI browser quiet and offline.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = fileURLToPath(new URL('../../build-output/screenshots/', import.meta.url));

declare global {
  interface Window {
    __pwned?: boolean;
    __canary?: boolean;
    __marker?: number;
  }
}

describe('the polls demo in headless Chromium', function () {
  this.timeout(60_000);

  let context: BrowserContext;
  let userDataDir: string;
  let server: Server;
  let base: string;
  let page: Page;
  let pageErrors: string[];

  before(async function () {
    // A first run may install Chromium with apt-get: minutes, not seconds.
    this.timeout(20 * 60_000);
    await ensureDebianPackage(CHROMIUM, 'chromium');
    await bundleClient();
    userDataDir = await mkdtemp(join(tmpdir(), 'koa-messages-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    // Generous: the CI machine is shared, and a slow step should not read as a failure.
    context.setDefaultTimeout(20_000);
  });

  after(async () => {
    await context?.close();
    if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // A fresh app per test: a fresh poll (every count 0) and, with the cookies cleared, a fresh session.
    server = createApp().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await context.clearCookies();
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${base}/`);
  });

  afterEach(async () => {
    await page.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    // Whatever happened, the page's script never threw.
    expect(pageErrors).to.deep.equal([]);
  });

  const toasts = () => page.locator('#messages .message-text').allTextContents();
  const toastClasses = () =>
    page.locator('#messages .message').evaluateAll((items) => items.map((item) => item.className));
  const counts = () => page.locator('.choice .count').allTextContents();
  const voteFor = (choice: string) =>
    page.getByRole('button', { name: `Vote for ${choice}` }).click();

  it('records a vote in place: the count changes and "Vote recorded." appears without a reload', async () => {
    await page.evaluate(() => (window.__marker = 1));
    await voteFor('The sky');
    await page.locator('#messages .message.success').waitFor();

    expect(await toasts()).to.deep.equal(['Vote recorded.']);
    expect(await toastClasses()).to.deep.equal(['message success']);
    expect(await counts()).to.deep.equal(['0', '1', '0']);
    expect(await page.locator('.choice .share').allTextContents()).to.deep.equal(['0', '100', '0']);
    expect(await page.locator('.total').textContent()).to.equal('1 vote so far');
    // Same document: the script updated it, no navigation happened.
    expect(await page.evaluate(() => window.__marker)).to.equal(1);

    await voteFor('Not much');
    await page.locator('#messages .message').nth(1).waitFor();
    expect(await toasts()).to.deep.equal(['Vote recorded.', 'Vote recorded.']);
    expect(await counts()).to.deep.equal(['1', '1', '0']);
    expect(await page.locator('.total').textContent()).to.equal('2 votes so far');
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'polls-after-voting.png') });

    // The JSON answers consumed the messages: the next page load has none, and shows the stored counts.
    await page.reload();
    expect(await toasts()).to.deep.equal([]);
    expect(await counts()).to.deep.equal(['1', '1', '0']);
  });

  it('shows "Invalid choice." as an error and changes no count when the choice does not exist', async () => {
    // A stale page: the choice it shows is gone on the server.
    await page
      .locator('form[data-vote]')
      .first()
      .evaluate((form) => form.setAttribute('action', '/choices/99/vote'));
    await voteFor('Not much');
    await page.locator('#messages .message.error').waitFor();

    expect(await toasts()).to.deep.equal(['Invalid choice.']);
    expect(await toastClasses()).to.deep.equal(['message error']);
    expect(await counts()).to.deep.equal(['0', '0', '0']);
    expect(await page.locator('.total').textContent()).to.equal('0 votes so far');
  });

  it('follows the form’s 303 redirect, shows its message once, and not again after a reload', async () => {
    await page.getByLabel('Your choice').fill('A cup of tea');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST'),
      page.getByRole('button', { name: 'Add' }).click(),
    ]);
    expect(answer.status()).to.equal(303);
    expect(answer.headers()['location']).to.equal('/');
    await page.waitForURL(`${base}/`);

    expect(await toasts()).to.deep.equal(['Added “A cup of tea” to the poll.']);
    expect(await toastClasses()).to.deep.equal(['message success']);
    expect(await page.locator('.choice-text').allTextContents()).to.deep.equal([
      'Not much',
      'The sky',
      'Just hacking again',
      'A cup of tea',
    ]);

    await page.reload();
    expect(await toasts()).to.deep.equal([]);
    expect(await page.locator('.choice-text').allTextContents()).to.have.length(4);
  });

  it('shows a suggested "<script>" as text, in the message and in the list, and runs none of it', async () => {
    // Scripts do run in this page when they really are scripts, so a flag left unset below means escaping held.
    await page.addScriptTag({ content: 'window.__canary = true;' });
    expect(await page.evaluate(() => window.__canary)).to.equal(true);

    const payload = '<script>window.__pwned = true</script>';
    await page.getByLabel('Your choice').fill(payload);
    await page.getByRole('button', { name: 'Add' }).click();
    await page.waitForURL(`${base}/`);
    await page.locator('#messages .message').waitFor();

    expect(await toasts()).to.deep.equal([`Added “${payload}” to the poll.`]);
    expect(await page.locator('.choice-text').last().textContent()).to.equal(payload);
    expect(await page.locator('script:not([src])').count()).to.equal(0);
    expect(await page.evaluate(() => window.__pwned)).to.equal(undefined);

    // The same for an event handler, which would fire the moment it was parsed as markup.
    const img = '<img src=x onerror="window.__pwned = true">';
    await page.getByLabel('Your choice').fill(img);
    await page.getByRole('button', { name: 'Add' }).click();
    await page.waitForURL(`${base}/`);
    await page.locator('#messages .message').waitFor();
    expect(await toasts()).to.deep.equal([`Added “${img}” to the poll.`]);
    expect(await page.locator('img').count()).to.equal(0);
    expect(await page.evaluate(() => window.__pwned)).to.equal(undefined);
  });

  it('shows the text of a JSON message that carries markup, decoded, and runs nothing from it', async () => {
    // The server escapes message text; this answer also holds raw markup, as a misconfigured server might send.
    await page.route('**/choices/*/vote', (route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          votes: 7,
          success: true,
          messages: [
            {
              message:
                '&lt;b&gt;Seven&lt;/b&gt; &amp; counting <img src=x onerror="window.__pwned = true">',
              tags: 'special info',
            },
          ],
        }),
      }),
    );
    await voteFor('The sky');
    await page.locator('#messages .message').waitFor();

    expect(await toasts()).to.deep.equal(['<b>Seven</b> & counting ']);
    expect(await toastClasses()).to.deep.equal(['message special info']);
    expect(await page.locator('#messages img, #messages b').count()).to.equal(0);
    expect(await counts()).to.deep.equal(['0', '7', '0']);
    expect(await page.evaluate(() => window.__pwned)).to.equal(undefined);
  });

  it('shows an error toast for a malformed answer, changes nothing, and keeps working', async () => {
    await page.route('**/choices/*/vote', (route) =>
      route.fulfill({ contentType: 'application/json', body: '{"votes":"three","success":true}' }),
    );
    await voteFor('The sky');
    await page.locator('#messages .message.error').waitFor();
    expect(await toasts()).to.deep.equal([
      'The server sent an unexpected answer. Your vote may not have counted; reload the page to check.',
    ]);
    expect(await counts()).to.deep.equal(['0', '0', '0']);

    // The server's real answer again: the page still votes.
    await page.unroute('**/choices/*/vote');
    await voteFor('The sky');
    await page.locator('#messages .message.success').waitFor();
    expect(await counts()).to.deep.equal(['0', '1', '0']);
    expect(await page.getByRole('button', { name: 'Vote for The sky' }).isEnabled()).to.equal(true);
  });

  it('renders the finished page with messages of every kind (screenshot in build-output/screenshots)', async () => {
    await voteFor('Just hacking again');
    await page.locator('#messages .message.success').waitFor();
    await page.getByLabel('Your choice').fill('Koa 3 is out');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.waitForURL(`${base}/`);
    await page.getByLabel('Your choice').fill('Koa 3 is out');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.waitForURL(`${base}/`);
    await voteFor('Koa 3 is out');
    await voteFor('Just hacking again');
    await page.locator('#messages .message').nth(2).waitFor();

    expect(await toasts()).to.deep.equal([
      '“Koa 3 is out” is already a choice.',
      'Vote recorded.',
      'Vote recorded.',
    ]);
    expect(await toastClasses()).to.deep.equal([
      'message warning',
      'message success',
      'message success',
    ]);
    expect(await counts()).to.deep.equal(['0', '0', '2', '1']);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'polls.png') });
  });
});
