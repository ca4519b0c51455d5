import type { Context } from 'koa';

import { describeValue, MessagesError } from '../errors.js';
import { isPlainObject } from './plain-object.js';

/** What a descriptor's `values` may hold: JSON-safe primitives, so they survive any storage. */
export type DescriptorValue = string | number | boolean | null;

/** A descriptor's `values`: named JSON-safe primitives for the translation to interpolate. */
export type DescriptorValues = Readonly<Record<string, DescriptorValue>>;

/**
 * The app's catalogue of message ids, empty here. Augment it to narrow descriptors to known ids
 * and their values (as `YarFlashes` in @hapi/yar); an id whose entry is `undefined` takes no values.
 *
 * @example
 * declare module 'koa-messages' {
 *   interface MessageDescriptors {
 *     'vote.recorded': { votes: number };
 *     'poll.closed': undefined;
 *   }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface to augment
export interface MessageDescriptors {}

type DescriptorOf<Id extends string, V> = undefined extends V
  ? { readonly id: Id; readonly values?: Exclude<V, undefined> }
  : { readonly id: Id; readonly values: V };

/**
 * A message given as data instead of text: `{ id: 'vote.recorded', values: { votes: 3 } }`. It is
 * stored as is and turned into text by the `translate` option when it is shown, in the showing
 * request's language (docs/translation.md). Narrowed by {@link MessageDescriptors} when augmented.
 */
export type MessageDescriptor = [keyof MessageDescriptors] extends [never]
  ? { readonly id: string; readonly values?: DescriptorValues }
  : {
      [Id in Extract<keyof MessageDescriptors, string>]: DescriptorOf<Id, MessageDescriptors[Id]>;
    }[Extract<keyof MessageDescriptors, string>];

/** The `translate` option: a descriptor to text, with the showing request's `ctx`. */
export type Translate = (descriptor: MessageDescriptor, ctx: Context) => string;

const isValue = (value: unknown): value is DescriptorValue =>
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  value === null ||
  (typeof value === 'number' && Number.isFinite(value));

/** Whether `value` is a valid `values` object: a plain object of JSON-safe primitives. */
export function isDescriptorValues(value: unknown): value is DescriptorValues {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (Object.hasOwn(value, key) && !isValue(value[key])) return false;
  return true;
}

const argument = (text: string) => new MessagesError('ERR_KOA_MESSAGES_ARGUMENT', text);

/**
 * Check a descriptor given to `add()` (a plain object: anything else is not meant as one) and copy
 * it, so that the app changing its object later does not change the message.
 *
 * @throws {MessagesError} `ERR_KOA_MESSAGES_ARGUMENT` naming what is wrong.
 */
export function checkDescriptor(value: Record<string, unknown>): MessageDescriptor {
  const where = 'ctx.messages.add() message descriptor';
  for (const key of Object.keys(value)) {
    if (key !== 'id' && key !== 'values')
      throw argument(
        `${where} has an unknown property \`${key}\`; it takes \`id\` and \`values\`.`,
      );
  }
  const { id, values } = value;
  if (typeof id !== 'string' || id === '') {
    const got = id === '' ? "''" : describeValue(id);
    throw argument(`${where} needs \`id\`, a non-empty string; got ${got}.`);
  }
  if (values === undefined) return Object.freeze({ id });
  if (!isPlainObject(values))
    throw argument(`${where} \`values\` must be a plain object, got ${describeValue(values)}.`);
  const copy: [string, DescriptorValue][] = [];
  for (const [name, v] of Object.entries(values)) {
    if (!isValue(v)) {
      throw argument(
        `${where} \`values.${name}\` must be a string, a finite number, a boolean or null ` +
          `(JSON-safe), got ${describeValue(v)}.`,
      );
    }
    copy.push([name, v]);
  }
  // fromEntries defines own properties, so a `__proto__` name stays a value, never a prototype.
  return Object.freeze({
    id,
    values: Object.freeze(Object.fromEntries(copy)),
  });
}

/** A stored descriptor back to data; `undefined` when it is not valid (dropped like any bad entry). */
export function readDescriptor(id: unknown, values: unknown): MessageDescriptor | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  if (values === undefined) return { id };
  return isDescriptorValues(values) ? { id, values } : undefined;
}

/**
 * A stable text for a descriptor, for `dedupe`: the id, then the values sorted by name, so that
 * `{ a, b }` and `{ b, a }` are the same message.
 */
export function descriptorSignature(d: MessageDescriptor): string {
  const values = d.values;
  if (values === undefined) return JSON.stringify([d.id]);
  const names = Object.keys(values).sort();
  return JSON.stringify([d.id, names.map((n) => [n, values[n]])]);
}
