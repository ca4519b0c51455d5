// Koa 2's own API sits beside ours. `ctx.redirect('back', alt)` takes two arguments only in the
// Koa 2 types (Koa 3 has `redirect(url)` and `ctx.back(alt)`), so this file compiles only when
// `koa` really resolves to @types/koa 2.
import Koa from 'koa';
import { messages } from 'koa-messages';

const app = new Koa();
app.use(messages());
app.use((ctx) => {
  ctx.messages.success('Saved.');
  ctx.status = 303;
  ctx.redirect('back', '/');
});
