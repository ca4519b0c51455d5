// Compiled by ajax-types.test.ts: exactly two errors, on the two marked lines.
import Koa from 'koa';
import { messages } from 'koa-messages';

const app = new Koa();
app.use(messages());
app.use((ctx) => {
  ctx.ajax({ votes: 3 }, true);
  ctx.ajax([1, 2]); // error 1
  ctx.ajax(new Date()); // error 2
});
