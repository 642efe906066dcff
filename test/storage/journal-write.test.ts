/**
 * The journal's write: a short write (a full disk, a signal) is not taken as the whole line —
 * the rest is written again, so a record the gateway answered is whole in the journal.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeAll } from '../../src/main/storage/journal-pair.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function openTemporary(): { descriptor: number; path: string } {
  const folder = mkdtempSync(join(tmpdir(), 'switchyard-journal-write-'));
  folders.push(folder);
  const path = join(folder, 'journal');
  return { descriptor: openSync(path, 'a'), path };
}

describe('writeAll', () => {
  it('writes the rest of a short write, multi-byte characters included', () => {
    const { descriptor, path } = openTemporary();
    const text = `{"a":"héllo — 世界 🙂"}\n`.repeat(20);
    const calls: number[] = [];
    // At most 7 bytes per call: every write is short, and most end inside a character.
    const shortWrite = ((fd: number, data: string | Uint8Array, offset?: number, length?: number) => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const start = typeof data === 'string' ? 0 : (offset ?? 0);
      const end = typeof data === 'string' ? bytes.length : start + (length ?? bytes.length - start);
      const count = Math.min(7, end - start);
      calls.push(count);
      return writeSync(fd, bytes, start, count);
    }) as typeof writeSync;
    writeAll(descriptor, text, shortWrite);
    closeSync(descriptor);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(calls.length).toBe(Math.ceil(Buffer.byteLength(text) / 7));
  });

  it('writes a whole write once', () => {
    const { descriptor, path } = openTemporary();
    writeAll(descriptor, 'one line\n');
    closeSync(descriptor);
    expect(readFileSync(path, 'utf8')).toBe('one line\n');
  });

  it('throws when the disk refuses the rest', () => {
    const { descriptor } = openTemporary();
    let call = 0;
    const fullDisk = ((fd: number, data: string | Uint8Array) => {
      call += 1;
      if (call === 1) return writeSync(fd, Buffer.from(typeof data === 'string' ? data : Buffer.from(data)).subarray(0, 3));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as typeof writeSync;
    expect(() => writeAll(descriptor, 'a longer line\n', fullDisk)).toThrow(/ENOSPC/);
    closeSync(descriptor);
  });
});
