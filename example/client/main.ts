/**
 * The poll page's script: votes with fetch, shows the messages that come back, updates counts in
 * place. Bundled for the browser by `example/bundle.ts`; it imports only the package's client
 * entry and zod, so no Koa or Node code can reach the page.
 */
import { ajax, AjaxError, type WireMessage } from 'koa-messages/client';
import * as z from 'zod';

/** What a vote answers with, besides `success` and `messages`. */
const Vote = z.object({ votes: z.number().int().nonnegative() });

const list = document.querySelector<HTMLUListElement>('#messages')!;

/**
 * The server escapes message text for HTML (koa-messages' `escape` option, on by default), so the
 * wire text is an HTML fragment. It is decoded in an inert document (DOMParser runs no script and
 * loads nothing) and inserted with textContent: the page never parses server text as live markup,
 * whatever the server's settings.
 */
function plainText(fragment: string): string {
  return new DOMParser().parseFromString(fragment, 'text/html').body.textContent ?? '';
}

/** Show one message as a toast, styled by its tags (e.g. `message success`). */
function show(message: WireMessage): void {
  const item = document.createElement('li');
  item.className = `message ${message.tags}`;
  item.setAttribute('role', /\b(error|warning)\b/.test(message.tags) ? 'alert' : 'status');
  const text = document.createElement('span');
  text.className = 'message-text';
  text.textContent = plainText(message.message);
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'message-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  item.append(text, close);
  list.append(item);
  // Keep the stack short: the oldest toasts go first.
  while (list.children.length > 4) list.firstElementChild!.remove();
}

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
  button.disabled = true;
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
    button.disabled = false;
  }
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-vote')) return;
  event.preventDefault();
  void vote(form);
});

document.addEventListener('click', (event) => {
  const close = event.target instanceof Element ? event.target.closest('.message-close') : null;
  close?.closest('.message')?.remove();
});
