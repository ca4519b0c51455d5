import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  request as httpRequest,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';

import type Koa from 'koa';

/** Statuses a shared cache may store without explicit freshness (RFC 9110 §15.1, "heuristically cacheable"). */
const HEURISTIC = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

interface Entry {
  readonly vary: readonly string[];
  readonly key: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * A shared HTTP cache (a CDN, a reverse proxy) in front of a real Koa server, as RFC 9111 lets one
 * behave: it stores GET responses that are explicitly `public` or heuristically cacheable (a 404
 * without caching headers), unless `private` or `no-store`; keys them by URL plus the request
 * headers their `Vary` names; and stores every header, `Set-Cookie` included (some CDNs do).
 * Traffic goes through real sockets, so Koa's own error handling runs as in production.
 */
export class SharedCache {
  readonly #entries = new Map<string, Entry[]>();
  #upstream: Server | undefined;
  #proxy: Server | undefined;
  hits = 0;

  /** Start the app's server and the cache in front of it; `url` is where clients go. */
  async start(app: Koa): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback answers its own errors (500): its promise never rejects
    this.#upstream = createServer(app.callback()).listen(0, '127.0.0.1');
    await once(this.#upstream, 'listening');
    const upstreamPort = (this.#upstream.address() as AddressInfo).port;
    this.#proxy = createServer((req, res) => {
      const url = req.url ?? '/';
      if (req.method === 'GET') {
        for (const entry of this.#entries.get(url) ?? []) {
          if (entry.key !== keyOf(req.headers, entry.vary)) continue;
          this.hits += 1;
          res.writeHead(entry.status, { ...entry.headers, 'x-cache': 'HIT' });
          res.end(entry.body);
          return;
        }
      }
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port: upstreamPort,
          method: req.method,
          path: url,
          headers: req.headers,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            const status = answer.statusCode ?? 502;
            if (req.method === 'GET') this.#store(url, req.headers, status, answer.headers, body);
            res.writeHead(status, { ...answer.headers, 'x-cache': 'MISS' });
            res.end(body);
          });
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    }).listen(0, '127.0.0.1');
    await once(this.#proxy, 'listening');
    return `http://127.0.0.1:${(this.#proxy.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const server of [this.#proxy, this.#upstream]) {
      if (server === undefined) continue;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    }
  }

  /** How many responses the cache holds. */
  get size(): number {
    return [...this.#entries.values()].reduce((n, list) => n + list.length, 0);
  }

  #store(
    url: string,
    request: IncomingHttpHeaders,
    status: number,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): void {
    const cacheControl = String(headers['cache-control'] ?? '');
    if (/\b(private|no-store)\b/i.test(cacheControl)) return;
    const explicit = /\bpublic\b/i.test(cacheControl) || /\bs-maxage=\d/i.test(cacheControl);
    if (!explicit && !HEURISTIC.has(status)) return;
    const vary = String(headers.vary ?? '')
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== '');
    if (vary.includes('*')) return;
    const list = this.#entries.get(url) ?? [];
    list.push({ vary, key: keyOf(request, vary), status, headers, body });
    this.#entries.set(url, list);
  }
}

const keyOf = (headers: IncomingHttpHeaders, vary: readonly string[]): string =>
  vary.map((name) => `${name}=${String(headers[name] ?? '')}`).join('\n');
