// ctx.flash is typed once the app opts in with the FlashContext augmentation (docs/flash.md), in
// app.use handlers and in routers with their own context type, as connect-flash's overloads.
import Router from '@koa/router';
import Koa from 'koa';
import { type FlashContext, messages } from 'koa-messages';

import { assertType, type Equal } from './equal.js';

declare module 'koa' {
  // The documented opt-in: an interface merge can only add a supertype through `extends`.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface BaseContext extends FlashContext {}
}

const app = new Koa();
app.use(messages({ flash: true }));
app.use((ctx) => {
  const count = ctx.flash('error', 'Upload %s failed.', 'a.pdf');
  assertType<Equal<typeof count, number>>();
  const many = ctx.flash('info', ['One.', 'Two.']);
  assertType<Equal<typeof many, number>>();
  const errors = ctx.flash('error');
  assertType<Equal<typeof errors, string[]>>();
  const all = ctx.flash();
  assertType<Equal<typeof all, Record<string, string[]>>>();
  // @ts-expect-error a type is a string
  ctx.flash(42);
  // @ts-expect-error a message is a string or an array of strings
  ctx.flash('error', {});
});

interface CustomContext {
  user?: string;
}
const router = new Router<Koa.DefaultState, CustomContext>();
router.get('/', (ctx) => {
  const errors: string[] = ctx.flash('error');
  void errors;
});
