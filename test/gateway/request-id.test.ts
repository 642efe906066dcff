import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/main/gateway/request-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('are UUIDv7 with the time in milliseconds first', () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const id = newRequestId(now);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sort in the order they were made, within a millisecond, past 4,096 of them and when the clock goes back', () => {
    const start = Date.UTC(2030, 0, 1);
    const ids: string[] = [];
    for (let index = 0; index < 10_000; index++) ids.push(newRequestId(start));
    ids.push(newRequestId(start - 5_000));
    ids.push(newRequestId(start + 10));
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('count the sequence up by one within a millisecond, and write the time of any millisecond up to 2^48 in its 12 digits', () => {
    for (const now of [Date.UTC(2031, 5, 1), 2 ** 47 + 0xabcdef, 2 ** 48 - 2]) {
      const ids = [newRequestId(now), newRequestId(now), newRequestId(now)];
      for (const id of ids) {
        expect(id).toMatch(UUID_V7);
        expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
        const variant = parseInt(id.slice(19, 23), 16);
        expect(variant >= 0x8000 && variant <= 0xbfff).toBe(true);
      }
      const sequences = ids.map((id) => parseInt(id.slice(15, 18), 16));
      expect(sequences[0]).toBeLessThanOrEqual(0x7ff);
      expect(sequences).toEqual([sequences[0], sequences[0]! + 1, sequences[0]! + 2]);
      // Each id is a string of its own, not a view of a buffer the next id rewrites.
      expect(new Set(ids).size).toBe(3);
    }
  });
});
