// Loaded with `--import` after tsx by the second mocha run (test/koa2/mocharc.json): from here on,
// `koa` and `koa/<path>` resolve to Koa 2 (the `koa2` npm alias dev dependency), for ESM imports
// through a resolve hook and for require() (koa-messages requires `koa/lib/context.js` to extend
// Koa's shared context prototype) through the CommonJS resolver, which Node 20's hooks do not see.
//
// A resolve mapping rather than a fixture directory with its own install: the same test files run
// unchanged against both majors, and `npm ci` installs both from the one lock file.
import Module, { register } from 'node:module';

register('./hooks.mjs', import.meta.url);

const toKoa2 = (request) =>
  request === 'koa' || request.startsWith('koa/') ? `koa2${request.slice(3)}` : request;
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, toKoa2(request), ...rest);
};
