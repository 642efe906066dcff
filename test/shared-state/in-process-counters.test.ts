/** The in-process SharedCounters: sliding windows, all-or-nothing consume, corrections, retry times. */
import { describe, expect, it } from 'vitest';
import { InProcessCounters } from '../../src/main/shared-state/in-process-counters.js';

const MINUTE = 60_000;

describe('InProcessCounters', () => {
  it('lets exactly the limit through in one window and frees it as the window slides', async () => {
    const counters = new InProcessCounters();
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
    const counters = new InProcessCounters();
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
    const counters = new InProcessCounters();
    await counters.consume([{ key: 'tpm', amount: 50, limit: 100, windowMs: MINUTE }], 10_000);
    await counters.add('tpm', -30, MINUTE, 10_000);
    expect(await counters.read('tpm', MINUTE, 20_000)).toBe(20);
    expect(await counters.read('tpm', MINUTE, 10_000 + MINUTE)).toBe(0);
  });

  it('is exact for simultaneous consumers', async () => {
    const counters = new InProcessCounters();
    const results = await Promise.all(Array.from({ length: 25 }, () => counters.consume([{ key: 'burst', amount: 1, limit: 10, windowMs: MINUTE }], 42)));
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
  });

  it('clears by prefix and says a charge larger than the limit never fits', async () => {
    const counters = new InProcessCounters();
    await counters.add('limits:0:a:rpm', 2, MINUTE, 1);
    await counters.add('limits:1:b:rpm', 2, MINUTE, 1);
    await counters.clear('limits:0:');
    expect(await counters.read('limits:0:a:rpm', MINUTE, 2)).toBe(0);
    expect(await counters.read('limits:1:b:rpm', MINUTE, 2)).toBe(2);
    expect(await counters.consume([{ key: 'x', amount: 11, limit: 10, windowMs: MINUTE }], 3)).toMatchObject({ allowed: false, retryAfterMs: 0 });
  });
});
