// `maxAge` and descriptors (docs/expiry.md, docs/translation.md) without a catalogue: any id, any
// JSON-safe values. typings/catalogue/ checks the narrowed form. Checked by `npm run check`.
import Koa from 'koa';
import {
  type AddOptions,
  type DescriptorValue,
  type DropReason,
  type Message,
  type MessageDescriptor,
  messages,
  type MessagesOptions,
  type Translate,
} from 'koa-messages';

import { assertType, type Equal } from './equal.js';

const app = new Koa();
const translate: Translate = (descriptor, ctx) =>
  `${descriptor.id} ${JSON.stringify(descriptor.values ?? {})} ${ctx.path}`;
app.use(messages({ maxAge: 3_600_000, translate }));
// @ts-expect-error maxAge is milliseconds, a number
app.use(messages({ maxAge: '1h' }));
// @ts-expect-error translate gives a string
app.use(messages({ translate: () => 42 }));

assertType<Equal<MessagesOptions['maxAge'], number | undefined>>();
assertType<Equal<AddOptions['maxAge'], number | undefined>>();
assertType<Equal<Message['addedAt'], number | undefined>>();
assertType<Equal<Message['maxAge'], number | undefined>>();
assertType<Equal<Message['descriptor'], MessageDescriptor | undefined>>();
assertType<Equal<DescriptorValue, string | number | boolean | null>>();
assertType<Equal<Extract<DropReason, 'expired'>, 'expired'>>();

app.use((ctx) => {
  ctx.messages.success('Saved.', { maxAge: 60_000 });
  ctx.messages.success({ id: 'vote.recorded', values: { votes: 3, poll: 'Pie?', open: true } });
  ctx.messages.add('info', { id: 'welcome' }, { key: 'welcome', maxAge: 5_000 });
  // @ts-expect-error values are JSON-safe primitives, not objects
  ctx.messages.success({ id: 'x', values: { when: new Date() } });
  // @ts-expect-error a descriptor needs an id
  ctx.messages.success({ values: { votes: 3 } });
  // @ts-expect-error maxAge is a number
  ctx.messages.success('Saved.', { maxAge: '1m' });
  for (const m of ctx.messages) {
    const text: string = m.message;
    const id: string | undefined = m.descriptor?.id;
    void text;
    void id;
  }
});
