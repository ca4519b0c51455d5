// The peers ship no types; the bench only needs their factories.
declare module 'koa-flash' {
  /** koa-flash 1.0: a Koa 1 generator middleware (use through koa-convert). */
  function flash(options?: { key?: string; defaultValue?: unknown }): (next: unknown) => Generator;
  export default flash;
}

declare module 'koa-better-flash' {
  import type { Middleware } from 'koa';
  /** koa-better-flash 0.0.4: `ctx.flash(type, msg)` pushes, `ctx.flash()` returns all and resets. */
  function flash(): Middleware;
  export default flash;
}

declare module 'autocannon' {
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    onResponse?: (
      status: number,
      body: string,
      context: Record<string, unknown>,
      headers: Record<string, string | string[]>,
    ) => void;
  }
  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    sampleInt?: number;
    duration?: number;
    amount?: number;
    requests?: Request[];
    initialContext?: Record<string, unknown>;
  }
  export interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p99: number;
    max: number;
  }
  export interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
