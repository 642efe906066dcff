/**
 * The response cache in Settings and on Analytics: its configuration and size, hits and
 * misses since it started, and what cached answers saved according to the request log
 * (last 30 days); and Clear.
 */
import type { CacheView } from '../../shared/contract.js';
import type { ResponseCache } from '../gateway/policies/response-cache.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

const THIRTY_DAYS_MS = 30 * 86_400_000;

function loggedSavings(database: SqliteDatabase, since: number): { hits: number; saved: number } {
  const row = database
    .prepare('SELECT COUNT(*) AS hits, COALESCE(SUM(cache_savings_nano_usd), 0) AS saved FROM requests WHERE started_at >= ? AND cache_hit = 1')
    .get(since) as { hits: number; saved: number };
  return { hits: Number(row.hits), saved: Number(row.saved) };
}

export async function cacheView(cache: ResponseCache, database: SqliteDatabase, now = Date.now()): Promise<CacheView> {
  const stats = await cache.stats();
  const logged = loggedSavings(database, now - THIRTY_DAYS_MS);
  return {
    enabled: stats.enabled,
    ttlSeconds: stats.ttlSeconds,
    entries: stats.entries,
    bytes: stats.bytes,
    maxEntries: stats.maxEntries,
    maxBytes: stats.maxBytes,
    hits: stats.hits,
    misses: stats.misses,
    loggedHits30d: logged.hits,
    savedNanoUsd30d: logged.saved,
  };
}

export function createCacheService(context: ServiceContext): Pick<OperationHandlers, 'cache.get' | 'cache.clear'> {
  return {
    'cache.get': async () => {
      await context.requestLog.committed();
      return cacheView(context.cache, context.database);
    },
    'cache.clear': async () => {
      await context.cache.clear();
      return cacheView(context.cache, context.database);
    },
  };
}
