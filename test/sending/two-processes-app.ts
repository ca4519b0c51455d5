import type { Outbox } from '../../src/index.js';
import { sendingApp } from './app.js';

/** The app both processes run. */
export const loggedInApp = (outbox: Outbox) => sendingApp(outbox);
