/**
 * The response cache in Settings and on Analytics: its configuration and size, hits and
 * misses since it started, and what cached answers saved according to the request log
 * (last 30 days); and Clear.
 */
import type { CacheView } from '../../shared/contract.js';
import type { ResponseCache } from '../gateway/policies/response-cache.js';
import type { AnalyticsClient } from '../storage/analytics-worker.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

const THIRTY_DAYS_MS = 30 * 86_400_000;

export async function cacheView(cache: ResponseCache, analytics: AnalyticsClient, now = Date.now()): Promise<CacheView> {
  // From the analytics rollups, off the main thread (the UI asks every few seconds).
  const [stats, logged] = await Promise.all([cache.stats(), analytics.summary({ from: now - THIRTY_DAYS_MS, to: now })]);
  return {
    enabled: stats.enabled,
    ttlSeconds: stats.ttlSeconds,
    entries: stats.entries,
    bytes: stats.bytes,
    maxEntries: stats.maxEntries,
    maxBytes: stats.maxBytes,
    hits: stats.hits,
    misses: stats.misses,
    loggedHits30d: logged.cacheHits,
    savedNanoUsd30d: logged.cacheSavingsNanoUsd,
  };
}

export function createCacheService(context: ServiceContext): Pick<OperationHandlers, 'cache.get' | 'cache.clear'> {
  return {
    'cache.get': async () => {
      await context.requestLog.committed();
      return cacheView(context.cache, context.analytics());
    },
    'cache.clear': async () => {
      await context.cache.clear();
      return cacheView(context.cache, context.analytics());
    },
  };
}
