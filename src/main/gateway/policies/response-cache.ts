/**
 * The response cache as a pipeline policy: a request whose normalised core request was
 * answered before (within the time to live) is answered again from the store, in whatever
 * format the client speaks, without an upstream attempt; a miss is answered by the upstream
 * and its complete, successful answer stored. Every model call says what happened in
 * `x-switchyard-cache: hit | miss | off`.
 *
 * Per request, `x-switchyard-cache: off` skips the cache, `refresh` asks the upstream and
 * stores the new answer, `on` uses the cache when the configuration leaves it off.
 */
import type { CoreResponse } from '../../core/types.js';
import type { CacheConfig } from '../config.js';
import type { Policy, PolicyCall, PolicyDecision } from '../pipeline/policy.js';
import { recordFallbackWarning } from '../../shared-state/redis-fallback.js';
import { cacheKey } from './cache-key.js';
import { MemoryResponseCacheStore, type CacheStoreStats, type ResponseCacheStore } from './cache-store.js';

export const CACHE_HEADER = 'x-switchyard-cache';

type Mode = 'use' | 'refresh' | 'off';

export interface ResponseCacheStats extends CacheStoreStats {
  enabled: boolean;
  ttlSeconds: number;
  /** Since the gateway started (or the cache was last cleared). */
  hits: number;
  misses: number;
}

/** Only a whole, successful answer is worth repeating: every choice finished, none with an error. */
function complete(response: CoreResponse): boolean {
  return response.choices.length > 0 && response.choices.every((choice) => choice.finish !== null && choice.finish.unified !== 'error');
}

export class ResponseCache implements Policy {
  readonly name = 'response-cache';
  readonly store: ResponseCacheStore;
  private hits = 0;
  private misses = 0;
  /** Calls that missed (or refreshed), by call: their key, until the call ends. */
  private readonly pending = new WeakMap<PolicyCall, string>();
  private readonly now: () => number;

  constructor(
    private readonly config: CacheConfig,
    options: { store?: ResponseCacheStore; now?: () => number } = {},
  ) {
    this.store = options.store ?? new MemoryResponseCacheStore({ maxEntries: config.maxEntries, maxBytes: config.maxBytes, now: options.now });
    this.now = options.now ?? Date.now;
  }

  private mode(call: PolicyCall): Mode {
    const asked = call.headers[CACHE_HEADER];
    const value = typeof asked === 'string' ? asked.trim().toLowerCase() : '';
    if (value === 'off') return 'off';
    if (value === 'refresh') return 'refresh';
    if (value === 'on') return 'use';
    return this.config.enabled ? 'use' : 'off';
  }

  before(call: PolicyCall): PolicyDecision | Promise<PolicyDecision> {
    const mode = this.mode(call);
    if (mode === 'off') {
      call.replyHeaders[CACHE_HEADER] = 'off';
      return undefined;
    }
    return this.lookUp(call, mode);
  }

  private async lookUp(call: PolicyCall, mode: Exclude<Mode, 'off'>): Promise<PolicyDecision> {
    const key = cacheKey(call.core, call.byokKey, call.nativeExtras ? { endpoint: call.endpoint, fields: call.nativeExtras } : null);
    if (mode === 'use') {
      // Redis unreachable: this instance's own store answers, and the request's record says so.
      const store = this.store.noticing?.((warning) => recordFallbackWarning(call.record, warning)) ?? this.store;
      const cached = await store.get(key);
      if (cached) {
        this.hits += 1;
        call.replyHeaders[CACHE_HEADER] = 'hit';
        return { answer: { response: cached.response, provider: cached.provider, model: cached.model, cacheHit: true } };
      }
    }
    this.misses += 1;
    call.replyHeaders[CACHE_HEADER] = 'miss';
    this.pending.set(call, key);
  }

  after(call: PolicyCall): void {
    const key = this.pending.get(call);
    if (key === undefined) return;
    this.pending.delete(call);
    const { record, response } = call;
    if (!response || record.status !== 'success' || !record.resolvedModel || !complete(response)) return;
    // The pipeline's objects are the client's answer; the store keeps a copy of its own.
    const answer = { response: structuredClone(response), provider: record.provider, model: record.resolvedModel, storedAt: this.now() };
    this.store.set(key, answer, this.config.ttlMs).catch(() => {
      // A store that cannot keep an answer only costs a later miss.
    });
  }

  async stats(): Promise<ResponseCacheStats> {
    return { ...(await this.store.stats()), enabled: this.config.enabled, ttlSeconds: Math.round(this.config.ttlMs / 1000), hits: this.hits, misses: this.misses };
  }

  async clear(): Promise<void> {
    await this.store.clear();
    this.hits = 0;
    this.misses = 0;
  }
}
