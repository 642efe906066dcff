/**
 * Shared counters: the state rate limits and budgets keep, behind one small interface so a
 * single gateway keeps it in process and several `serve` instances can share it (Redis,
 * one Lua script per operation). Every operation is atomic on its own: `consume` checks
 * and adds in one step, so concurrent requests against a limit of n let exactly n pass.
 *
 * A counter is a sliding window: the sum of the amounts added to a key whose time is later
 * than `now - windowMs` — later than `now` included: a charge another instance made a moment
 * "later" by its clock, or a request that read the time first but reached the store second,
 * still counts, so reordering never lets more than the limit through. An amount may be negative (a token estimate
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
   * The same counters, calling `notice` with a warning whenever an operation made through
   * them could not use the shared store and counted in this process only (the warning goes
   * into that request's log record). Only the fallback around Redis implements it.
   */
  noticing?(notice: (warning: string) => void): SharedCounters;
}
