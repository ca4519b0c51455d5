/**
 * A clock the test moves by hand: while installed, `Date.now()` (what koa-messages stamps
 * `addedAt` with and measures `maxAge` against) reads a time that only `advance()` changes, so a
 * test of expiry waits for nothing and cannot be late or early under load. Timers are untouched
 * (they run on the monotonic clock): requests, sockets and Redis behave as usual.
 */
export interface ManualClock {
  /** Move the clock forward by `ms`. */
  advance(ms: number): void;
}

/** Installs a {@link ManualClock} before each test of the enclosing `describe`, removed after it. */
export function useManualClock(): ManualClock {
  const realNow = Date.now;
  let now = realNow();
  beforeEach(() => {
    now = realNow();
    Date.now = () => now;
  });
  afterEach(() => {
    Date.now = realNow;
  });
  return {
    advance(ms: number) {
      if (Date.now === realNow) throw new Error('useManualClock: advance() outside a test');
      now += ms;
    },
  };
}
