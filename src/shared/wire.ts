// A namespace import, not `import { z }`: bundlers tree-shake it, where the named import drags in
// every zod locale.
import * as z from 'zod';

import { MessagesError } from './errors.js';
import { LEVEL_NAMES } from './levels.js';

/** A standard level name. */
export const levelNameSchema = z.enum(LEVEL_NAMES);

/**
 * One message as `ctx.ajax()` sends it: the text (HTML-escaped unless the server was told
 * otherwise) and its tags, space separated, extra tags first (`'special info'`).
 */
export const messageSchema = z.object({
  message: z.string(),
  tags: z.string(),
});

/** One message on the wire. */
export type WireMessage = z.infer<typeof messageSchema>;

/** The keys `ctx.ajax()` adds to the caller's data. `messages` is never an empty list. */
export const envelopeShape = {
  success: z.boolean().optional(),
  messages: z.array(messageSchema).min(1).optional(),
};

/**
 * The body of a `ctx.ajax()` answer whose data is `T`: the data's keys, `success` when the server
 * passed one, `messages` when any were pending (otherwise the data's own `messages`, if it had one).
 */
export type AjaxResponse<T extends object = Record<string, unknown>> = Omit<
  T,
  'success' | 'messages'
> & {
  success?: boolean | (T extends { success: infer S } ? S : never);
  messages?: WireMessage[] | (T extends { messages: infer M } ? M : never);
};

/**
 * The schema of a whole `ctx.ajax()` body: the data's own keys, an optional boolean `success`,
 * and an optional non-empty `messages` list.
 *
 * @param dataSchema - a `z.object(...)` for the data keys; default: any keys are allowed and kept.
 * @example
 * const Vote = ajaxResponseSchema(z.object({ votes: z.number() }));
 * const body = Vote.parse(await response.json()); // { votes: number, success?: boolean, messages?: … }
 */
export function ajaxResponseSchema(): z.ZodObject<typeof envelopeShape, z.core.$loose>;
export function ajaxResponseSchema<S extends z.ZodObject>(
  dataSchema: S,
): z.ZodObject<
  Omit<S['shape'], keyof typeof envelopeShape> & typeof envelopeShape,
  S['_zod']['config']
>;
export function ajaxResponseSchema(dataSchema?: z.ZodObject): z.ZodObject {
  if (dataSchema === undefined) return z.looseObject(envelopeShape);
  if (!(dataSchema instanceof z.ZodObject)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      'ajaxResponseSchema(dataSchema) takes a z.object(...) schema.',
    );
  }
  return dataSchema.extend(envelopeShape);
}

/**
 * The header transports' payload, `HX-Trigger` (option `htmx`) and `X-Messages`
 * (`ctx.messages.toHeader()`): a JSON object whose `messages` key holds the messages, non-ASCII
 * escaped as `\uXXXX` so the header stays ASCII. In `HX-Trigger` other keys are the app's events.
 */
export const messagesHeaderSchema = z.looseObject({ messages: z.array(messageSchema).min(1) });

/**
 * The `detail` of the `messages` event htmx dispatches for that header: htmx wraps a value that is
 * not an object as `{ value }`.
 */
export const messagesEventDetailSchema = z.object({ value: z.array(messageSchema).min(1) });

/** The response header of the bodiless-answer transport (`ctx.messages.toHeader()`). */
export const MESSAGES_HEADER = 'X-Messages';
