/** The in-process response-cache store (LRU by entries and bytes, TTL on an injected clock) and the cache section of the config. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/main/gateway/config.js';
import { MemoryResponseCacheStore, type CachedAnswer } from '../../../src/main/gateway/policies/cache-store.js';

const answer = (text: string): CachedAnswer => ({
  response: { id: null, model: 'm', created: 0, choices: [{ index: 0, content: [{ type: 'text', text }], finish: { unified: 'stop', raw: 'stop' } }], usage: null },
  provider: 'p',
  model: 'm',
  storedAt: 0,
});
const size = (text: string): number => JSON.stringify(answer(text).response).length;

describe('MemoryResponseCacheStore', () => {
  it('evicts the least recently used entry once over its byte bound', async () => {
    const store = new MemoryResponseCacheStore({ maxEntries: 100, maxBytes: size('aaaa') * 2 + 1 });
    await store.set('a', answer('aaaa'), 1000);
    await store.set('b', answer('bbbb'), 1000);
    expect(await store.get('a')).not.toBeNull();
    await store.set('c', answer('cccc'), 1000);
    expect(await store.get('b')).toBeNull();
    expect(await store.get('a')).not.toBeNull();
    expect((await store.stats()).bytes).toBe(size('aaaa') * 2);
  });

  it('does not keep an answer larger than the whole cache', async () => {
    const store = new MemoryResponseCacheStore({ maxEntries: 10, maxBytes: 10 });
    await store.set('big', answer('x'.repeat(100)), 1000);
    expect(await store.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('expires entries by the injected clock and replaces an entry set again', async () => {
    let now = 0;
    const store = new MemoryResponseCacheStore({ maxEntries: 10, maxBytes: 1e6, now: () => now });
    await store.set('k', answer('one'), 100);
    await store.set('k', answer('two'), 100);
    expect((await store.stats()).entries).toBe(1);
    now = 99;
    expect((await store.get('k'))?.response.choices[0]!.content).toEqual([{ type: 'text', text: 'two' }]);
    now = 100;
    expect(await store.get('k')).toBeNull();
    expect(await store.stats()).toMatchObject({ entries: 0, bytes: 0 });
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
