/**
 * The request log's two journal files, shared by the SQLite and PostgreSQL logs: each
 * finished request is appended (one JSON line, written synchronously, before it is
 * acknowledged to anyone) to the current file; once the store has committed everything in
 * the older file, that file is emptied and becomes the next one written. A record the
 * store could not take pins the journals: nothing is emptied until the next start replays
 * them. Sequences number the records handed over, so waiters can be told when their
 * records are committed.
 */
import { closeSync, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBodyTexts } from '../core/record.js';
import { recordWithoutBodies, unstorableReason, type StoredRequestRecord } from './stored-record.js';

/** Journal files of a data folder; the log alternates between the two. */
export const JOURNAL_FILE_NAMES = ['request-journal-a.jsonl', 'request-journal-b.jsonl'] as const;

/**
 * The record's journal line and whether it holds every field but the bodies (`whole`);
 * when the record would not serialise (a raw usage nested too deeply), the line is the
 * record reduced by recordWithoutBodies and `whole` is false. Never throws.
 */
export function journalLine(record: StoredRequestRecord): { line: string; whole: boolean } {
  const { json, whole } = journalJson(record);
  return { line: json + '\n', whole };
}

/**
 * journalLine without its newline: the JSON text as JSON.stringify made it, one flat string.
 * The request log hands this to the writer thread and adds the newline only to the text it
 * writes: a line with its newline appended is a second string (a rope of the two) that each
 * consumer (the journal write, the hand-off's serialiser) would copy flat again.
 */
export function journalJson(record: StoredRequestRecord): { json: string; whole: boolean } {
  try {
    return { json: JSON.stringify({ ...record, requestBody: null, upstreamRequestBody: null, responseBody: null }), whole: true };
  } catch (error) {
    return { json: JSON.stringify(recordWithoutBodies(record, unstorableReason(error))), whole: false };
  }
}

/** The record without bodies: what must survive a kill. Never throws (a raw usage too deep to serialise is dropped). */
export function journalEntry(record: StoredRequestRecord): string {
  return journalLine(record).line;
}

/** Journal lines of a data folder, one record per request id (the first line wins). */
export function readJournals(dataDirectory: string): StoredRequestRecord[] {
  const records: StoredRequestRecord[] = [];
  const seen = new Set<string>();
  for (const chunk of journalRecordChunks(dataDirectory, 1000)) {
    for (const record of chunk) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      records.push(record);
    }
  }
  return records;
}

/** Bytes of each journal file of a data folder now (0 for one that is not there), in JOURNAL_FILE_NAMES' order. */
export function journalSizes(dataDirectory: string): number[] {
  return JOURNAL_FILE_NAMES.map((name) => {
    try {
      return statSync(join(dataDirectory, name)).size;
    } catch {
      return 0;
    }
  });
}

const READ_BYTES = 1024 * 1024;

/**
 * The journal records of a data folder, `size` at a time, each file read a megabyte at a time:
 * a journal a long PostgreSQL outage grew is never held whole (neither its text nor its
 * records). `upTo` bounds the bytes read of each file (journalSizes taken earlier: what was
 * written since is left alone). A torn line (the moment of a kill) is skipped. An id may come
 * twice (in both files); a reader that cares keeps the first.
 */
export function* journalRecordChunks(dataDirectory: string, size: number, upTo?: readonly number[]): Generator<StoredRequestRecord[]> {
  let chunk: StoredRequestRecord[] = [];
  for (const [index, name] of JOURNAL_FILE_NAMES.entries()) {
    let descriptor: number;
    try {
      descriptor = openSync(join(dataDirectory, name), 'r');
    } catch {
      continue;
    }
    try {
      const limit = upTo?.[index] ?? Infinity;
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      let carried: Buffer | null = null;
      for (let position = 0; position < limit; ) {
        const read = readSync(descriptor, buffer, 0, Math.min(READ_BYTES, limit - position), position);
        if (read === 0) break;
        position += read;
        const bytes: Buffer = carried ? Buffer.concat([carried, buffer.subarray(0, read)]) : buffer.subarray(0, read);
        let start = 0;
        for (let end = bytes.indexOf(10, start); end !== -1; end = bytes.indexOf(10, start)) {
          const record = parsedLine(bytes.toString('utf8', start, end));
          start = end + 1;
          if (!record) continue;
          chunk.push(record);
          if (chunk.length >= size) {
            yield chunk;
            chunk = [];
          }
        }
        // The part of a line the next read completes (a copy: the buffer is read into again).
        carried = start < bytes.length ? Buffer.from(bytes.subarray(start)) : null;
      }
      // A last line without its newline: torn by a kill, unless it parses whole.
      const record = carried ? parsedLine(carried.toString('utf8')) : null;
      if (record) chunk.push(record);
    } finally {
      closeSync(descriptor);
    }
  }
  if (chunk.length > 0) yield chunk;
}

function parsedLine(line: string): StoredRequestRecord | null {
  if (line.length === 0) return null;
  try {
    const record = JSON.parse(line) as StoredRequestRecord;
    return typeof record?.id === 'string' ? record : null;
  } catch {
    // A torn last line from the moment of the kill: its response never finished either.
    return null;
  }
}

/**
 * Writes all of `text`: a regular file takes a whole write unless the disk fills or a signal
 * interrupts it, so the rest of a short write is written again (and a full disk then throws).
 */
export function writeAll(descriptor: number, text: string, write: typeof writeSync = writeSync): void {
  const written = write(descriptor, text);
  const length = Buffer.byteLength(text);
  if (written === length) return;
  const bytes = Buffer.from(text);
  for (let offset = written; offset < length; ) offset += write(descriptor, bytes, offset, length - offset);
}

/**
 * What a log may hold in memory for its store, handed over and not yet committed, before its
 * answers wait (the SQLite log's writer thread, request-log.ts; PostgreSQL,
 * postgres/request-log.ts): records, and characters of their journal lines and body texts.
 * 4,096 of the bench's records are ~8 MB; 32 M characters cover a few hundred agent turns.
 */
export const BACKLOG_LIMIT = { records: 4096, characters: 32 * 1024 * 1024 };
/** The longest an answer waits for a store that is behind. An escape, not a pace: a store stuck (a lock held, a disk gone) slows answers, it does not stop them. */
export const MAX_ANSWER_WAIT_MS = 1000;

/** What a record counts toward BACKLOG_LIMIT's characters: its journal line and the body texts it carries (a text shared by two bodies once). */
export function backlogCharacters(line: string, texts: RecordBodyTexts | undefined): number {
  if (!texts) return line.length;
  const { requestBody, upstreamRequestBody, responseBody } = texts;
  return line.length + (requestBody?.length ?? 0) + (upstreamRequestBody === requestBody ? 0 : (upstreamRequestBody?.length ?? 0)) + (responseBody?.length ?? 0);
}

/** Sends answers a log held, in order; one that throws is reported and the rest still go. */
export function answerAll(answers: ReadonlyArray<() => void>, onError?: (error: Error) => void): void {
  for (const answer of answers) {
    try {
      answer();
    } catch (error) {
      onError?.(error as Error);
    }
  }
}

/**
 * Answers a log holds while its store is behind (past BACKLOG_LIMIT), in order: they go at
 * `release()`, or when the first of them has waited `maxWaitMs` (after `onTimeout`, which may
 * make room: the PostgreSQL log lets records go to the journal).
 */
export class WaitingAnswers {
  private answers: Array<() => void> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly maxWaitMs: number,
    private readonly onError?: (error: Error) => void,
    private readonly onTimeout?: () => void,
  ) {}

  get length(): number {
    return this.answers.length;
  }

  hold(answers: ReadonlyArray<() => void>): void {
    for (const answer of answers) this.answers.push(answer);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onTimeout?.();
      this.release();
    }, this.maxWaitMs);
    this.timer.unref();
  }

  release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const answers = this.answers;
    this.answers = [];
    answerAll(answers, this.onError);
  }
}

export class JournalPair {
  /** The last sequence handed over, and the last committed by the store. */
  sequence = 0;
  committedSequence = 0;
  /** Set when a record lives only in the journal: the files are kept whole until the next start. */
  pinned = false;
  private current = 0;
  /** The last write failed, perhaps part-way: the next one begins with a newline. */
  private torn = false;
  private waiters: Array<{ sequence: number; resolve: () => void }> = [];

  private constructor(
    private readonly journals: Array<{ descriptor: number; lastSequence: number }>,
    private readonly write: typeof writeSync,
  ) {}

  /** Opens (and empties: the caller has replayed them) both journal files. `write`: tests simulate a failing disk. */
  static open(dataDirectory: string, write: typeof writeSync = writeSync): JournalPair {
    return new JournalPair(
      JOURNAL_FILE_NAMES.map((name) => {
        const descriptor = openSync(join(dataDirectory, name), 'a', 0o600);
        ftruncateSync(descriptor, 0);
        return { descriptor, lastSequence: 0 };
      }),
      write,
    );
  }

  /**
   * Journals `count` finished requests given their lines, one after the other in `text`, with
   * one write; returns the last one's sequence (theirs follow one another). A failed write is
   * reported, the records still counted.
   */
  appendLines(text: string, count: number, onError?: (error: Error) => void): number {
    this.sequence += count;
    const journal = this.journals[this.current]!;
    try {
      // After a failed write, whatever part of it reached the file ends here: the next line stays whole.
      writeAll(journal.descriptor, this.torn ? `\n${text}` : text, this.write);
      this.torn = false;
      journal.lastSequence = this.sequence;
    } catch (error) {
      this.torn = true;
      onError?.(error as Error);
    }
    return this.sequence;
  }

  /** The store has committed every record up to `last`: the older journal, all committed, is emptied and written next. */
  committedUpTo(last: number): void {
    this.committedSequence = Math.max(this.committedSequence, last);
    const older = this.journals[1 - this.current]!;
    if (!this.pinned && older.lastSequence <= this.committedSequence) {
      ftruncateSync(older.descriptor, 0);
      older.lastSequence = 0;
      if (this.journals[this.current]!.lastSequence > 0) this.current = 1 - this.current;
    }
    const ready = this.waiters.filter((waiter) => waiter.sequence <= this.committedSequence);
    this.waiters = this.waiters.filter((waiter) => waiter.sequence > this.committedSequence);
    for (const waiter of ready) waiter.resolve();
  }

  /** Resolves once everything handed over so far is committed. */
  allCommitted(): Promise<void> {
    if (this.committedSequence >= this.sequence) return Promise.resolve();
    const target = this.sequence;
    return new Promise((resolve) => this.waiters.push({ sequence: target, resolve }));
  }

  get pending(): number {
    return this.sequence - this.committedSequence;
  }

  /** Closes both files, emptied unless `keep` (or pinned: what they hold is replayed at the next start); releases every waiter. */
  close(keep = false): void {
    for (const journal of this.journals) {
      if (!this.pinned && !keep) ftruncateSync(journal.descriptor, 0);
      closeSync(journal.descriptor);
    }
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }
}
