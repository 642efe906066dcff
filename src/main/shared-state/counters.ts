/**
 * Shared counters: the state rate limits and budgets keep, behind one small interface so a
 * single gateway keeps it in process and several `serve` instances can share it (Redis,
 * one Lua script per operation). Every operation is atomic on its own: `consume` checks
 * and adds in one step, so concurrent requests against a limit of n let exactly n pass.
 *
 * A counter is a sliding window: the sum of the amounts added to a key whose time lies
 * within the last `windowMs` before `now`. An amount may be negative (a token estimate
 * corrected down once the real usage is known). Times are epoch milliseconds and are
 * always given by the caller, so the window is exact and tests need no real clock.
 */

/** One counter to charge: the amount is added only if the window total stays within the limit. */
export interface CounterCharge {
  key: string;
  amount: number;
  limit: number;
  windowMs: number;
}

export interface ConsumeResult {
  /** True when every charge fitted and all were added; false when none was added. */
  allowed: boolean;
  /** Each counter's window total after the operation (before, when refused), in the charges' order. */
  counts: number[];
  /** The first charge that did not fit, or -1. */
  refused: number;
  /** How long until the refused charge would fit (0 when allowed, or when it can never fit). */
  retryAfterMs: number;
}

export interface SharedCounters {
  /** Atomically: when every charge fits its limit, adds them all; otherwise adds nothing. */
  consume(charges: readonly CounterCharge[], now: number): Promise<ConsumeResult>;
  /** Adds an amount at time `at` with no limit (real usage known after the fact, spend). */
  add(key: string, amount: number, windowMs: number, at: number): Promise<void>;
  /** The window total of a key at `now`. */
  read(key: string, windowMs: number, now: number): Promise<number>;
  /**
   * Adds `amount()` to a key once: the first call for a key adds it, later calls (from this
   * instance or, shared, from any other) do nothing until the key is cleared or the store has
   * lost it. A budget's period starts from the spend the request log already holds this way.
   */
  seedOnce(key: string, windowMs: number, at: number, amount: () => number | Promise<number>): Promise<void>;
  /** Removes every counter whose key starts with the prefix (a rule was changed or removed). */
  clear(prefix: string): Promise<void>;
  /**
   * Why the last operation could not use the shared store and counted in this process only
   * (a warning for the request's log record), or null when it used it. Ask right after the
   * operation: in steady state (Redis up, or down) it is exact; only a request racing a change may
   * be told wrong. Only fallbacks implement it.
   */
  fallbackWarning?(): string | null;
}
