/**
 * koa-messages: Django's messages framework and djem's AjaxResponse for Koa.
 */
export { messages } from './middleware.js';
export { LEVELS, LEVEL_NAMES, type LevelName } from './client/levels.js';
export { DEFAULT_TAGS, type Level } from './levels.js';
export { Message } from './message.js';
export { MessageStore, type AddOptions } from './store.js';
export { type AjaxInit, type AjaxBody, type AjaxData } from './ajax.js';
export { type MessagesOptions, type DropEvent } from './options.js';
export { escapeHtml } from './escape.js';
export { memoryStorage } from './storage/memory.js';
export { sessionStorage } from './storage/session.js';
export { cookieStorage, type CookieOptions } from './storage/cookie.js';
export { fallbackStorage, type FallbackOptions } from './storage/fallback.js';
export { encodeMessage, decodeMessage, decodeMessages, encodedMessageSchema, type EncodedMessage } from './storage/codec.js';
export type { MessageStorage, StoredMessage, SaveRequest, DropReport, DropReason } from './storage/types.js';
export { messageSchema, ajaxResponseSchema, levelNameSchema, type WireMessage, type AjaxResponse } from './client/schemas.js';
import './context.js';
