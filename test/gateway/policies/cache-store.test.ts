/**
 * Both response-cache stores, one suite (LRU by entries and bytes, TTL on an injected clock):
 * in process and in a throwaway Redis. And the cache section of the config.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/main/gateway/config.js';
import { MemoryResponseCacheStore, type CachedAnswer, type MemoryCacheOptions, type ResponseCacheStore } from '../../../src/main/gateway/policies/cache-store.js';
import { RedisResponseCacheStore } from '../../../src/main/shared-state/redis-cache-store.js';
import { throwawayRedisForFile } from '../../helpers/redis-clients.js';

const redis = throwawayRedisForFile('cache-test');

function redisStore(options: MemoryCacheOptions): ResponseCacheStore {
  const { client, namespace } = redis.next();
  return new RedisResponseCacheStore(client, { ...options, namespace });
}

const implementations: Array<[string, (options: MemoryCacheOptions) => ResponseCacheStore]> = [
  ['in process', (options) => new MemoryResponseCacheStore(options)],
  ['Redis', redisStore],
];

const answer = (text: string): CachedAnswer => ({
  response: { id: null, model: 'm', created: 0, choices: [{ index: 0, content: [{ type: 'text', text }], finish: { unified: 'stop', raw: 'stop' } }], usage: null },
  provider: 'p',
  model: 'm',
  storedAt: 0,
});
const size = (text: string): number => JSON.stringify(answer(text).response).length;

describe.each(implementations)('ResponseCacheStore %s', (_name, create) => {
  it('evicts the least recently used entry once over its byte bound', async () => {
    const store = create({ maxEntries: 100, maxBytes: size('aaaa') * 2 + 1 });
    await store.set('a', answer('aaaa'), 1000);
    await store.set('b', answer('bbbb'), 1000);
    expect(await store.get('a')).not.toBeNull();
    await store.set('c', answer('cccc'), 1000);
    expect(await store.get('b')).toBeNull();
    expect(await store.get('a')).not.toBeNull();
    expect((await store.stats()).bytes).toBe(size('aaaa') * 2);
  });

  it('does not keep an answer larger than the whole cache', async () => {
    const store = create({ maxEntries: 10, maxBytes: 10 });
    await store.set('big', answer('x'.repeat(100)), 1000);
    expect(await store.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('expires entries by the injected clock and replaces an entry set again', async () => {
    let now = 0;
    const store = create({ maxEntries: 10, maxBytes: 1e6, now: () => now });
    // Redis also expires by its own clock (PX): a TTL far longer than the test keeps that out of the way.
    await store.set('k', answer('one'), 100_000);
    await store.set('k', answer('two'), 100_000);
    expect((await store.stats()).entries).toBe(1);
    now = 99_999;
    expect((await store.get('k'))?.response.choices[0]!.content).toEqual([{ type: 'text', text: 'two' }]);
    now = 100_000;
    expect(await store.get('k')).toBeNull();
    expect(await store.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('evicts the least recently used entry past its entry bound and clears everything', async () => {
    const store = create({ maxEntries: 2, maxBytes: 1e6 });
    await store.set('a', answer('a'), 60_000);
    await store.set('b', answer('b'), 60_000);
    await store.get('a');
    await store.set('c', answer('c'), 60_000);
    expect(await store.get('b')).toBeNull();
    expect(await store.get('a')).toMatchObject({ provider: 'p', model: 'm' });
    await store.delete('a');
    expect(await store.stats()).toMatchObject({ entries: 1, bytes: size('c'), maxEntries: 2 });
    await store.clear();
    expect(await store.stats()).toMatchObject({ entries: 0, bytes: 0 });
    expect(await store.get('c')).toBeNull();
  });
});

describe('RedisResponseCacheStore', () => {
  it('shares answers between two connections (two gateway instances) and lets Redis expire them by itself', async () => {
    const options = { maxEntries: 10, maxBytes: 1e6, namespace: 'cache-shared:' };
    const [first, second] = [redis.connect(), redis.connect()];
    await new RedisResponseCacheStore(first, options).set('k', answer('shared'), 60_000);
    expect((await new RedisResponseCacheStore(second, options).get('k'))?.response.choices[0]!.content).toEqual([{ type: 'text', text: 'shared' }]);
    expect(await first.pttl('cache-shared:entry:k')).toBeGreaterThan(0);
  });
});

describe('cache config', () => {
  it('defaults to off, one hour, bounded', () => {
    expect(loadConfig({ environment: {} }).cache).toEqual({ enabled: false, ttlMs: 3600_000, maxEntries: 1000, maxBytes: 64 * 1024 * 1024 });
    expect(loadConfig({ environment: {}, file: { cache: { enabled: true, ttlSeconds: 60, maxEntries: 5, maxMegabytes: 1 } } }).cache).toEqual({ enabled: true, ttlMs: 60_000, maxEntries: 5, maxBytes: 1024 * 1024 });
  });

  it('refuses bad values with a message naming the field', () => {
    expect(() => loadConfig({ environment: {}, file: { cache: { ttlSeconds: -1 } } })).toThrow(/cache.ttlSeconds/);
    expect(() => loadConfig({ environment: {}, file: { cache: { maxEntries: 0 } } })).toThrow(ConfigError);
    expect(() => loadConfig({ environment: {}, file: { cache: { enabled: 'yes' as unknown as boolean } } })).toThrow(/cache.enabled/);
  });
});
