/**
 * koa-messages: Django's messages framework and djem's AjaxResponse for Koa.
 */
export {
  type DropEvent,
  type MessagesOptions,
  type StorageName,
  type TagOptions,
} from './config/messages-options.js';
export {
  type AddedEvent,
  CHANNELS,
  type DroppedEvent,
  type KeptEvent,
  type KeptReason,
  type RequeuedEvent,
  type ShownEvent,
  type StorageOperation,
  type Transport,
} from './diagnostics.js';
export {
  isMessagesError,
  MESSAGES_ERROR_CODES,
  MessagesError,
  type MessagesErrorCode,
} from './errors.js';
export { messagesLive, type MessagesLiveOptions } from './live/live.js';
export {
  type DescriptorValue,
  type DescriptorValues,
  type MessageDescriptor,
  type MessageDescriptors,
  type Translate,
} from './message/descriptor.js';
export { escapeHtml } from './message/escape.js';
export { DEFAULT_TAGS, type Level } from './message/level.js';
export { Message } from './message/message.js';
export { messages } from './middleware.js';
export { type Flash, type FlashContext } from './request/flash.js';
export { type AddOptions, MessageStore, type MessageText } from './request/store.js';
export { memoryOutbox, type MemoryOutboxOptions } from './sending/memory-outbox.js';
export type { Claim, Outbox, SendOptions, SendReport, UserId } from './sending/types.js';
export { LEVEL_NAMES, type LevelName, LEVELS } from './shared/levels.js';
export {
  type AjaxResponse,
  ajaxResponseSchema,
  levelNameSchema,
  messageSchema,
  type WireMessage,
} from './shared/wire.js';
export { type CookieOptions, cookieStorage } from './storage/cookie/cookie-storage.js';
export { type FallbackOptions, fallbackStorage } from './storage/cookie/fallback-storage.js';
export { memoryStorage } from './storage/memory.js';
export { sessionStorage } from './storage/session.js';
export type {
  DropReason,
  DropReport,
  MessageStorage,
  SaveRequest,
  StoredMessage,
} from './storage/types.js';
export { type AjaxBody, type AjaxData, type AjaxInit } from './transport/ajax.js';
import './context.js';
