/**
 * Shared state that survives Redis going away: every operation goes to Redis while the
 * connection is up, and to this instance's own in-process state when it is not (or when a
 * command fails or times out), so requests are still limited and cached, per instance.
 * A store obtained with `noticing(notice)` tells each of its operations that fell back, so
 * the warning lands in the log record of exactly the request it concerns. When Redis is back the next operation uses it again; what the
 * instance counted alone meanwhile stays with it (an outage under-counts, it never refuses
 * more than the limit allows on any one instance).
 */
import type { RequestRecord } from '../core/record.js';
import type { CachedAnswer, CacheStoreStats, ResponseCacheStore } from '../gateway/policies/cache-store.js';
import type { ConsumeResult, CounterCharge, SharedCounters } from './counters.js';
import type { RedisLink } from './redis-connection.js';

type Notice = ((warning: string) => void) | undefined;

/** Runs an operation on Redis when the link is up, else (or on its failure) on the local fallback, and tells the notice so. */
class Fallback<Store> {
  constructor(
    private readonly link: RedisLink,
    private readonly shared: Store,
    private readonly local: Store,
    private readonly what: string,
  ) {}

  async run<T>(operation: (store: Store) => Promise<T>, notice: Notice): Promise<T> {
    if (this.link.usable) {
      try {
        return await operation(this.shared);
      } catch (error) {
        this.link.failed(error as Error);
      }
    }
    notice?.(`Redis (${this.link.current().url}) is unreachable: ${this.what}`);
    return operation(this.local);
  }
}

export class FallbackCounters implements SharedCounters {
  /** Redis's counters with this instance's own as the fallback. */
  static over(link: RedisLink, shared: SharedCounters, local: SharedCounters): FallbackCounters {
    return new FallbackCounters(new Fallback(link, shared, local, 'limits and budgets were counted by this gateway instance alone, not shared with the others.'), undefined);
  }

  private constructor(
    private readonly fallback: Fallback<SharedCounters>,
    private readonly notice: Notice,
  ) {}

  noticing(notice: (warning: string) => void): SharedCounters {
    return new FallbackCounters(this.fallback, notice);
  }

  consume(charges: readonly CounterCharge[], now: number): Promise<ConsumeResult> {
    return this.fallback.run((store) => store.consume(charges, now), this.notice);
  }

  add(key: string, amount: number, windowMs: number, at: number): Promise<void> {
    return this.fallback.run((store) => store.add(key, amount, windowMs, at), this.notice);
  }

  read(key: string, windowMs: number, now: number): Promise<number> {
    return this.fallback.run((store) => store.read(key, windowMs, now), this.notice);
  }

  seedOnce(key: string, windowMs: number, at: number, amount: () => number | Promise<number>): Promise<void> {
    return this.fallback.run((store) => store.seedOnce(key, windowMs, at, amount), this.notice);
  }

  clear(prefix: string): Promise<void> {
    return this.fallback.run((store) => store.clear(prefix), this.notice);
  }
}

export class FallbackCacheStore implements ResponseCacheStore {
  /** Redis's store with this instance's own as the fallback. */
  static over(link: RedisLink, shared: ResponseCacheStore, local: ResponseCacheStore): FallbackCacheStore {
    return new FallbackCacheStore(new Fallback(link, shared, local, "the response cache was this gateway instance's own, not shared with the others."), undefined);
  }

  private constructor(
    private readonly fallback: Fallback<ResponseCacheStore>,
    private readonly notice: Notice,
  ) {}

  noticing(notice: (warning: string) => void): ResponseCacheStore {
    return new FallbackCacheStore(this.fallback, notice);
  }

  get(key: string): Promise<CachedAnswer | null> {
    return this.fallback.run((store) => store.get(key), this.notice);
  }

  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    return this.fallback.run((store) => store.set(key, answer, ttlMs), this.notice);
  }

  delete(key: string): Promise<void> {
    return this.fallback.run((store) => store.delete(key), this.notice);
  }

  clear(): Promise<void> {
    return this.fallback.run((store) => store.clear(), this.notice);
  }

  stats(): Promise<CacheStoreStats> {
    return this.fallback.run((store) => store.stats(), this.notice);
  }
}

/** Puts a fallback's warning on the request's log record (once per message). */
export function recordFallbackWarning(record: Readonly<RequestRecord>, message: string): void {
  if (record.warnings.some((known) => known.message === message)) return;
  record.warnings.push({ type: 'other', message });
}
