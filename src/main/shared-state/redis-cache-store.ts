/**
 * The response cache in Redis, shared by several `serve` instances: an answer one instance
 * stored is a hit on every other.
 *
 * Bounded by the config's entries and bytes, across all instances, not by Redis's
 * `maxmemory` (a setting of the whole server, which other data shares): a sorted set orders
 * the entries by last use (a counter, not a clock, so two uses in one millisecond keep their
 * order) and the least recently used are evicted past either bound, inside the script that
 * stores. Each answer also expires by itself (`PX`, the time to live), and a second sorted set
 * of expiry times lets a read or the stats drop what has expired from the index and the byte
 * count. Every operation is one Lua script, so concurrent instances never see a half-made
 * entry or a wrong byte total.
 *
 * Keys (under the namespace): `entry:<key>` the answer as JSON; `lru` and `expiry` sorted
 * sets of cache keys; `sizes` a hash of each entry's bytes; `meta` a hash of the use counter
 * and the byte total. Eviction deletes keys the script computes, so this needs one Redis
 * (or a Sentinel pair), not a Redis Cluster.
 */
import type { Redis } from 'ioredis';
import { answerBytes, type CachedAnswer, type CacheStoreStats, type ResponseCacheStore } from '../gateway/policies/cache-store.js';
import { deleteMatching, globForPrefix } from './redis-counters.js';

const LUA_COMMON = `
local lru, expiry, sizes, meta = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix = ARGV[1]
local function purge(key)
  redis.call('DEL', prefix .. key)
  redis.call('ZREM', lru, key)
  redis.call('ZREM', expiry, key)
  local bytes = tonumber(redis.call('HGET', sizes, key) or '0')
  if bytes > 0 then redis.call('HINCRBY', meta, 'bytes', -bytes) end
  redis.call('HDEL', sizes, key)
end
local function purge_expired(now)
  local gone = redis.call('ZRANGEBYSCORE', expiry, '-inf', now)
  for i = 1, #gone do purge(gone[i]) end
end
`;

/** ARGV: prefix, key, now. Returns the answer's JSON or nil, and marks it used. */
const GET = `${LUA_COMMON}
local key, now = ARGV[2], tonumber(ARGV[3])
local value = redis.call('GET', prefix .. key)
local expires = redis.call('ZSCORE', expiry, key)
if not value or not expires or tonumber(expires) <= now then
  purge(key)
  return false
end
redis.call('ZADD', lru, redis.call('HINCRBY', meta, 'uses', 1), key)
return value
`;

/** ARGV: prefix, key, value, bytes, ttlMs, now, maxEntries, maxBytes. */
const SET = `${LUA_COMMON}
local key, value, bytes, ttl, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local max_entries, max_bytes = tonumber(ARGV[7]), tonumber(ARGV[8])
purge(key)
if bytes > max_bytes or ttl <= 0 then return 0 end
purge_expired(now)
redis.call('SET', prefix .. key, value, 'PX', ttl)
redis.call('ZADD', lru, redis.call('HINCRBY', meta, 'uses', 1), key)
redis.call('ZADD', expiry, now + ttl, key)
redis.call('HSET', sizes, key, bytes)
local total = redis.call('HINCRBY', meta, 'bytes', bytes)
while redis.call('ZCARD', lru) > max_entries or total > max_bytes do
  local oldest = redis.call('ZRANGE', lru, 0, 0)
  if #oldest == 0 then break end
  purge(oldest[1])
  total = tonumber(redis.call('HGET', meta, 'bytes') or '0')
end
return 1
`;

/** ARGV: prefix, key. */
const DELETE = `${LUA_COMMON}
purge(ARGV[2])
return 1
`;

/** ARGV: prefix, now. Returns entries and bytes once expired entries are dropped. */
const STATS = `${LUA_COMMON}
purge_expired(tonumber(ARGV[2]))
return { redis.call('ZCARD', lru), tonumber(redis.call('HGET', meta, 'bytes') or '0') }
`;

type ScriptArgument = string | number;

interface CacheScripts {
  switchyardCacheGet(...keysAndArguments: ScriptArgument[]): Promise<string | null>;
  switchyardCacheSet(...keysAndArguments: ScriptArgument[]): Promise<number>;
  switchyardCacheDelete(...keysAndArguments: ScriptArgument[]): Promise<number>;
  switchyardCacheStats(...keysAndArguments: ScriptArgument[]): Promise<[number, number]>;
}

export interface RedisCacheOptions {
  maxEntries: number;
  maxBytes: number;
  /** Prefix of every key (default `switchyard:cache:`). */
  namespace?: string;
  /** Epoch ms now (tests move time; in production the same clock as Redis's `PX`). */
  now?: () => number;
}

export class RedisResponseCacheStore implements ResponseCacheStore {
  private readonly redis: Redis & CacheScripts;
  private readonly namespace: string;
  private readonly keys: string[];
  private readonly entryPrefix: string;
  private readonly now: () => number;

  constructor(
    redis: Redis,
    private readonly options: RedisCacheOptions,
  ) {
    this.namespace = options.namespace ?? 'switchyard:cache:';
    this.keys = ['lru', 'expiry', 'sizes', 'meta'].map((name) => `${this.namespace}${name}`);
    this.entryPrefix = `${this.namespace}entry:`;
    this.now = options.now ?? Date.now;
    redis.defineCommand('switchyardCacheGet', { lua: GET, numberOfKeys: 4 });
    redis.defineCommand('switchyardCacheSet', { lua: SET, numberOfKeys: 4 });
    redis.defineCommand('switchyardCacheDelete', { lua: DELETE, numberOfKeys: 4 });
    redis.defineCommand('switchyardCacheStats', { lua: STATS, numberOfKeys: 4 });
    this.redis = redis as Redis & CacheScripts;
  }

  async get(key: string): Promise<CachedAnswer | null> {
    const value = await this.redis.switchyardCacheGet(...this.keys, this.entryPrefix, key, this.now());
    return value === null ? null : (JSON.parse(value) as CachedAnswer);
  }

  async set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    const bytes = answerBytes(answer);
    await this.redis.switchyardCacheSet(...this.keys, this.entryPrefix, key, JSON.stringify(answer), bytes, Math.ceil(ttlMs), this.now(), this.options.maxEntries, this.options.maxBytes);
  }

  async delete(key: string): Promise<void> {
    await this.redis.switchyardCacheDelete(...this.keys, this.entryPrefix, key);
  }

  async clear(): Promise<void> {
    await deleteMatching(this.redis, globForPrefix(this.namespace));
  }

  async stats(): Promise<CacheStoreStats> {
    const [entries, bytes] = await this.redis.switchyardCacheStats(...this.keys, this.entryPrefix, this.now());
    return { entries: Number(entries), bytes: Number(bytes), maxEntries: this.options.maxEntries, maxBytes: this.options.maxBytes };
  }
}
