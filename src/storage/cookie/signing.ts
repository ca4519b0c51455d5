import { createHmac, timingSafeEqual } from 'node:crypto';

import type Koa from 'koa';

import { MessagesError } from '../../errors.js';

/**
 * Signs and verifies the value of a messages cookie with the app's keys.
 *
 * The value is `<payload>.<tag>`: the payload is base64url (no `.` in its alphabet), so the last
 * `.` always separates the tag, and the whole value is cookie-safe (RFC 6265 `cookie-octet`:
 * no space, `"`, `,`, `;` or `\`). One cookie, no `.sig` companion: its size is what the budget counts.
 */
export interface Signer {
  /** Length of every tag this signer makes, for exact size accounting before signing. */
  readonly tagLength: number;
  /** `payload.tag`, signed with the first key. */
  sign(name: string, payload: string): string;
  /** The payload when `value` carries a valid tag from any key, else `undefined`. Never throws. */
  unsign(name: string, value: string): string | undefined;
}

/** HMAC-SHA256 truncated to 128 bits (RFC 2104 section 5 allows truncation to half the output). */
const TAG_BYTES = 16;
/** base64url of 16 bytes, no padding. */
const TAG_LENGTH = Math.ceil((TAG_BYTES * 4) / 3);
const TAG_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * What is MACed: a fixed label, the cookie name and the payload, NUL-separated. The label keeps these
 * tags apart from anything else the same keys sign (keygrip signs `name=value` for Koa's signed
 * cookies; cookie names and values cannot contain NUL, so no such string equals ours), and the name
 * stops a value from being replayed under another cookie name.
 */
const signedData = (name: string, payload: string): string => `koa-messages\0${name}\0${payload}`;

type Key = string | Buffer;

/** The subset of keygrip that Koa documents for `app.keys = new Keygrip(keys, algorithm)`. */
interface KeygripLike {
  sign(data: string): string;
  index(data: string, digest: string): number;
}

export const isKeygrip = (keys: unknown): keys is KeygripLike =>
  typeof keys === 'object' &&
  keys !== null &&
  typeof (keys as KeygripLike).sign === 'function' &&
  typeof (keys as KeygripLike).index === 'function';

const isKey = (key: unknown): key is Key =>
  (typeof key === 'string' || Buffer.isBuffer(key)) && key.length > 0;

function hmacSigner(keys: readonly Key[]): Signer {
  const tag = (key: Key, data: string): string =>
    createHmac('sha256', key).update(data).digest().subarray(0, TAG_BYTES).toString('base64url');
  return {
    tagLength: TAG_LENGTH,
    sign(name, payload) {
      return `${payload}.${tag(keys[0]!, signedData(name, payload))}`;
    },
    unsign(name, value) {
      const dot = value.lastIndexOf('.');
      if (dot < 0 || value.length - dot - 1 !== TAG_LENGTH) return undefined;
      const digest = value.slice(dot + 1);
      // The alphabet check also makes the latin1 conversion below one byte per character.
      if (!TAG_PATTERN.test(digest)) return undefined;
      const payload = value.slice(0, dot);
      const given = Buffer.from(digest, 'latin1');
      const data = signedData(name, payload);
      // Tags are compared as their canonical base64url text, so no second spelling of a tag
      // verifies. The comparison is constant-time; which key matched is no secret, so the loop may stop.
      for (const key of keys) {
        if (timingSafeEqual(given, Buffer.from(tag(key, data), 'latin1'))) return payload;
      }
      return undefined;
    },
  };
}

function keygripSigner(keygrip: KeygripLike): Signer {
  // keygrip's tags have its algorithm's full length (27 characters for its default sha1).
  const tagLength = keygrip.sign(signedData('', '')).length;
  return {
    tagLength,
    sign(name, payload) {
      return `${payload}.${keygrip.sign(signedData(name, payload))}`;
    },
    unsign(name, value) {
      const dot = value.lastIndexOf('.');
      if (dot < 0 || value.length - dot - 1 !== tagLength) return undefined;
      const digest = value.slice(dot + 1);
      if (!TAG_PATTERN.test(digest)) return undefined;
      // keygrip compares in constant time (tsscmp).
      return keygrip.index(signedData(name, value.slice(0, dot)), digest) >= 0
        ? value.slice(0, dot)
        : undefined;
    },
  };
}

// One signer per keys value; rebuilt when the app replaces or edits `app.keys`.
const signers = new WeakMap<object, { snapshot: readonly unknown[]; signer: Signer }>();

/**
 * The signer for `app.keys`: HMAC-SHA256 (128-bit tag) for an array of keys, signing with the first
 * and accepting any (key rotation: put the new key first, keep the old ones while their cookies live);
 * a Keygrip instance (`app.keys = new Keygrip(keys, 'sha256')`, as Koa documents) signs with its own
 * algorithm.
 *
 * @param storage - the storage name for the error message (`cookie`, `fallback`).
 * @throws {TypeError} when `app.keys` is missing, empty, or holds an empty or non-string key:
 *   the cookie is never written unsigned.
 */
export function signerFor(app: Koa, storage: string): Signer {
  const keys: unknown = app.keys;
  if (isKeygrip(keys)) {
    const cached = signers.get(keys);
    if (cached !== undefined) return cached.signer;
    const signer = keygripSigner(keys);
    signers.set(keys, { snapshot: [], signer });
    return signer;
  }
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every(isKey)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NO_KEYS',
      `storage \`${storage}\` needs app.keys to sign its cookie, and app.keys is ` +
        `${keys == null || (Array.isArray(keys) && keys.length === 0) ? 'not set' : 'not a list of non-empty strings'}. ` +
        'Set app.keys = [secret] (newest first) before the first request; the cookie is never sent unsigned.',
    );
  }
  const cached = signers.get(keys);
  if (cached !== undefined && sameKeys(cached.snapshot, keys)) return cached.signer;
  const snapshot = keys.slice();
  const signer = hmacSigner(snapshot);
  signers.set(keys, { snapshot, signer });
  return signer;
}

const sameKeys = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  a.length === b.length && a.every((key, i) => key === b[i]);
