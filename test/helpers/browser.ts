import type Koa from 'koa';
import request from 'supertest';

import { CookieJar } from './cookie-jar.js';

type Method = 'get' | 'post' | 'head';

/**
 * A browser-like client over supertest with a cookie jar the test can inspect, copy, and feed
 * responses to in a chosen order (`send` + `jar.apply`).
 */
export class Browser {
  readonly handler: ReturnType<Koa['callback']>;
  jar = new CookieJar();

  constructor(app: Koa) {
    this.handler = app.callback();
  }

  /** Send a request with the jar's cookies; the response's cookies are NOT applied. */
  send(method: Method, path: string, jar: CookieJar = this.jar) {
    const req = request(this.handler)[method](path).redirects(0);
    const cookie = jar.header();
    return cookie === '' ? req : req.set('Cookie', cookie);
  }

  /** Send and apply the response's cookies, as a browser does. */
  async go(method: Method, path: string) {
    const res = await this.send(method, path);
    this.jar.apply(res.headers['set-cookie']);
    return res;
  }
}
