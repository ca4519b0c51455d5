/**
 * The scenarios: what a virtual user (one autocannon connection) sends, what it starts with, and
 * what each answer must be. A variant whose answers are wrong is reported "n/a" with the reason,
 * never timed: a fast wrong answer is not a result.
 */
import type { Request } from 'autocannon';

import { bigData, MESSAGE_TEXT, SMALL_DATA } from './data.js';
import {
  applySetCookie,
  cookieHeader,
  fetchWithJar,
  type Jar,
  type ServerProcess,
} from './harness.js';
import type { VariantId } from './variants.js';

export const WITH_MESSAGE = JSON.stringify({
  ...SMALL_DATA,
  messages: [{ message: MESSAGE_TEXT, tags: 'success' }],
});
export const WITHOUT_MESSAGE = JSON.stringify(SMALL_DATA);
const PLAIN = '{"ok":true}';
const BIG = JSON.stringify(bigData());

export const SCENARIO_IDS = ['a-fresh', 'a-session', 'b', 'c', 'd', 'e', 'e-session'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** A counter the requests' `onResponse` bump for each wrong answer. */
export interface Check {
  wrong: number;
}

/** What a prepared scenario hands to the load generator. */
export interface Prepared {
  requests: (check: Check) => Request[];
  context: Record<string, unknown>;
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  variants: readonly VariantId[];
  /** Requests per measured round in a full run (about a second of load on an idle 2-core machine). */
  amount: number;
  /**
   * Check the flow once with real requests, then describe the load.
   *
   * @throws {NotApplicable} when the variant cannot do this flow.
   */
  prepare(server: ServerProcess): Promise<Prepared>;
}

/** The variant answers this flow wrongly (or cannot do it): listed as n/a with the reason. */
export class NotApplicable extends Error {}

const FLASHES: readonly VariantId[] = [
  'floor',
  'koa-flash',
  'koa-better-flash',
  'km-session',
  'km-cookie',
  'km-fallback',
  'km-redis',
];
const UNTOUCHED: readonly VariantId[] = [
  'baseline',
  'km-session',
  'km-flash',
  'km-cookie',
  'km-fallback',
  'km-redis',
  'koa-flash',
  'koa-better-flash',
];

function expectBody(expected: string, body: string, what: string): void {
  if (body !== expected) {
    throw new NotApplicable(
      `${what} answered ${body.length > 120 ? `${body.slice(0, 120)}…` : body}, expected ${expected.length > 120 ? `${expected.slice(0, 60)}…` : expected}`,
    );
  }
}

/** autocannon keeps header names as the server wrote them (`Set-Cookie` or `set-cookie`). */
function setCookieOf(headers: Record<string, string | string[]>): string | string[] | undefined {
  for (const name in headers) if (name.toLowerCase() === 'set-cookie') return headers[name];
  return undefined;
}

/** A logged-in visitor's cookies: a session that holds a user and no messages. */
async function login(server: ServerProcess): Promise<Jar> {
  const { status, jar } = await fetchWithJar(`${server.url}/login`, 'GET', {});
  if (status !== 200 || Object.keys(jar).length === 0)
    throw new Error(`bench: ${server.id} /login gave ${status} and no cookie`);
  return jar;
}

/** The same request again and again with fixed cookies; every answer must be `expected`. */
function fixed(
  method: string,
  path: string,
  jar: Jar,
  expected: { status: number; body?: string },
): Prepared {
  const headers = Object.keys(jar).length === 0 ? {} : { cookie: cookieHeader(jar) };
  return {
    context: {},
    requests: (check) => [
      {
        method,
        path,
        headers,
        onResponse: (status, body) => {
          if (status !== expected.status || (expected.body !== undefined && body !== expected.body))
            check.wrong++;
        },
      },
    ],
  };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'a-fresh',
    amount: 9000,
    title: '(a) route ignores messages, no cookie',
    variants: UNTOUCHED,
    async prepare(server) {
      const first = await fetchWithJar(`${server.url}/plain`, 'GET', {});
      expectBody(PLAIN, first.body, 'GET /plain');
      return fixed('GET', '/plain', {}, { status: 200, body: PLAIN });
    },
  },
  {
    id: 'a-session',
    amount: 9000,
    title: '(a) route ignores messages, session cookie sent',
    variants: UNTOUCHED,
    async prepare(server) {
      const jar = await login(server);
      const first = await fetchWithJar(`${server.url}/plain`, 'GET', jar);
      expectBody(PLAIN, first.body, 'GET /plain');
      return fixed('GET', '/plain', jar, { status: 200, body: PLAIN });
    },
  },
  {
    id: 'b',
    amount: 6000,
    title: '(b) add one message, 303 redirect',
    variants: FLASHES,
    async prepare(server) {
      const jar = await login(server);
      const added = await fetchWithJar(`${server.url}/add`, 'POST', jar);
      if (added.status !== 303) throw new NotApplicable(`POST /add answered ${added.status}`);
      const read = await fetchWithJar(`${server.url}/read`, 'GET', added.jar);
      expectBody(WITH_MESSAGE, read.body, 'GET /read after POST /add');
      // Each request adds to the same logged-in session: the answer's cookies are not kept.
      return fixed('POST', '/add', jar, { status: 303 });
    },
  },
  {
    id: 'c',
    amount: 6000,
    title: '(c) read one pending message with ctx.ajax()',
    variants: [...FLASHES, 'floor-headers', 'floor-2'],
    async prepare(server) {
      const jar = (await fetchWithJar(`${server.url}/add`, 'POST', await login(server))).jar;
      // The request is replayed with the same cookies: that only measures a read if the message
      // lives in those cookies (or the cookie-backed session), not in server-side state.
      for (const attempt of ['first', 'replayed']) {
        const read = await fetchWithJar(`${server.url}/read`, 'GET', jar);
        if (read.body !== WITH_MESSAGE) {
          throw new NotApplicable(
            `the ${attempt} read answered ${read.body} (state is server-side; see (d))`,
          );
        }
      }
      return fixed('GET', '/read', jar, { status: 200, body: WITH_MESSAGE });
    },
  },
  {
    id: 'd',
    amount: 6000,
    title: '(d) add → 303 → ajax shows it → ajax shows none, cookie jar',
    // km-session-htmx: the `htmx` option on, requests without HX-Request (issue 14's budget);
    // km-session-2 is its A/A control.
    variants: [
      ...FLASHES,
      'floor-headers',
      'km-session-2',
      'km-session-htmx',
      'km-flash',
      'floor-redis',
      'floor-redis-2',
      'km-session-outbox',
      'km-session-outbox-every',
    ],
    async prepare(server) {
      const start = await login(server);
      const add = await fetchWithJar(`${server.url}/add`, 'POST', { ...start });
      if (add.status !== 303) throw new NotApplicable(`POST /add answered ${add.status}`);
      const first = await fetchWithJar(`${server.url}/read`, 'GET', add.jar);
      expectBody(WITH_MESSAGE, first.body, 'the first GET /read');
      const second = await fetchWithJar(`${server.url}/read`, 'GET', first.jar);
      expectBody(WITHOUT_MESSAGE, second.body, 'the second GET /read');

      // A type alias, not an interface: autocannon's context is a `Record<string, unknown>`, and only
      // an alias has the implicit index signature that lets it be cast to `Ctx`.
      // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- see above
      type Ctx = { jar: Jar };
      const withJar = (request: { method: string; path: string }) => ({
        ...request,
        setupRequest: (req: Request, context: Record<string, unknown>) => ({
          ...req,
          headers: { ...req.headers, cookie: cookieHeader((context as Ctx).jar) },
        }),
      });
      return {
        // autocannon clones this for each connection, and again each time round the sequence.
        // A server-side session (floor-redis, floor-redis-2) would be ONE session shared by all connections
        // (they start with the same cookie) and lose messages between them: there each
        // connection starts without cookies and gets its own session at its first add.
        context: { jar: server.id.startsWith('floor-redis') ? {} : start },
        requests: (check) => [
          {
            ...withJar({ method: 'POST', path: '/add' }),
            onResponse: (status, _body, context, headers) => {
              if (status !== 303) check.wrong++;
              applySetCookie((context as Ctx).jar, setCookieOf(headers));
            },
          },
          {
            ...withJar({ method: 'GET', path: '/read' }),
            onResponse: (status, body, context, headers) => {
              if (status !== 200 || body !== WITH_MESSAGE) check.wrong++;
              applySetCookie((context as Ctx).jar, setCookieOf(headers));
            },
          },
          {
            ...withJar({ method: 'GET', path: '/read' }),
            onResponse: (status, body, context, headers) => {
              if (status !== 200 || body !== WITHOUT_MESSAGE) check.wrong++;
              applySetCookie((context as Ctx).jar, setCookieOf(headers));
            },
          },
        ],
      };
    },
  },
  {
    id: 'e',
    amount: 1200,
    title: '(e) ~100 KB JSON: ctx.ajax(data) vs ctx.body = data, no cookie',
    variants: ['baseline', 'km-session'],
    async prepare(server) {
      const first = await fetchWithJar(`${server.url}/big`, 'GET', {});
      expectBody(BIG, first.body, 'GET /big');
      return fixed('GET', '/big', {}, { status: 200, body: BIG });
    },
  },
  {
    // Not a budget: ctx.ajax() must read the session to know whether messages are pending, and
    // the baseline never reads it. This shows what that read costs a logged-in visitor.
    id: 'e-session',
    amount: 1200,
    title: '(e) ~100 KB JSON, session cookie sent (ctx.ajax() reads the session)',
    variants: ['baseline', 'floor', 'km-session'],
    async prepare(server) {
      const jar = await login(server);
      const first = await fetchWithJar(`${server.url}/big`, 'GET', jar);
      expectBody(BIG, first.body, 'GET /big');
      return fixed('GET', '/big', jar, { status: 200, body: BIG });
    },
  },
];
