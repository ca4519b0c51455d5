// `dedupe` and `add(…, { key })` (docs/dedupe.md): typed options, `Message.key`, misuse rejected.
// Checked by `npm run check` (typings/tsconfig.json).
import Koa from 'koa';
import { type AddOptions, type Message, messages, type MessagesOptions } from 'koa-messages';

import { assertType, type Equal } from './equal.js';

const app = new Koa();
app.use(messages({ dedupe: true }));
// @ts-expect-error dedupe is a boolean
app.use(messages({ dedupe: 'yes' }));

assertType<Equal<MessagesOptions['dedupe'], boolean | undefined>>();
assertType<Equal<AddOptions['key'], string | undefined>>();
assertType<Equal<Message['key'], string | undefined>>();

app.use((ctx) => {
  ctx.messages.success('3 items saved.', { key: 'items' });
  ctx.messages.add('info', 'Saved.', { key: 'saved', extraTags: 'sticky' });
  // @ts-expect-error a key is a string
  ctx.messages.success('Saved.', { key: 5 });
  for (const m of ctx.messages) {
    const key: string | undefined = m.key;
    // @ts-expect-error it may be undefined
    const sure: string = m.key;
    void key;
    void sure;
  }
});
