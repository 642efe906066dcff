/**
 * The fallback around Redis: operations go to Redis while it answers, to this instance's own
 * counters and cache when it is closed, refused or hanging (each such operation says so),
 * and to Redis again once it answers. A hanging Redis (SIGSTOP) costs one command timeout,
 * then is skipped until the suspension ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryResponseCacheStore, type CachedAnswer } from '../../src/main/gateway/policies/cache-store.js';
import { InProcessCounters } from '../../src/main/shared-state/in-process-counters.js';
import { RedisResponseCacheStore } from '../../src/main/shared-state/redis-cache-store.js';
import { maskRedisUrl, RedisLink, validateRedisUrl } from '../../src/main/shared-state/redis-connection.js';
import { RedisSharedCounters } from '../../src/main/shared-state/redis-counters.js';
import { FallbackCacheStore, FallbackCounters } from '../../src/main/shared-state/redis-fallback.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/throwaway-redis.js';

const MINUTE = 60_000;
let redis: ThrowawayRedis | null = null;
const links: RedisLink[] = [];

beforeAll(async () => {
  redis = await startThrowawayRedis();
});

afterAll(async () => {
  for (const link of links) await link.close();
  await redis?.stop();
});

async function eventually(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !condition(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
}

const answer: CachedAnswer = {
  response: { id: null, model: 'm', created: 0, choices: [{ index: 0, content: [{ type: 'text', text: 'kept' }], finish: { unified: 'stop', raw: 'stop' } }], usage: null },
  provider: 'p',
  model: 'm',
  storedAt: 0,
};

describe('Redis URLs', () => {
  it('masks the password and refuses what is not redis:// or rediss://', () => {
    expect(maskRedisUrl('redis://user:hunter2@redis.internal:6379/0')).toBe('redis://user:***@redis.internal:6379/0');
    expect(maskRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(validateRedisUrl('rediss://redis.internal:6380')).toBeNull();
    expect(validateRedisUrl('postgres://x')).toMatch(/must start with redis:\/\/ or rediss:\/\//);
    expect(validateRedisUrl('not a url')).toMatch(/not a URL/);
  });
});

describe('the fallback around Redis', () => {
  it('uses Redis while it answers, this instance alone while it hangs, and Redis again once it answers', async () => {
    const link = new RedisLink(redis!.url, { commandTimeoutMs: 200 });
    links.push(link);
    expect(await link.ready(5_000)).toBe(true);
    // What each operation was told, as a request's record would be.
    const notices: string[] = [];
    const counters = FallbackCounters.over(link, new RedisSharedCounters(link.client, { namespace: 'fallback-test:' }), new InProcessCounters()).noticing((warning) => notices.push(warning));
    const cache = FallbackCacheStore.over(link, new RedisResponseCacheStore(link.client, { maxEntries: 10, maxBytes: 1e6, namespace: 'fallback-cache:' }), new MemoryResponseCacheStore({ maxEntries: 10, maxBytes: 1e6 })).noticing((warning) => notices.push(warning));
    const charge = [{ key: 'rpm', amount: 1, limit: 5, windowMs: MINUTE }];

    expect(await counters.consume(charge, Date.now())).toMatchObject({ allowed: true, counts: [1] });
    await cache.set('shared', answer, MINUTE);
    expect(notices).toEqual([]);

    process.kill(redis!.pid, 'SIGSTOP');
    try {
      // The first command times out, and the instance counts alone (its own counter starts empty).
      expect(await counters.consume(charge, Date.now())).toMatchObject({ allowed: true, counts: [1] });
      expect(notices).toEqual([expect.stringMatching(/^Redis \(redis:\/\/127\.0\.0\.1:\d+\) is unreachable: limits and budgets were counted by this gateway instance alone/)]);
      expect(link.usable).toBe(false);
      expect(link.current()).toMatchObject({ state: 'unreachable', lastError: expect.stringMatching(/timed out/i) });
      // Skipped while suspended: answered from this instance's own state, without asking Redis.
      expect(await counters.consume(charge, Date.now())).toMatchObject({ allowed: true, counts: [2] });
      expect(await cache.get('shared')).toBeNull();
      expect(notices).toHaveLength(3);
      expect(notices[2]).toMatch(/the response cache was this gateway instance's own/);
    } finally {
      process.kill(redis!.pid, 'SIGCONT');
    }

    await eventually(() => link.usable);
    expect(link.usable).toBe(true);
    expect(link.current().state).toBe('connected');
    // Redis kept its count and the answer; the command that timed out was still in its socket and
    // counted once Redis woke (so a hang over-counts by what was in flight, never under-counts).
    expect(await counters.consume(charge, Date.now())).toMatchObject({ allowed: true, counts: [3] });
    expect((await cache.get('shared'))?.model).toBe('m');
    expect(notices).toHaveLength(3);
  });

  it('falls back at once when nothing listens, and says unreachable', async () => {
    const link = new RedisLink('redis://127.0.0.1:9');
    links.push(link);
    expect(await link.ready(300)).toBe(false);
    const shared = FallbackCounters.over(link, new RedisSharedCounters(link.client), new InProcessCounters());
    const notices: string[] = [];
    const counters = shared.noticing((warning) => notices.push(warning));
    expect(await counters.consume([{ key: 'k', amount: 1, limit: 1, windowMs: MINUTE }], 1_000)).toMatchObject({ allowed: true });
    expect(await counters.consume([{ key: 'k', amount: 1, limit: 1, windowMs: MINUTE }], 1_001)).toMatchObject({ allowed: false });
    expect(notices).toEqual([expect.stringMatching(/is unreachable/), expect.stringMatching(/is unreachable/)]);
    // Operations made without a notice (a request's correction after the fact) fall back silently.
    expect(await shared.read('k', MINUTE, 1_002)).toBe(1);
    expect(notices).toHaveLength(2);
    expect(link.current()).toMatchObject({ state: 'unreachable', url: 'redis://127.0.0.1:9' });
  });
});
