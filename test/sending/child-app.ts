/**
 * One app process of test/sending/two-processes.test.ts: koa-session (cookie sessions, shared
 * keys), the session visitor storage and a redisOutbox on the Redis at argv[2]. Prints its port.
 */
import { Redis } from 'ioredis';

import { redisOutbox } from '../../src/redis.js';
import { loggedInApp } from './two-processes-app.js';

const client = new Redis(Number(process.argv[2]), '127.0.0.1');
const app = loggedInApp(redisOutbox({ client }));
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('message', () => {
  server.close();
  server.closeAllConnections(); // the test's fetch keeps connections alive
  client.disconnect();
});
