/**
 * koa-messages/client: the browser side. It imports only zod's core (`zod/v4/core`), so a bundler
 * ships it to a page without Koa, any Node module, or classic zod: `onMessages` alone is about
 * 4.3 KiB gzip, `ajax()` 5.8 KiB, the whole entry 6.4 KiB (`npm run size`). Its schemas are zod core
 * schemas: they nest in an app's `z.object(...)` of classic zod or `zod/mini`, and parse with
 * either flavour's `z.parse()`.
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
  messageListSchema,
  MESSAGES_HEADER,
  messageSchema,
  messagesEventDetailSchema,
  messagesHeaderSchema,
  type WireMessage,
} from '../shared/wire.js';
export { ajax, AjaxError, type AjaxErrorReason, type AjaxResult } from './fetch-ajax.js';
export { live, type LiveOptions } from './live.js';
export { messagesFromHeader, onMessages } from './on-messages.js';
