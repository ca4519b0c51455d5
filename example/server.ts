/**
 * `npm start`: the polls demo on http://localhost:3000 (`PORT` to change it).
 */
import { createApp } from './app.js';

const port = Number(process.env['PORT'] ?? 3000);
const host = process.env['HOST'] ?? '127.0.0.1';

const server = createApp().listen(port, host, () => {
  console.log(`Polls demo: http://localhost:${port}/ (Ctrl-C to stop)`);
});

// Stop cleanly on Ctrl-C and on `kill`, so the port is free at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
