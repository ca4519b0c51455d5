/** IPC messages between the bench (parent) and a variant's server (child). */

export type BenchCommand =
  { type: 'start' } | { type: 'stop' } | { type: 'heap' } | { type: 'exit' };

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'unavailable'; reason: string }
  | { type: 'started' }
  | {
      type: 'stopped';
      /** Server CPU (user + system) in microseconds since `start`. */
      cpuUs: number;
      elapsedMs: number;
      /** Milliseconds from the first to the last request of the round. */
      busyMs: number;
      /** Requests that entered the app since `start`. */
      requests: number;
      /** Bytes of Set-Cookie header values written since `start`. */
      setCookieBytes: number;
      errors: number;
    }
  | { type: 'heap'; heapUsed: number };
