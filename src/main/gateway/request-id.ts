/**
 * Request ids: UUIDv7 (RFC 9562), the time in milliseconds first, then a 12-bit sequence
 * within the millisecond, then 62 random bits. Time-ordered ids land at the end of the
 * request log's unique index instead of at a random page of it: with random (v4) ids each
 * insert touched a random leaf page, which cost the writer thread 35–49 µs per row and grew
 * with the log (bench/request-writer.ts), against ~24 µs flat for these.
 */
import { randomFillSync } from 'node:crypto';

/** One byte for the sequence's start, two for the variant's 14 random bits, six for the last 48. */
const RANDOM_BYTES_PER_ID = 9;
const pool = Buffer.alloc(RANDOM_BYTES_PER_ID * 512);
let poolOffset = pool.length;
let lastMs = 0;
let sequence = 0;

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

/** A new time-ordered request id; ids made by one process sort in the order they were made. */
export function newRequestId(now: number = Date.now()): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += RANDOM_BYTES_PER_ID;
  if (now > lastMs) {
    lastMs = now;
    // A random start within the lower half leaves room for the millisecond's later ids.
    sequence = pool[offset]! & 0x7ff;
  } else if (sequence < 0xfff) {
    sequence += 1;
  } else {
    // 4,096 ids in one millisecond (or a clock that went back): borrow the next millisecond.
    lastMs += 1;
    sequence = 0;
  }
  const time = hex(lastMs, 12);
  const variant = 0x8000 | ((pool[offset + 1]! & 0x3f) << 8) | pool[offset + 2]!;
  return `${time.slice(0, 8)}-${time.slice(8)}-${hex(0x7000 | sequence, 4)}-${hex(variant, 4)}-${pool.toString('hex', offset + 3, offset + 9)}`;
}
