/**
 * Reading a journal a chunk at a time (journalRecordChunks): what the PostgreSQL log writes
 * from after an outage, a journal that may have grown past what fits in memory at once.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JOURNAL_FILE_NAMES, journalEntry, journalRecordChunks, journalSizes, readJournals } from '../../src/main/storage/journal-pair.js';
import { makeRecord } from './request-record-fixture.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'switchyard-journal-chunks-'));
  folders.push(path);
  return path;
}

describe('journalRecordChunks', () => {
  it('reads lines of several megabytes of multi-byte text across read boundaries, in order, `size` at a time; a torn last line is skipped', () => {
    const directory = folder();
    // ~70 KB lines of two- and four-byte characters: read boundaries (each megabyte) fall inside lines and inside characters.
    const records = Array.from({ length: 60 }, (_, index) => makeRecord({ id: `chunk-${index}`, errorMessage: `é😀${index}`.repeat(12_000) }));
    for (const [index, record] of records.entries()) appendFileSync(join(directory, JOURNAL_FILE_NAMES[index < 40 ? 0 : 1]), journalEntry(record));
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[1]), journalEntry(makeRecord({ id: 'torn' })).slice(0, 200));
    expect(journalSizes(directory).reduce((sum, size) => sum + size, 0)).toBeGreaterThan(3 * 1024 * 1024);

    const chunks = [...journalRecordChunks(directory, 7)];
    expect(chunks.map((chunk) => chunk.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 4]);
    const read = chunks.flat();
    expect(read.map((record) => record.id)).toEqual(records.map((record) => record.id));
    expect(read.map((record) => record.errorMessage)).toEqual(records.map((record) => record.errorMessage));
    expect(read[0]!.requestBody).toBeNull();
  });

  it('reads each file only up to the sizes given: what was written after them is left alone', () => {
    const directory = folder();
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[0]), journalEntry(makeRecord({ id: 'before-a' })));
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[1]), journalEntry(makeRecord({ id: 'before-b' })));
    const sizes = journalSizes(directory);
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[0]), journalEntry(makeRecord({ id: 'after-a' })));
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[1]), journalEntry(makeRecord({ id: 'after-b' })));
    expect([...journalRecordChunks(directory, 100, sizes)].flat().map((record) => record.id)).toEqual(['before-a', 'before-b']);
    expect([...journalRecordChunks(directory, 100)].flat().map((record) => record.id)).toEqual(['before-a', 'after-a', 'before-b', 'after-b']);
  });

  it('a folder without journals reads as none; readJournals keeps the first line of an id found twice', () => {
    const directory = folder();
    expect([...journalRecordChunks(directory, 10)]).toEqual([]);
    expect(journalSizes(directory)).toEqual([0, 0]);
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[0]), journalEntry(makeRecord({ id: 'twice', httpStatus: 200 })));
    appendFileSync(join(directory, JOURNAL_FILE_NAMES[1]), journalEntry(makeRecord({ id: 'twice', httpStatus: 500 })));
    expect(readJournals(directory).map((record) => [record.id, record.httpStatus])).toEqual([['twice', 200]]);
  });
});
