import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

import { createApp, type DemoOptions } from '../../example/app.js';
import { bundleClient } from '../../example/bundle.js';
import { memoryOutbox } from '../../src/index.js';
import { PAGE_ZOD, pageZodInputs } from '../helpers/page-zod.js';
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
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** The widths the demo was tried at (issue 14): a laptop, a small laptop or tablet, a phone. */
const WIDTHS = [1280, 1024, 375] as const;

declare global {
  interface Window {
    __pwned?: boolean;
    __canary?: boolean;
    __marker?: number;
    __announced?: string[];
    axe?: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> };
  }
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe(`the polls demo in headless Chromium, its script on ${PAGE_ZOD === 'mini' ? 'zod/mini' : 'classic zod'}`, function () {
  this.timeout(60_000);

  let context: BrowserContext;
  let userDataDir: string;
  let server: Server;
  let base: string;
  let page: Page;
  let pageErrors: string[];
  let failedResponses: string[];

  before(async function () {
    // A first run may install Chromium with apt-get: minutes, not seconds.
    this.timeout(20 * 60_000);
    await ensureDebianPackage(CHROMIUM, 'chromium');
    // The page's script, its schemas on the zod this run is about (and proof that it is that one).
    expect(pageZodInputs(await bundleClient({ zod: PAGE_ZOD }))).to.deep.equal([PAGE_ZOD]);
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

  /**
   * A fresh app: a fresh poll (every count 0) and, with the cookies cleared, a fresh session. Toasts
   * stay a minute unless a test asks otherwise, so a slow step cannot make one vanish mid-test.
   */
  async function start(options: DemoOptions = {}): Promise<void> {
    server = createApp({ toastMs: 60_000, ...options }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await context.clearCookies();
    page = await context.newPage();
    pageErrors = [];
    failedResponses = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${base}/`);
  }

  async function stop(): Promise<void> {
    await page.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  beforeEach(() => start());

  afterEach(async () => {
    await stop();
    // Whatever happened, the page's script never threw, and nothing it loaded (favicon included) failed.
    expect(pageErrors).to.deep.equal([]);
    expect(failedResponses).to.deep.equal([]);
  });

  const toasts = () => page.locator('#messages .message-text').allTextContents();
  const toastClasses = () =>
    page
      .locator('#messages .message')
      .evaluateAll((items) => items.map((item) => item.getAttribute('class') ?? ''));
  const counts = () => page.locator('.choice .count').allTextContents();
  const voteFor = (choice: string) =>
    page.getByRole('button', { name: `Vote for ${choice}` }).click();
  /**
   * Submit a plain form (`click` presses its button) and wait until the page its 303 leads to has
   * loaded. Not `waitForURL`: the form posts from `/` and lands on `/` again, so the URL is already
   * the one awaited and the wait returned at once, leaving the next step to run on the old page
   * (issue 22: under load, the toasts came out in another order). The old page's load event has
   * fired already, so the next one is the new page's.
   */
  const submitted = async (click: () => Promise<void>) => {
    const loaded = page.waitForEvent('load');
    await click();
    await loaded;
  };

  /** Vote and wait until the page has shown the answer (a busy button ignores a second click). */
  const voteAndWait = async (choice: string) => {
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      voteFor(choice),
    ]);
    await answer.finished();
    await page.waitForFunction(() => !document.querySelector('button[aria-disabled="true"]'));
  };

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
    await page.getByLabel('Your choice', { exact: true }).fill('A cup of tea');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST'),
      submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click()),
    ]);
    expect(answer.status()).to.equal(303);
    expect(answer.headers()['location']).to.equal('/');
    await page.locator('#messages .message').waitFor();

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
    await page.getByLabel('Your choice', { exact: true }).fill(payload);
    await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
    await page.locator('#messages .message').waitFor();

    expect(await toasts()).to.deep.equal([`Added “${payload}” to the poll.`]);
    expect(await page.locator('.choice-text').last().textContent()).to.equal(payload);
    expect(await page.locator('script:not([src])').count()).to.equal(0);
    expect(await page.evaluate(() => window.__pwned)).to.equal(undefined);

    // The same for an event handler, which would fire the moment it was parsed as markup.
    const img = '<img src=x onerror="window.__pwned = true">';
    await page.getByLabel('Your choice', { exact: true }).fill(img);
    await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
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
    await page.getByLabel('Your choice', { exact: true }).fill('Koa 3 is out');
    await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
    await page.locator('#messages .message.success').waitFor();
    await page.getByLabel('Your choice', { exact: true }).fill('Koa 3 is out');
    await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
    // The page puts its server-rendered message back into the live region just after load (see
    // example/client/main.ts): wait for it, so that the votes' toasts come after it.
    await page.locator('#messages .message.warning').waitFor();
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

  /** Run axe-core in the page; the serious and critical violations, one line each. */
  async function axeProblems(): Promise<string[]> {
    // A toast fading in has, for a moment, too little contrast: judge the page as it settles.
    await page.waitForFunction(() =>
      document.getAnimations().every((a) => a.playState !== 'running'),
    );
    if ((await page.evaluate(() => window.axe === undefined)) === true)
      await page.addScriptTag({ path: AXE });
    const { violations } = await page.evaluate(() =>
      window.axe!.run(document, { resultTypes: ['violations'] }),
    );
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
      );
  }

  /** Every control on the page that a toast covers at its centre (scrolled into view first). */
  async function coveredControls(): Promise<string[]> {
    const covered: string[] = [];
    for (const control of await page.locator('main button, main input').all()) {
      await control.scrollIntoViewIfNeeded();
      const hit = await control.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return top === el || el.contains(top)
          ? null
          : top?.closest('.message')
            ? 'a toast'
            : top?.outerHTML.slice(0, 60);
      });
      if (hit !== null)
        covered.push(
          `${await control.evaluate((el) => el.getAttribute('aria-label') ?? el.textContent)} under ${hit}`,
        );
    }
    return covered;
  }

  const shot = async (name: string) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  for (const width of WIDTHS) {
    it(`is axe-clean (no serious or critical violation) in every state at ${width} px, and no toast covers a control`, async () => {
      await page.setViewportSize({ width, height: width === 375 ? 740 : 800 });
      await page.reload();
      expect(await axeProblems(), 'fresh page').to.deep.equal([]);
      await shot(`${width}-fresh`);

      // Server-rendered, after the plain form's 303.
      await page
        .getByLabel('Your choice', { exact: true })
        .fill('A longer choice with several words in it');
      await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
      await page.locator('#messages .message.success').waitFor();
      expect(await axeProblems(), 'after the redirect').to.deep.equal([]);
      expect(await coveredControls(), 'after the redirect').to.deep.equal([]);
      await shot(`${width}-after-redirect`);

      // Toasts from fetch: as many as can be, with an error among them.
      await page
        .locator('form[data-vote]')
        .first()
        .evaluate((form) => form.setAttribute('action', '/choices/99/vote'));
      for (const choice of ['Not much', 'The sky', 'Just hacking again', 'The sky'])
        await voteAndWait(choice);
      expect(await counts()).to.deep.equal(['0', '2', '1', '0']);
      expect(await page.locator('#messages .message').count()).to.equal(3);
      expect(await axeProblems(), 'with toasts').to.deep.equal([]);
      expect(await coveredControls(), 'with toasts').to.deep.equal([]);
      // The control the issue named: a real click on "Add" reaches it with the toasts shown.
      await page
        .getByRole('button', { name: 'Add', exact: true })
        .click({ trial: true, timeout: 5_000 });
      await shot(`${width}-toasts`);
    });
  }

  it('keeps at most three toasts: the oldest goes first', async () => {
    for (const choice of ['Not much', 'The sky', 'Just hacking again', 'The sky', 'Not much'])
      await voteAndWait(choice);
    expect(await page.locator('#total').textContent()).to.equal('5');
    expect(await toasts()).to.deep.equal(['Vote recorded.', 'Vote recorded.', 'Vote recorded.']);
  });

  it('dismisses a toast by itself, not while it is hovered, and keeps an error until it is dismissed', async () => {
    await stop();
    await start({ toastMs: 700 });
    await voteFor('The sky');
    const toast = page.locator('#messages .message.success');
    await toast.waitFor();
    await toast.hover();
    await page.waitForTimeout(1_500);
    expect(await toast.count(), 'hovered: still there').to.equal(1);
    await page.mouse.move(5, 5);
    await toast.waitFor({ state: 'detached', timeout: 5_000 });

    await page
      .locator('form[data-vote]')
      .first()
      .evaluate((form) => form.setAttribute('action', '/choices/99/vote'));
    await voteFor('Not much');
    await page.locator('#messages .message.error').waitFor();
    await page.waitForTimeout(1_500);
    expect(await toasts()).to.deep.equal(['Invalid choice.']);
    await page.locator('#messages .message-close').click();
    expect(await toasts()).to.deep.equal([]);
  });

  it('works from the keyboard: Enter votes twice, dismissing keeps focus on a control, Escape closes toasts', async () => {
    const button = page.getByRole('button', { name: 'Vote for The sky' });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#total')?.textContent === '1');
    const focused = () =>
      page.evaluate(
        () => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName,
      );
    expect(await focused()).to.equal('Vote for The sky');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#total')?.textContent === '2');
    expect(await counts()).to.deep.equal(['0', '2', '0']);
    expect(await focused()).to.equal('Vote for The sky');

    // Dismiss the first toast from the keyboard: focus goes to the next toast's button, then back to the vote.
    await page.locator('#messages .message-close').first().focus();
    await page.keyboard.press('Enter');
    expect(await toasts()).to.deep.equal(['Vote recorded.']);
    expect(
      await page.evaluate(() => document.activeElement?.classList.contains('message-close')),
    ).to.equal(true);
    await page.keyboard.press('Enter');
    expect(await toasts()).to.deep.equal([]);
    expect(await focused()).to.equal('Vote for The sky');

    // Escape closes every toast, wherever focus is.
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#total')?.textContent === '3');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#total')?.textContent === '4');
    expect(await page.locator('#messages .message').count()).to.equal(2);
    await page.keyboard.press('Escape');
    expect(await toasts()).to.deep.equal([]);
    expect(await focused()).to.equal('Vote for The sky');
  });

  it('announces server-rendered messages: they enter the live region after the page has loaded', async () => {
    // Record what is added to the live region once it exists: a screen reader announces exactly that.
    await page.addInitScript(() => {
      window.__announced = [];
      document.addEventListener('DOMContentLoaded', () => {
        const region = document.querySelector('#messages');
        if (region === null) return;
        new MutationObserver((records) => {
          for (const r of records)
            for (const node of Array.from(r.addedNodes))
              window.__announced!.push(node.textContent ?? '');
        }).observe(region, { childList: true });
      });
    });
    expect(await page.locator('#messages').getAttribute('aria-live')).to.equal('polite');
    await page.getByLabel('Your choice', { exact: true }).fill('Tea');
    await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
    await page.waitForFunction(() => (window.__announced ?? []).length > 0);
    expect(await page.evaluate(() => window.__announced)).to.deep.equal([
      'Added “Tea” to the poll.×',
    ]);
  });

  it('at 375 px, brings the toast of an htmx "Add" into view and empties the htmx field', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.reload();
    // Where a person who scrolled down to the htmx form is: the toasts sit above, off screen.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const field = page.getByLabel('Your choice (htmx)');
    await field.fill('Tea with htmx');
    expect(await page.evaluate(() => window.scrollY), 'scrolled down').to.be.greaterThan(100);
    await page.getByRole('button', { name: 'Add with htmx' }).click();
    await page.locator('#messages .message.success').waitFor();
    expect(await toasts()).to.deep.equal(['Added “Tea with htmx” to the poll.']);
    // The page scrolls (smoothly) to the toast: wait until it is wholly on screen.
    await page.waitForFunction(() => {
      const r = document.querySelector('#messages .message')!.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    });
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLInputElement>('input[aria-label="Your choice (htmx)"]')!
          .value === '',
    );
    expect(await field.inputValue()).to.equal('');
    expect(await page.locator('.choice').last().textContent()).to.contain('Tea with htmx');
    await page.screenshot({ path: join(SCREENSHOTS, '375-htmx-add.png') });
  });

  it('breaks a choice between words at 375 px, never inside one', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page
      .getByLabel('Your choice', { exact: true })
      .fill('Refactoring everything again, with enthusiasm');
    await submitted(() => page.getByRole('button', { name: 'Add', exact: true }).click());
    const broken = await page.locator('.choice-text').evaluateAll((items) =>
      items.flatMap((item) => {
        const text = item.firstChild!;
        const words: string[] = [];
        let at = 0;
        for (const word of (text.textContent ?? '').split(' ')) {
          const range = document.createRange();
          range.setStart(text, at);
          range.setEnd(text, at + word.length);
          at += word.length + 1;
          // A word split over two lines has two boxes.
          if (range.getClientRects().length > 1) words.push(word);
        }
        return words;
      }),
    );
    expect(broken).to.deep.equal([]);
    // And the text gets the row's width, not a 100 px column beside the count: a short choice is one line.
    const short = page.locator('.choice-text', { hasText: 'Just hacking again' });
    expect(await short.evaluate((el) => el.getClientRects().length)).to.equal(1);
    await shot('375-long-choice');
  });

  it('"Prepare a report": with two tabs open, exactly one shows "Your report is ready.", no reload', async () => {
    // A fresh app whose outbox says who the report went to, so the test can check it was consumed.
    await stop();
    const outbox = memoryOutbox();
    let user: string | undefined;
    const send = outbox.send.bind(outbox);
    await start({
      outbox: {
        ...outbox,
        send,
        success: (u, m, o) => ((user = String(u)), send(u, 'success', m, o)),
      },
    });
    const firstStream = page.waitForResponse((r) => r.url().endsWith('/messages/live'));
    await page.getByRole('button', { name: 'Prepare a report' }).click();
    await page.locator('#messages .message-text', { hasText: 'Preparing your report' }).waitFor();
    await firstStream;
    // The second tab of the same browser (one cookie jar), opened while the worker runs.
    const second = await context.newPage();
    second.on('pageerror', (error) => pageErrors.push(error.message));
    await second.goto(`${base}/`);
    const ready = (p: Page) =>
      p.locator('#messages .message-text', { hasText: 'Your report is ready.' });
    await Promise.race([ready(page).waitFor(), ready(second).waitFor()]);
    // Shown once, and gone from the outbox: no other tab can get it now (it was acked when written).
    expect((await ready(page).count()) + (await ready(second).count())).to.equal(1);
    expect(user).to.be.a('string');
    expect((await outbox.claim(user!)).messages).to.deep.equal([]);
    await second.close();
  });
});
