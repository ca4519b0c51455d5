import type { WireMessage } from '../shared/wire.js';
import {
  checkReadOptions,
  type MessagesOfOptions,
  type ReadMessage,
  readResponse,
  type ResponseLike,
} from './read-response.js';

const strip = (list: ReadMessage[]): WireMessage[] =>
  list.map((m) => ({ message: m.message, tags: m.tags }));

/**
 * The messages a response carried, as `{ message, tags }[]`.
 *
 * - Without `keys`: the `messages` of a `ctx.ajax()` JSON body (the messages shown by this
 *   response), `[]` when it has none.
 * - With `keys` (the app's `app.keys`): the messages cookie of the cookie and fallback storages that
 *   the response sets (the messages pending for the next request), verified with the keys; `[]` when
 *   the response sets no messages cookie or deletes it.
 *
 * @param response - a supertest response (read synchronously) or a fetch `Response` (a Promise; the
 *   body is read from a clone).
 * @param options - `keys`, `cookieName` (`'messages'`).
 * @throws {AssertionError} (`node:assert`) when the body is not JSON, its `messages` are malformed, or
 *   the cookie does not verify or holds only part of the messages (the not-finished marker).
 * @throws {TypeError} for bad options or something that is not a response.
 * @example
 * const res = await request(app.callback()).post('/vote');
 * expect(messagesOf(res)).to.deep.equal([{ message: 'Vote recorded.', tags: 'success' }]);
 */
export function messagesOf(response: Response, options?: MessagesOfOptions): Promise<WireMessage[]>;
export function messagesOf(response: ResponseLike, options?: MessagesOfOptions): WireMessage[];
export function messagesOf(
  response: ResponseLike | Response,
  options?: MessagesOfOptions,
): WireMessage[] | Promise<WireMessage[]> {
  const read = readResponse(response, checkReadOptions(options), 'messagesOf()');
  return Array.isArray(read) ? strip(read) : read.then(strip);
}
