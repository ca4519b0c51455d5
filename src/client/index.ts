/**
 * koa-messages/client: the browser side. It imports only `zod`, so a bundler can ship it to a
 * page without Koa or any Node module.
 */
export {
  isMessagesError,
  MESSAGES_ERROR_CODES,
  MessagesError,
  type MessagesErrorCode,
} from '../shared/errors.js';
export { LEVEL_NAMES, type LevelName, LEVELS } from '../shared/levels.js';
export {
  type AjaxResponse,
  ajaxResponseSchema,
  levelNameSchema,
  MESSAGES_HEADER,
  messageSchema,
  messagesEventDetailSchema,
  messagesHeaderSchema,
  type WireMessage,
} from '../shared/wire.js';
export { ajax, AjaxError, type AjaxErrorReason, type AjaxResult } from './fetch-ajax.js';
export { messagesFromHeader, onMessages } from './on-messages.js';
