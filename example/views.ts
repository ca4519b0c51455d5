import { fileURLToPath } from 'node:url';

import nunjucks from 'nunjucks';

import { type Choice, MAX_CHOICE_LENGTH, type Poll } from './polls.js';

/** The demo's nunjucks templates (rendered through `@ladjs/koa-views`, see app.ts). */
export const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));

/**
 * The nunjucks environment the demo renders with. `autoescape: true` (nunjucks' default, set here
 * so nobody turns it off by accident): every `{{ }}` is HTML-escaped, the `<script>` someone
 * suggests included; only `| safe` prints markup, and the templates use it for `message.html` only.
 */
export function templateEnv(): nunjucks.Environment {
  return new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS_DIR), {
    autoescape: true,
    throwOnUndefined: true,
  });
}

/** Share of all votes, as a whole percent (0 when nobody voted). */
export function percent(votes: number, total: number): number {
  return total === 0 ? 0 : Math.round((votes / total) * 100);
}

const plural = (n: number) => (n === 1 ? 'vote' : 'votes');

/** One choice as the templates show it. */
export interface ChoiceView {
  id: number;
  text: string;
  votes: number;
  unit: string;
  share: number;
}

/**
 * What the poll templates need besides `ctx.state` (where `messages` comes from): plain values,
 * so the templates hold no arithmetic.
 */
export function pollLocals(poll: Poll): Record<string, unknown> {
  const total = poll.total;
  return {
    question: poll.question,
    total,
    totalUnit: plural(total),
    maxChoiceLength: MAX_CHOICE_LENGTH,
    choices: poll.choices.map((c: Choice): ChoiceView => ({
      id: c.id,
      text: c.text,
      votes: c.votes,
      unit: plural(c.votes),
      share: percent(c.votes, total),
    })),
  };
}
