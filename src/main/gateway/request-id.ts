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

/**
 * The id's 36 characters, written in place and read out as one flat string: the time's 13
 * characters (`tttttttt-tttt-`) are rewritten only when the millisecond changes. Formatting
 * with toString(16), padStart, a hex Buffer slice and a template made a rope of a dozen
 * pieces per id (~1 µs of the event loop per request, and the rope flattened again when the
 * id is first hashed or serialised).
 */
const text = Buffer.from('00000000-0000-7000-8000-000000000000', 'latin1');
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** `value`'s low `digits` × 4 bits as lower-case hex digits at `at`. */
function writeHex(value: number, at: number, digits: number): void {
  for (let index = at + digits - 1; index >= at; index--) {
    text[index] = HEX_DIGITS[value & 0xf]!;
    value >>>= 4;
  }
}

/** The time field: 48 bits of milliseconds as 8 + 4 hex digits (the high 32 bits do not fit a 32-bit shift). */
function writeTime(ms: number): void {
  writeHex(Math.floor(ms / 0x10000) >>> 0, 0, 8);
  writeHex(ms & 0xffff, 9, 4);
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
    writeTime(lastMs);
  } else if (sequence < 0xfff) {
    sequence += 1;
  } else {
    // 4,096 ids in one millisecond (or a clock that went back): borrow the next millisecond.
    lastMs += 1;
    sequence = 0;
    writeTime(lastMs);
  }
  writeHex(0x7000 | sequence, 14, 4);
  writeHex(0x8000 | ((pool[offset + 1]! & 0x3f) << 8) | pool[offset + 2]!, 19, 4);
  for (let index = 0; index < 6; index++) {
    const byte = pool[offset + 3 + index]!;
    text[24 + 2 * index] = HEX_DIGITS[byte >> 4]!;
    text[25 + 2 * index] = HEX_DIGITS[byte & 0xf]!;
  }
  return text.toString('latin1', 0, 36);
}
