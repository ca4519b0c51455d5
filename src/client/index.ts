/**
 * koa-messages/client: the browser side. It imports only `zod`, so a bundler can ship it to a
 * page without Koa or any Node module.
 */
export { LEVELS, LEVEL_NAMES, type LevelName } from './levels.js';
export {
  levelNameSchema,
  messageSchema,
  ajaxResponseSchema,
  type WireMessage,
  type AjaxResponse,
} from './schemas.js';
export { ajax, AjaxError, type AjaxResult, type AjaxErrorReason } from './ajax.js';
