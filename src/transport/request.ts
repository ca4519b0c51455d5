import type { Context } from 'koa';

/** Set on a ctx by `ctx.messages.toHeader()`; read at the end of the request (deliver.ts). */
export const TO_HEADER = Symbol('koa-messages to header');

export type Marked = Context & { [TO_HEADER]?: true };

/** `ctx.messages.toHeader()`: ask for the X-Messages header on this response. */
export function requestHeader(ctx: Context): void {
  (ctx as Marked)[TO_HEADER] = true;
}
