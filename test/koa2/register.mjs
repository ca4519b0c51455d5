// Loaded with `--import` after tsx by the second mocha run (test/koa2/mocharc.json): from here on,
// every ESM `import 'koa'` in the process resolves to Koa 2 (the `koa2` npm alias dev dependency).
//
// A resolve hook rather than a fixture directory with its own install: the same test files run
// unchanged against both majors, and `npm ci` installs both from the one lock file. Hooks see ESM
// imports only (Node 20 does not route `require()` through them): the suites import Koa as ESM,
// and none of the CommonJS packages they load (koa-session, @koa/router, koa-passport) requires it.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
