import type { Context } from 'koa';

import { random } from './random.js';
import { signingKeys } from './request-cookies.js';
import { ALWAYS, type Hint, tag, type VisitorConfig } from './visitor.js';

const EPOCH = new Date(0).toUTCString();

/**
 * The cookies one response sets, written with one `setHeader` when the request ends. The lines are
 * exactly what `ctx.cookies.set()` writes for these options (`path=/`, `expires`, `samesite=lax`,
 * `secure` on HTTPS, `httponly`; a signed cookie's `.sig` from `app.keys`), and an earlier line for
 * the same name is replaced, as its `overwrite: true` does. Written here rather than through
 * `cookies`, which builds, validates and re-sets the whole header array once per cookie: about 2 µs
 * a line, and a new visitor's first add writes four (docs/scaling.md). Names and values come from
 * fixed alphabets (the `cookie` option's, base64url), so there is nothing to validate.
 */
export class ResponseCookies {
  readonly #ctx: Context;
  readonly #config: VisitorConfig;
  readonly #names: string[] = [];
  readonly #lines: string[] = [];
  #expires: string | undefined;

  constructor(ctx: Context, config: VisitorConfig) {
    this.#ctx = ctx;
    this.#config = config;
  }

  #line(name: string, value: string, expires: string): void {
    const secure = this.#ctx.secure ? '; secure' : '';
    this.#names.push(name);
    this.#lines.push(
      `${name}=${value}; path=/; expires=${expires}; samesite=lax${secure}; httponly`,
    );
  }

  #signed(name: string, value: string, expires: string): void {
    this.#line(name, value, expires);
    this.#line(`${name}.sig`, signingKeys(this.#ctx)!.sign(`${name}=${value}`), expires);
  }

  get #expiry(): string {
    return (this.#expires ??= new Date(Date.now() + this.#config.ttl).toUTCString());
  }

  /** The id cookie (cookie mode, for a new or adopted id). */
  id(id: string): void {
    this.#signed(this.#config.cookie, id, this.#expiry);
  }

  /** A fresh hint cookie: something may be pending under `id` (rule 1 of docs/contributing/redis-hint-proof.md). */
  hint(id: string): void {
    const config = this.#config;
    if (!config.hint) return;
    const name = `${config.cookie}.p.${random(6)}`;
    if (config.key !== undefined) this.#line(name, tag(id), this.#expiry);
    else this.#signed(name, id, this.#expiry);
  }

  /**
   * The marker `<cookie>.p.all`, set instead of a fresh hint once `id` has had many saves since
   * its last claim. No response ever deletes it (so it needs no fresh name: rule 2 cannot
   * apply to it); it expires `ttl` after the last save that set it, never before the messages it
   * covers. While it is there the visitor claims on every request, like `hint: false`.
   */
  always(id: string): void {
    const config = this.#config;
    if (!config.hint) return;
    const name = `${config.cookie}.p.${ALWAYS}`;
    if (config.key !== undefined) this.#line(name, tag(id), this.#expiry);
    else this.#signed(name, id, this.#expiry);
  }

  /**
   * Delete the hint cookies this request carried whose id's claim certainly ran (rule 2 of docs/contributing/redis-hint-proof.md;
   * each id is claimed by its own script, so one may be certain while another is not). A signed
   * hint's `.sig` is deleted as a cookie of its own: signing a deletion would be an HMAC for
   * nothing, since a browser drops both either way.
   */
  clear(hints: readonly Hint[], claimed: ReadonlySet<string>): void {
    const signed = this.#config.key === undefined;
    for (const { name, id } of hints) {
      if (!claimed.has(id)) continue;
      this.#line(name, '', EPOCH);
      if (signed) this.#line(`${name}.sig`, '', EPOCH);
    }
  }

  /** Add the lines to the response's `Set-Cookie`, replacing earlier ones for the same names. */
  send(): void {
    const res = this.#ctx.res;
    // Never throw ERR_HTTP_HEADERS_SENT: the storage checks before its Redis commands, and an
    // app that takes the response over (`ctx.respond = false`) is reported as such by the core.
    if (this.#lines.length === 0 || res.headersSent) return;
    const before = res.getHeader('Set-Cookie');
    const kept = (before === undefined ? [] : Array.isArray(before) ? before : [String(before)])
      .map(String)
      .filter((line) => !this.#names.some((name) => line.startsWith(`${name}=`)));
    res.setHeader('Set-Cookie', kept.length === 0 ? this.#lines : [...kept, ...this.#lines]);
  }
}
