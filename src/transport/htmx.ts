import { debuglog } from 'node:util';

import { asciiJson } from './encode.js';

const debug = debuglog('koa-messages');

// htmx's event names in a comma-separated HX-Trigger value: it splits on `,` and trims.
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The HX-Trigger value with a `messages` event added, or `null` when the handler's own value cannot
 * take it (then the messages stay pending: nothing of the app's is overwritten).
 *
 * htmx reads the header two ways (`handleTriggerHeader` in htmx.js): a value starting with `{` is
 * a JSON object of event name → detail; anything else is a comma-separated list of event names.
 * A list becomes an object whose events have `{}` as detail (htmx gives listed events an empty
 * detail too). The app's JSON text is kept byte for byte; the messages go last.
 *
 * @param existing - the handler's HX-Trigger, `undefined` when it set none.
 * @param list - the JSON array of messages, already ASCII-safe.
 */
export function mergeHxTrigger(existing: string | undefined, list: string): string | null {
  const entry = `"messages":${list}`;
  if (existing === undefined || existing.trim() === '') return `{${entry}}`;
  if (existing.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch {
      debug('HX-Trigger set by the app is not JSON; messages kept for the next response');
      return null;
    }
    if (!isObject(parsed) || Object.hasOwn(parsed, 'messages')) {
      debug(
        'HX-Trigger set by the app already has a `messages` event; messages kept for the next response',
      );
      return null;
    }
    const body = existing.trimEnd().slice(0, -1).trimEnd();
    return Object.keys(parsed).length === 0 ? `{${entry}}` : `${body},${entry}}`;
  }
  const names = existing
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.includes('messages')) return null;
  return `{${names.map((name) => `${asciiJson(name)}:{}`).join(',')}${names.length > 0 ? ',' : ''}${entry}}`;
}
