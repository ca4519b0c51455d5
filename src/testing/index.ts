/**
 * koa-messages/testing: assertions on the messages a response carried, for any test framework
 * (they throw `node:assert`'s AssertionError). Never import it from application code.
 */
export {
  assertMessages,
  type AssertMessagesOptions,
  type ExpectedMessage,
} from './assert-messages.js';
export { messagesOf } from './messages-of.js';
export type { MessagesOfOptions, ResponseLike, TestKeys } from './read-response.js';
export {
  type AddedMessage,
  type DroppedMessage,
  type KeptMessage,
  type MessagesRecord,
  type RecordedMessage,
  recordMessages,
  type RequeuedMessage,
  type ShownMessage,
} from './record-messages.js';
