/**
 * Both SharedCounters, one suite: sliding windows, all-or-nothing consume, corrections,
 * retry times, seeding once, clearing by prefix — in process and in a throwaway Redis.
 */
import { describe, expect, it } from 'vitest';
import type { SharedCounters } from '../../src/main/shared-state/counters.js';
import { InProcessCounters } from '../../src/main/shared-state/in-process-counters.js';
import { RedisSharedCounters } from '../../src/main/shared-state/redis-counters.js';
import { throwawayRedisForFile } from '../helpers/redis-clients.js';

const MINUTE = 60_000;

const redis = throwawayRedisForFile('test');

/** A fresh counter store: in process, or Redis under a namespace of its own (so tests never see each other's keys). */
function redisCounters(): SharedCounters {
  const { client, namespace } = redis.next();
  return new RedisSharedCounters(client, { namespace });
}

const implementations: Array<[string, () => SharedCounters]> = [
  ['in process', () => new InProcessCounters()],
  ['Redis', redisCounters],
];

describe.each(implementations)('SharedCounters %s', (_name, create) => {
  const fresh = create;
  it('lets exactly the limit through in one window and frees it as the window slides', async () => {
    const counters = fresh();
    const charge = [{ key: 'rpm', amount: 1, limit: 3, windowMs: MINUTE }];
    const results = [];
    for (let second = 0; second < 5; second += 1) results.push(await counters.consume(charge, 1_000_000 + second * 1000));
    expect(results.map((result) => result.allowed)).toEqual([true, true, true, false, false]);
    expect(results[2]!.counts).toEqual([3]);
    // The first request (at +0 s) leaves the window 60 s after it was counted: 57 s after the refusal at +3 s.
    expect(results[3]!.retryAfterMs).toBe(57_000);
    expect((await counters.consume(charge, 1_000_000 + MINUTE)).allowed).toBe(true);
    expect(await counters.read('rpm', MINUTE, 1_000_000 + MINUTE)).toBe(3);
  });

  it('adds nothing when one of several charges does not fit', async () => {
    const counters = fresh();
    await counters.add('tpm', 90, MINUTE, 5_000);
    const result = await counters.consume(
      [
        { key: 'rpm', amount: 1, limit: 10, windowMs: MINUTE },
        { key: 'tpm', amount: 20, limit: 100, windowMs: MINUTE },
      ],
      6_000,
    );
    expect(result).toMatchObject({ allowed: false, refused: 1, counts: [0, 90] });
    expect(await counters.read('rpm', MINUTE, 6_000)).toBe(0);
    expect(await counters.read('tpm', MINUTE, 6_000)).toBe(90);
  });

  it('takes a negative correction at the time the estimate was counted', async () => {
    const counters = fresh();
    await counters.consume([{ key: 'tpm', amount: 50, limit: 100, windowMs: MINUTE }], 10_000);
    await counters.add('tpm', -30, MINUTE, 10_000);
    expect(await counters.read('tpm', MINUTE, 20_000)).toBe(20);
    expect(await counters.read('tpm', MINUTE, 10_000 + MINUTE)).toBe(0);
  });

  it('is exact for simultaneous consumers', async () => {
    const counters = fresh();
    const results = await Promise.all(Array.from({ length: 25 }, () => counters.consume([{ key: 'burst', amount: 1, limit: 10, windowMs: MINUTE }], 42)));
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
  });

  it('clears by prefix and says a charge larger than the limit never fits', async () => {
    const counters = fresh();
    await counters.add('limits:0:a:rpm', 2, MINUTE, 1);
    await counters.add('limits:1:b:rpm', 2, MINUTE, 1);
    await counters.clear('limits:0:');
    expect(await counters.read('limits:0:a:rpm', MINUTE, 2)).toBe(0);
    expect(await counters.read('limits:1:b:rpm', MINUTE, 2)).toBe(2);
    expect(await counters.consume([{ key: 'x', amount: 11, limit: 10, windowMs: MINUTE }], 3)).toMatchObject({ allowed: false, retryAfterMs: 0 });
  });

  it('sums thousands of entries in one window and prunes them once it has passed', async () => {
    const counters = fresh();
    // More entries than Lua can unpack at once (the scripts read them in chunks).
    await Promise.all(Array.from({ length: 9000 }, (_, index) => counters.add('many', 1, MINUTE, 100_000 + index)));
    expect(await counters.read('many', MINUTE, 109_000)).toBe(9000);
    expect(await counters.consume([{ key: 'many', amount: 1, limit: 9000, windowMs: MINUTE }], 109_000)).toMatchObject({ allowed: false, counts: [9000], retryAfterMs: 51_000 });
    expect(await counters.consume([{ key: 'many', amount: 1, limit: 10, windowMs: MINUTE }], 100_000 + 2 * MINUTE)).toMatchObject({ allowed: true, counts: [1] });
  });

  it('counts entries later than now (reordered requests, another clock) and leaves out what a shorter window does not cover', async () => {
    const counters = fresh();
    await counters.add('later', 5, MINUTE, 10_000);
    expect(await counters.consume([{ key: 'later', amount: 1, limit: 10, windowMs: MINUTE }], 5_000)).toMatchObject({ allowed: true, counts: [6] });
    expect(await counters.consume([{ key: 'later', amount: 5, limit: 10, windowMs: MINUTE }], 4_000)).toMatchObject({ allowed: false, counts: [6] });
    expect(await counters.read('later', MINUTE, 10_000)).toBe(6);
    await counters.add('two-windows', 3, MINUTE, 1_000);
    expect(await counters.consume([{ key: 'two-windows', amount: 1, limit: 1, windowMs: 1_000 }], 2_500)).toMatchObject({ allowed: true, counts: [1] });
    expect(await counters.read('two-windows', MINUTE, 2_500)).toBe(4);
  });

  it('says when a large charge fits, reading back past a hundred entries', async () => {
    const counters = fresh();
    await Promise.all(Array.from({ length: 250 }, (_, index) => counters.add('paged', 1, MINUTE, 1_000 + index)));
    // 120 must leave the window: the 120th oldest, counted at 1,119, leaves it at 61,119.
    expect(await counters.consume([{ key: 'paged', amount: 120, limit: 250, windowMs: MINUTE }], 2_000)).toMatchObject({ allowed: false, counts: [250], retryAfterMs: 59_119 });
  });

  it('seeds a key once, until it is cleared', async () => {
    const counters = fresh();
    let reads = 0;
    const fromLog = (): number => {
      reads += 1;
      return 700;
    };
    await counters.seedOnce('limits:0:budget:day', 2 * 86_400_000, 1_000, fromLog);
    await counters.seedOnce('limits:0:budget:day', 2 * 86_400_000, 1_000, fromLog);
    expect(reads).toBe(1);
    await counters.add('limits:0:budget:day', 300, 2 * 86_400_000, 1_000);
    expect(await counters.read('limits:0:budget:day', 2 * 86_400_000, 5_000)).toBe(1000);
    await counters.clear('limits:0:');
    await counters.seedOnce('limits:0:budget:day', 2 * 86_400_000, 1_000, fromLog);
    expect(reads).toBe(2);
    expect(await counters.read('limits:0:budget:day', 2 * 86_400_000, 5_000)).toBe(700);
  });

  it('makes a caller that arrives while the seed is still being read wait for it, and forgets a seed that failed', async () => {
    const counters = fresh();
    let release!: (value: number) => void;
    const slowRead = new Promise<number>((resolve) => (release = resolve));
    const first = counters.seedOnce('limits:1:budget:day', 2 * 86_400_000, 1_000, () => slowRead);
    let secondDone = false;
    const second = counters.seedOnce('limits:1:budget:day', 2 * 86_400_000, 1_000, async () => 900).then(() => (secondDone = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release(900);
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
    // Once either caller is through, the period's spend is there (and counted once).
    expect(await counters.read('limits:1:budget:day', 2 * 86_400_000, 5_000)).toBe(900);

    await expect(counters.seedOnce('limits:2:budget:day', 2 * 86_400_000, 1_000, () => Promise.reject(new Error('log unreadable')))).rejects.toThrow('log unreadable');
    await counters.seedOnce('limits:2:budget:day', 2 * 86_400_000, 1_000, () => 400);
    expect(await counters.read('limits:2:budget:day', 2 * 86_400_000, 5_000)).toBe(400);
  });

  it('keeps nano-dollar sums exact beyond 32-bit integers and clears keys holding glob characters only by their prefix', async () => {
    const counters = fresh();
    await counters.add('limits:0:{"key":"a*"}:month', 123_456_789_012_345, 32 * 86_400_000, 0);
    await counters.add('limits:0:{"key":"a*"}:month', 1, 32 * 86_400_000, 0);
    await counters.add('limits:0:{"key":"ab"}:month', 5, 32 * 86_400_000, 0);
    expect(await counters.read('limits:0:{"key":"a*"}:month', 32 * 86_400_000, 10)).toBe(123_456_789_012_346);
    await counters.clear('limits:0:{"key":"a*"}');
    expect(await counters.read('limits:0:{"key":"a*"}:month', 32 * 86_400_000, 10)).toBe(0);
    expect(await counters.read('limits:0:{"key":"ab"}:month', 32 * 86_400_000, 10)).toBe(5);
  });
});
