// The wire schemas are built on `zod/v4/core`, not on classic zod nor on `zod/mini`: this module is
// the browser entry's, and a page pays for what it uses (classic zod is about 25 KB gzip by
// itself; zod/mini's methods another 0.6 KB on top of the core). Zod's advice to libraries is the
// same: core schemas nest in an app's `z.object(...)` and parse with `z.parse()` in either flavour.
import type * as classic from 'zod';
import type * as mini from 'zod/mini';
import {
  _minLength,
  type $loose,
  type $strip,
  $ZodArray,
  $ZodBoolean,
  $ZodEnum,
  $ZodObject,
  $ZodOptional,
  type $ZodShape,
  $ZodString,
  $ZodUnknown,
  clone,
  type output,
} from 'zod/v4/core';

import { MessagesError } from './errors.js';
import { LEVEL_NAMES } from './levels.js';

// Small typed builders, so that a page that does not use a schema does not build it either
// (`@__NO_SIDE_EFFECTS__`: esbuild and Rollup drop a call whose result is unused).

/* @__NO_SIDE_EFFECTS__ */
function string(): $ZodString<string> {
  return new $ZodString({ type: 'string' }) as $ZodString<string>;
}

/* @__NO_SIDE_EFFECTS__ */
function boolean(): $ZodBoolean<boolean> {
  return new $ZodBoolean({ type: 'boolean' }) as $ZodBoolean<boolean>;
}

/* @__NO_SIDE_EFFECTS__ */
function optional<T extends $ZodArray | $ZodBoolean>(innerType: T): $ZodOptional<T> {
  return new $ZodOptional({ type: 'optional', innerType }) as $ZodOptional<T>;
}

/* @__NO_SIDE_EFFECTS__ */
function object<S extends $ZodShape>(shape: S): $ZodObject<S, $strip> {
  return new $ZodObject({ type: 'object', shape }) as $ZodObject<S, $strip>;
}

/** An object that keeps unknown keys (`z.looseObject`). */
/* @__NO_SIDE_EFFECTS__ */
function looseObject<S extends $ZodShape>(shape: S): $ZodObject<S, $loose> {
  return new $ZodObject({
    type: 'object',
    shape,
    catchall: new $ZodUnknown({ type: 'unknown' }),
  }) as $ZodObject<S, $loose>;
}

/** `z.enum(values)`. */
/* @__NO_SIDE_EFFECTS__ */
function enumOf<const T extends readonly string[]>(values: T): $ZodEnum<{ [K in T[number]]: K }> {
  const entries = Object.fromEntries(values.map((value) => [value, value]));
  return new $ZodEnum({ type: 'enum', entries }) as unknown as $ZodEnum<{ [K in T[number]]: K }>;
}

/** A standard level name. */
export const levelNameSchema = /* @__PURE__ */ enumOf(LEVEL_NAMES);

/**
 * One message as `ctx.ajax()` sends it: the text (HTML-escaped unless the server was told
 * otherwise) and its tags, space separated, extra tags first (`'special info'`).
 */
export const messageSchema = /* @__PURE__ */ object({
  message: /* @__PURE__ */ string(),
  tags: /* @__PURE__ */ string(),
});

/** One message on the wire. */
export type WireMessage = output<typeof messageSchema>;

/** Any list of messages, `[]` included (`onMessages()` reads htmx events with it). */
export const messageArraySchema = /* @__PURE__ */ new $ZodArray({
  type: 'array',
  element: messageSchema,
}) as $ZodArray<typeof messageSchema>;

/** A list of messages as the server sends one: never empty (no messages, no list). */
export const messageListSchema = /* @__PURE__ */ new $ZodArray({
  type: 'array',
  element: messageSchema,
  checks: [/* @__PURE__ */ _minLength(1)],
}) as $ZodArray<typeof messageSchema>;

/** The keys `ctx.ajax()` adds to the caller's data. `messages` is never an empty list. */
export const envelopeShape = {
  success: /* @__PURE__ */ optional(/* @__PURE__ */ boolean()),
  messages: /* @__PURE__ */ optional(messageListSchema),
};

type EnvelopeShape = typeof envelopeShape;
/** The data schema's keys, `success` and `messages` replaced by the envelope's. */
type WithEnvelope<Shape> = Omit<Shape, keyof EnvelopeShape> & EnvelopeShape;

/** The envelope alone, any other keys kept: `ajaxResponseSchema()`. */
export const envelopeSchema = /* @__PURE__ */ looseObject(envelopeShape);

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
 * and an optional non-empty `messages` list. It is of the data schema's flavour: a classic
 * `z.object(...)` gives a classic object (`.parse()`, `.extend()`, …), a `zod/mini` one a
 * `zod/mini` object. Without a data schema it is a zod core schema: parse it with `z.parse()`
 * or `z.safeParse()` (classic zod and `zod/mini` both have them), or nest it.
 *
 * @param dataSchema - a `z.object(...)` (classic zod or `zod/mini`) for the data keys; default:
 *   any keys are allowed and kept.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_ARGUMENT` when `dataSchema` is not an object schema.
 * @example
 * const Vote = ajaxResponseSchema(z.object({ votes: z.number() }));
 * const body = Vote.parse(await response.json()); // { votes: number, success?: boolean, messages?: … }
 */
export function ajaxResponseSchema(): $ZodObject<EnvelopeShape, $loose>;
export function ajaxResponseSchema<S extends classic.ZodObject>(
  dataSchema: S,
): classic.ZodObject<WithEnvelope<S['shape']>, S['_zod']['config']>;
export function ajaxResponseSchema<S extends mini.ZodMiniObject>(
  dataSchema: S,
): mini.ZodMiniObject<WithEnvelope<S['shape']>, S['_zod']['config']>;
export function ajaxResponseSchema<S extends $ZodObject>(
  dataSchema: S,
): $ZodObject<WithEnvelope<S['_zod']['def']['shape']>, S['_zod']['config']>;
export function ajaxResponseSchema(dataSchema?: unknown): $ZodObject {
  if (dataSchema === undefined) return looseObject(envelopeShape);
  checkDataSchema(dataSchema);
  // What `.extend(envelopeShape)` does, by hand: zod core's `util.extend` can only be imported
  // with all of zod's util (8 KB gzip). `clone` builds with the schema's own constructor, so a
  // classic object stays classic and a mini one mini; its checks (refinements) are kept.
  const def = dataSchema._zod.def;
  return clone(dataSchema, { ...def, shape: { ...def.shape, ...envelopeShape } });
}

/**
 * Throw unless `dataSchema` is an object schema, of classic zod or `zod/mini` (`instanceof` a
 * core class holds for both: zod checks traits, not prototypes).
 */
export function checkDataSchema(dataSchema: unknown): asserts dataSchema is $ZodObject {
  if (!(dataSchema instanceof $ZodObject)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      'ajaxResponseSchema(dataSchema) takes a z.object(...) schema.',
    );
  }
}

/**
 * The header transports' payload, `HX-Trigger` (option `htmx`) and `X-Messages`
 * (`ctx.messages.toHeader()`): a JSON object whose `messages` key holds the messages, non-ASCII
 * escaped as `\uXXXX` so the header stays ASCII. In `HX-Trigger` other keys are the app's events.
 */
export const messagesHeaderSchema = /* @__PURE__ */ looseObject({ messages: messageListSchema });

/**
 * The `detail` of the `messages` event htmx 2 dispatches for that header: htmx 2 wraps a value
 * that is not a plain object as `{ value }`. htmx 4 hands the list itself as `detail`: check it
 * with {@link messageListSchema} (`onMessages()` reads both).
 */
export const messagesEventDetailSchema = /* @__PURE__ */ object({ value: messageListSchema });

/** The response header of the bodiless-answer transport (`ctx.messages.toHeader()`). */
export const MESSAGES_HEADER = 'X-Messages';
