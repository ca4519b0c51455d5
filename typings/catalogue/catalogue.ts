// An app narrows descriptors to its catalogue (docs/translation.md), as @hapi/yar's YarFlashes.
import Koa from 'koa';
import { type MessageDescriptor, messages, type Translate } from 'koa-messages';

import { assertType, type Equal } from '../equal.js';

declare module 'koa-messages' {
  interface MessageDescriptors {
    'vote.recorded': { count: number };
    'poll.closed': { question: string };
    welcome: undefined;
  }
}

assertType<
  Equal<
    MessageDescriptor,
    | { readonly id: 'vote.recorded'; readonly values: { count: number } }
    | { readonly id: 'poll.closed'; readonly values: { question: string } }
    | { readonly id: 'welcome'; readonly values?: never }
  >
>();

const translate: Translate = (descriptor) => {
  switch (descriptor.id) {
    case 'vote.recorded':
      return `${descriptor.values.count} votes`;
    case 'poll.closed':
      return `${descriptor.values.question} is closed`;
    case 'welcome':
      return 'Welcome!';
  }
};

const app = new Koa();
app.use(messages({ translate }));
app.use((ctx) => {
  ctx.messages.success({ id: 'vote.recorded', values: { count: 3 } });
  ctx.messages.info({ id: 'welcome' });
  // @ts-expect-error not in the catalogue
  ctx.messages.success({ id: 'vote.recordd', values: { count: 3 } });
  // @ts-expect-error count is a number
  ctx.messages.success({ id: 'vote.recorded', values: { count: '3' } });
  // @ts-expect-error values are required for this id
  ctx.messages.success({ id: 'poll.closed' });
  // Text messages are still fine.
  ctx.messages.warning('Disk almost full.');
});
