/**
 * Shared state that survives Redis going away: every operation goes to Redis while the
 * connection is up, and to this instance's own in-process state when it is not (or when a
 * command fails or times out), so requests are still limited and cached, per instance.
 * The last operation's fallback is remembered for the request's log record
 * (`fallbackWarning`). When Redis is back the next operation uses it again; what the
 * instance counted alone meanwhile stays with it (an outage under-counts, it never refuses
 * more than the limit allows on any one instance).
 */
import type { RequestRecord } from '../core/record.js';
import type { CachedAnswer, CacheStoreStats, ResponseCacheStore } from '../gateway/policies/cache-store.js';
import type { ConsumeResult, CounterCharge, SharedCounters } from './counters.js';
import type { RedisLink } from './redis-connection.js';

/** Runs an operation on Redis when the link is up, else (or on its failure) on the local fallback. */
class Fallback<Store> {
  private fellBack = false;

  constructor(
    private readonly link: RedisLink,
    private readonly shared: Store,
    private readonly local: Store,
    private readonly what: string,
  ) {}

  async run<T>(operation: (store: Store) => Promise<T>): Promise<T> {
    if (this.link.usable) {
      try {
        const value = await operation(this.shared);
        this.fellBack = false;
        return value;
      } catch (error) {
        this.link.failed(error as Error);
      }
    }
    this.fellBack = true;
    return operation(this.local);
  }

  warning(): string | null {
    return this.fellBack ? `Redis (${this.link.current().url}) is unreachable: ${this.what}` : null;
  }
}

export class FallbackCounters implements SharedCounters {
  private readonly fallback: Fallback<SharedCounters>;

  constructor(link: RedisLink, shared: SharedCounters, local: SharedCounters) {
    this.fallback = new Fallback(link, shared, local, 'limits and budgets were counted by this gateway instance alone, not shared with the others.');
  }

  consume(charges: readonly CounterCharge[], now: number): Promise<ConsumeResult> {
    return this.fallback.run((store) => store.consume(charges, now));
  }

  add(key: string, amount: number, windowMs: number, at: number): Promise<void> {
    return this.fallback.run((store) => store.add(key, amount, windowMs, at));
  }

  read(key: string, windowMs: number, now: number): Promise<number> {
    return this.fallback.run((store) => store.read(key, windowMs, now));
  }

  seedOnce(key: string, windowMs: number, at: number, amount: () => number | Promise<number>): Promise<void> {
    return this.fallback.run((store) => store.seedOnce(key, windowMs, at, amount));
  }

  clear(prefix: string): Promise<void> {
    return this.fallback.run((store) => store.clear(prefix));
  }

  fallbackWarning(): string | null {
    return this.fallback.warning();
  }
}

export class FallbackCacheStore implements ResponseCacheStore {
  private readonly fallback: Fallback<ResponseCacheStore>;

  constructor(link: RedisLink, shared: ResponseCacheStore, local: ResponseCacheStore) {
    this.fallback = new Fallback(link, shared, local, "the response cache was this gateway instance's own, not shared with the others.");
  }

  get(key: string): Promise<CachedAnswer | null> {
    return this.fallback.run((store) => store.get(key));
  }

  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    return this.fallback.run((store) => store.set(key, answer, ttlMs));
  }

  delete(key: string): Promise<void> {
    return this.fallback.run((store) => store.delete(key));
  }

  clear(): Promise<void> {
    return this.fallback.run((store) => store.clear());
  }

  stats(): Promise<CacheStoreStats> {
    return this.fallback.run((store) => store.stats());
  }

  fallbackWarning(): string | null {
    return this.fallback.warning();
  }
}

/** Puts a fallback's warning on the request's log record (once per message). */
export function recordFallbackWarning(record: Readonly<RequestRecord>, message: string | null | undefined): void {
  if (!message || record.warnings.some((known) => known.message === message)) return;
  record.warnings.push({ type: 'other', message });
}
