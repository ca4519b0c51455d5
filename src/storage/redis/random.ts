import { randomFillSync } from 'node:crypto';

/**
 * Random bytes handed out from a pool filled 4 KiB at a time: each `randomBytes()` call of a few
 * bytes costs a trip into OpenSSL (about 1 µs here), and every new visitor needs 22 bytes (id and
 * hint name). The bytes are the same CSPRNG output, each handed out once; Node's own
 * `crypto.randomUUID()` pools its entropy the same way.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
export function random(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const text = pool.toString('base64url', poolAt, poolAt + bytes);
  // Used bytes are zeroed, so the buffer never holds a handed-out id longer than needed.
  pool.fill(0, poolAt, (poolAt += bytes));
  return text;
}

/** 128 random bits, base64url: the visitor id of cookie mode. */
export const newId = (): string => random(16);

/** 72 random bits: the name of one script call's record in Redis (scripts.ts). */
export const newToken = (): string => random(9);
