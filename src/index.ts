/**
 * koa-messages: Django's messages framework and djem's AjaxResponse for Koa.
 */
export { type AjaxBody, type AjaxData, type AjaxInit } from './ajax.js';
export { LEVEL_NAMES, type LevelName, LEVELS } from './client/levels.js';
export {
  type AjaxResponse,
  ajaxResponseSchema,
  levelNameSchema,
  messageSchema,
  type WireMessage,
} from './client/schemas.js';
export { escapeHtml } from './escape.js';
export { DEFAULT_TAGS, type Level } from './levels.js';
export { Message } from './message.js';
export { messages } from './middleware.js';
export { type DropEvent, type MessagesOptions } from './options.js';
export {
  decodeMessage,
  decodeMessages,
  type EncodedMessage,
  encodedMessageSchema,
  encodeMessage,
} from './storage/codec.js';
export { type CookieOptions, cookieStorage } from './storage/cookie.js';
export { type FallbackOptions, fallbackStorage } from './storage/fallback.js';
export { memoryStorage } from './storage/memory.js';
export { sessionStorage } from './storage/session.js';
export type {
  DropReason,
  DropReport,
  MessageStorage,
  SaveRequest,
  StoredMessage,
} from './storage/types.js';
export { type AddOptions, MessageStore } from './store.js';
import './context.js';
