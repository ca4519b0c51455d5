// ctx.messages and ctx.ajax are typed in plain app.use handlers and in routers with their own
// context type; misuse does not compile. Checked by `npm run check` (typings/tsconfig.json).
import Router from '@koa/router';
import Koa, { type Context, type ParameterizedContext } from 'koa';
import { LEVELS, type Message, messages, type MessageStore, type WireMessage } from 'koa-messages';

import { assertType, type Equal } from './equal.js';

const app = new Koa();
app.use(messages());
app.use(
  messages({
    storage: 'memory',
    level: 'debug',
    tags: { 29: 'custom', warning: 'alert' },
    escape: false,
  }),
);
app.use(messages({ htmx: true, maxHeaderBytes: 2048 }));
// @ts-expect-error: htmx is a boolean
messages({ htmx: 'yes' });

app.use((ctx) => {
  ctx.messages.success('Vote recorded.');
  ctx.messages.add('warning', 'text', { extraTags: 'special', html: false });
  ctx.messages.add(29, 'custom level');
  ctx.messages.level = LEVELS.debug;
  ctx.messages.level = 'error';
  ctx.messages.level = undefined;
  ctx.messages.used = false;
  const size: number = ctx.messages.size;
  for (const m of ctx.messages) {
    assertType<Equal<typeof m, Message>>();
    const text = `${m.message} ${m.tags} ${m.levelTag} ${m.extraTags} ${m.level} ${size}`;
    void text;
  }
  const body = ctx.ajax({ votes: 3 }, true);
  assertType<Equal<typeof body.votes, 3>>();
  assertType<Equal<typeof body.success, boolean | undefined>>();
  assertType<Equal<typeof body.messages, WireMessage[] | undefined>>();
  const empty = ctx.ajax();
  void empty;
  const toHeader: void = ctx.messages.toHeader();
  void toHeader;

  // @ts-expect-error: 'verbose' is not a level name
  ctx.messages.add('verbose', 'x');
  // @ts-expect-error: the message must be a string
  ctx.messages.info(42);
  // @ts-expect-error: unknown add() option
  ctx.messages.info('x', { extra: 'y' });
  // @ts-expect-error: arrays are not plain objects
  ctx.ajax([1, 2]);
  // @ts-expect-error: strings are not plain objects
  ctx.ajax('text');
  // @ts-expect-error: numbers are not plain objects
  ctx.ajax(5);
  // @ts-expect-error: a Map is not a plain object
  ctx.ajax(new Map());
  // @ts-expect-error: init.status is a number
  ctx.ajax({}, true, { status: '200' });
  // @ts-expect-error: ctx.messages cannot be replaced
  ctx.messages = {} as MessageStore;
});

// A router with its own context type: DefaultContext additions would be lost here, BaseContext ones are not.
interface State {
  user?: string;
}
interface CustomContext {
  poll: { id: number };
}
const router = new Router<State, CustomContext>();
router.post('/polls/:id/vote', (ctx) => {
  ctx.messages.success(`Vote recorded for poll ${ctx.poll.id}.`);
  const body = ctx.ajax({ votes: 1 }, true);
  assertType<Equal<typeof body.votes, 1>>();
  // @ts-expect-error: still a type error through the router
  ctx.ajax([ctx.poll]);
});
app.use(router.routes());

// Koa's own Context and a ParameterizedContext both carry the additions.
export function handler(ctx: Context): void {
  ctx.messages.info('plain Context');
}
export function parameterized(ctx: ParameterizedContext<State, CustomContext>): MessageStore {
  return ctx.messages;
}
