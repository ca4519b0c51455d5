// In your app: `from 'koa-messages'`.
import { escapeHtml, type Message } from '../src/index.js';
import { type Choice, MAX_CHOICE_LENGTH, type Poll } from './polls.js';

/**
 * The demo's HTML, written by hand: every piece of text goes through `escapeHtml`, every piece of
 * markup is a literal here. A template engine with autoescaping does the same job.
 */

/** A tagged template that escapes every interpolated value, except nested `Html`. */
class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    const parts = Array.isArray(value) ? value : [value];
    for (const part of parts) out += part instanceof Html ? part.text : escapeHtml(String(part));
    out += strings[i + 1]!;
  });
  return new Html(out);
}

/** Share of all votes, as a whole percent (0 when nobody voted). */
export function percent(votes: number, total: number): number {
  return total === 0 ? 0 : Math.round((votes / total) * 100);
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/**
 * One message as a list item; its tags are its CSS classes. `message.html` is set only by code
 * that vouches for the markup; anything else, user input included, is escaped.
 */
function messageItem(message: Message): Html {
  const text = message.html ? new Html(message.message) : message.message;
  const role = message.levelTag === 'error' || message.levelTag === 'warning' ? 'alert' : 'status';
  return html`<li class="message ${message.tags}" role="${role}"><span class="message-text">${text}</span><button type="button" class="message-close" aria-label="Dismiss">×</button></li>`;
}

function choiceItem(choice: Choice, total: number): Html {
  const share = percent(choice.votes, total);
  return html`
      <li class="choice" data-choice="${choice.id}">
        <div class="choice-head">
          <span class="choice-text">${choice.text}</span>
          <span class="choice-votes"><span class="count">${choice.votes}</span> <span class="unit">${plural(choice.votes, 'vote', 'votes')}</span> · <span class="share">${share}</span>%</span>
        </div>
        <div class="bar" aria-hidden="true"><span class="bar-fill" style="width: ${share}%"></span></div>
        <form class="vote" method="post" action="/choices/${choice.id}/vote" data-vote>
          <button type="submit" aria-label="Vote for ${choice.text}">Vote</button>
        </form>
      </li>`;
}

/**
 * The poll page. Iterating `messages` consumes them: they are shown on this page and not again.
 *
 * @param messages - `ctx.messages`.
 */
export function pollPage(poll: Poll, messages: Iterable<Message>): string {
  const total = poll.total;
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${poll.question} · Polls</title>
  <link rel="stylesheet" href="/static/style.css">
  <script type="module" src="/static/app.js"></script>
</head>
<body>
  <ul class="messages" id="messages" aria-live="polite">${[...messages].map(messageItem)}</ul>
  <main class="card">
    <header class="poll-head">
      <p class="eyebrow">Poll</p>
      <h1>${poll.question}</h1>
      <p class="total"><span id="total">${total}</span> <span class="unit">${plural(total, 'vote', 'votes')}</span> so far</p>
    </header>
    <ol class="choices" id="choices">${poll.choices.map((c) => choiceItem(c, total))}
    </ol>
    <section class="suggest">
      <h2>Suggest a choice</h2>
      <form method="post" action="/choices" class="suggest-form">
        <input type="text" name="text" maxlength="${MAX_CHOICE_LENGTH}" placeholder="Something new…" aria-label="Your choice" autocomplete="off">
        <button type="submit">Add</button>
      </form>
      <p class="hint">A plain form: the server adds a message and redirects; the next page shows it once.</p>
    </section>
  </main>
  <footer class="foot">A koa-messages demo · Koa, koa-session and @koa/router · votes live in memory</footer>
</body>
</html>
`.text;
}
