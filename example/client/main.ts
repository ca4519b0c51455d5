/**
 * The poll page's script: votes with fetch, shows the messages that come back, updates counts in
 * place. Bundled for the browser by `example/bundle.ts`; it imports only the package's client
 * entry and zod, so no Koa or Node code can reach the page.
 *
 * Written with `zod/mini`, the flavour that costs a page least; the same code runs on classic zod
 * (the browser tests bundle it both ways: `bundleClient({ zod: 'classic' })`).
 */
import { ajax, AjaxError, live, onMessages, type WireMessage } from 'koa-messages/client';
import * as z from 'zod/mini';

/** What a vote answers with, besides `success` and `messages`. */
const Vote = z.object({ votes: z.int().check(z.nonnegative()) });

const list = document.querySelector<HTMLUListElement>('#messages')!;
/** How long a toast that is not an error stays (the server puts it on <body>). */
const TOAST_MS = Number(document.body.dataset['toastMs'] ?? 6000);
/** More than this many toasts at once is noise: the oldest go first. */
const MAX_TOASTS = 3;

/**
 * The server escapes message text for HTML (koa-messages' `escape` option, on by default), so the
 * wire text is an HTML fragment. It is decoded in an inert document (DOMParser runs no script and
 * loads nothing) and inserted with textContent: the page never parses server text as live markup,
 * whatever the server's settings.
 */
function plainText(fragment: string): string {
  return new DOMParser().parseFromString(fragment, 'text/html').body.textContent ?? '';
}

/** The last control outside the toasts that had focus: where focus returns when a toast goes. */
let lastFocus: HTMLElement | null = null;
document.addEventListener('focusin', (event) => {
  if (event.target instanceof HTMLElement && !list.contains(event.target)) lastFocus = event.target;
});

/**
 * Remove a toast. If focus was inside it, it moves to the next toast's close button, else the
 * previous one's, else back to the control used last, so a keyboard user is never dropped on <body>.
 */
function dismiss(item: Element): void {
  if (!item.isConnected) return;
  const hadFocus = item.contains(document.activeElement);
  const neighbour = item.nextElementSibling ?? item.previousElementSibling;
  item.remove();
  if (!hadFocus) return;
  const next = neighbour?.querySelector<HTMLElement>('.message-close');
  if (next) next.focus();
  else if (lastFocus?.isConnected) lastFocus.focus();
  else document.querySelector<HTMLElement>('.choice button, input')?.focus();
}

/**
 * Dismiss a toast by itself after TOAST_MS, except an error (it stays until dismissed). The clock
 * stops while the pointer is over the toast or focus is in it, and starts again when both leave.
 */
function arm(item: HTMLElement): void {
  if (item.classList.contains('error')) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hovered = false;
  const start = () => {
    clearTimeout(timer);
    if (!hovered && !item.contains(document.activeElement))
      timer = setTimeout(() => dismiss(item), TOAST_MS);
  };
  item.addEventListener('mouseenter', () => ((hovered = true), clearTimeout(timer)));
  item.addEventListener('mouseleave', () => ((hovered = false), start()));
  item.addEventListener('focusin', () => clearTimeout(timer));
  // focusout fires before focus lands elsewhere: look once it has.
  item.addEventListener('focusout', () => setTimeout(start));
  start();
}

/**
 * Put a toast in the live region (which announces it), keeping at most MAX_TOASTS: the oldest that
 * is not an error goes first, since an error stays until the person has read it.
 */
function add(item: HTMLElement): void {
  list.append(item);
  while (list.children.length > MAX_TOASTS)
    dismiss(list.querySelector('.message:not(.error)') ?? list.firstElementChild!);
  arm(item);
}

/**
 * Bring a new toast into view. Wide, the toasts are fixed beside the card and always are; narrow
 * (375 px), they sit in the page above the card, so a message that answers a control further down
 * (htmx's "Add") would arrive above the screen, with no visible confirmation. The page scrolls only
 * as far as needed, and the toast is placed in the flow above the card, so it covers nothing.
 */
function reveal(item: HTMLElement): void {
  const { top, bottom } = item.getBoundingClientRect();
  if (top >= 0 && bottom <= window.innerHeight) return;
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  item.scrollIntoView({ block: 'nearest', behavior: smooth ? 'smooth' : 'auto' });
}

/** Show one message as a toast, styled by its tags (e.g. `message success`). */
function show(message: WireMessage): void {
  const item = document.createElement('li');
  item.className = `message ${message.tags}`;
  const text = document.createElement('span');
  text.className = 'message-text';
  text.textContent = plainText(message.message);
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'message-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  item.append(text, close);
  add(item);
  reveal(item);
}

// Messages the server rendered into the page (after a form's redirect) were there before the live
// region was: a screen reader does not announce those. Put them back in a moment later, which it does.
const rendered = Array.from(list.children) as HTMLElement[];
for (const item of rendered) item.remove();
setTimeout(() => rendered.forEach(add), 100);

const plural = (n: number) => (n === 1 ? 'vote' : 'votes');

/** Put a choice's new count in place, then redraw every share and bar from the counts on the page. */
function updateCounts(choice: HTMLElement, votes: number): void {
  choice.querySelector('.count')!.textContent = String(votes);
  choice.querySelector('.unit')!.textContent = plural(votes);
  const rows = Array.from(document.querySelectorAll<HTMLElement>('.choice'));
  const total = rows.reduce(
    (sum, row) => sum + Number(row.querySelector('.count')!.textContent),
    0,
  );
  for (const row of rows) {
    const share =
      total === 0
        ? 0
        : Math.round((Number(row.querySelector('.count')!.textContent) / total) * 100);
    row.querySelector('.share')!.textContent = String(share);
    row.querySelector<HTMLElement>('.bar-fill')!.style.width = `${share}%`;
  }
  document.querySelector('#total')!.textContent = String(total);
  document.querySelector('.total .unit')!.textContent = plural(total);
}

async function vote(form: HTMLFormElement): Promise<void> {
  const choice = form.closest<HTMLElement>('.choice')!;
  const button = form.querySelector('button')!;
  // Not `disabled`: a disabled button loses focus, and a keyboard user's next Enter would go nowhere.
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  try {
    const result = await ajax(form.action, { method: 'POST' }, Vote);
    result.messages.forEach(show);
    if (result.success !== false) {
      updateCounts(choice, result.data.votes);
      choice.classList.add('voted');
    }
  } catch (error) {
    // A malformed or missing answer: say so, keep the page usable.
    console.error(error);
    const why =
      error instanceof AjaxError && error.reason === 'network'
        ? 'The server could not be reached.'
        : 'The server sent an unexpected answer.';
    show({
      message: `${why} Your vote may not have counted; reload the page to check.`,
      tags: 'error',
    });
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

// Messages sent to this browser's user (the report) arrive on an event stream, in one open tab.
let stopLive: (() => void) | undefined;
function startLive(): void {
  stopLive ??= live('/messages/live', { onMessages: (messages) => messages.forEach(show) });
}
if (document.body.hasAttribute('data-live')) startLive();

async function report(form: HTMLFormElement): Promise<void> {
  const button = form.querySelector('button')!;
  button.disabled = true;
  try {
    (await ajax(form.action, { method: 'POST' })).messages.forEach(show);
    startLive();
  } catch (error) {
    console.error(error);
    show({ message: 'The report could not start; try again.', tags: 'error' });
  } finally {
    button.disabled = false;
  }
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.hasAttribute('data-report')) {
    event.preventDefault();
    void report(form);
    return;
  }
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-vote')) return;
  event.preventDefault();
  void vote(form);
});

document.addEventListener('click', (event) => {
  const close = event.target instanceof Element ? event.target.closest('.message-close') : null;
  const item = close?.closest('.message');
  if (item) dismiss(item);
});

// Escape closes every toast, wherever focus is.
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || list.children.length === 0) return;
  for (const item of Array.from(list.children)) dismiss(item);
});

// htmx answers carry their messages in the HX-Trigger header (koa-messages' `htmx` option).
onMessages((messages) => messages.forEach(show));

// After htmx has added a suggestion, empty its form for the next one, as the plain form's reload
// does (htmx 2's event; a failed request keeps the text, so nothing typed is lost). Focus stays.
document.addEventListener('htmx:afterRequest', (event) => {
  const { elt, successful } = (event as CustomEvent<{ elt?: unknown; successful?: boolean }>)
    .detail;
  if (successful === true && elt instanceof HTMLFormElement) elt.reset();
});
