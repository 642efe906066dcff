/**
 * The request log on PostgreSQL, as the gateway sees it: the same observer and the same
 * durability as the SQLite log (../request-log.ts), with PostgreSQL behind it.
 *
 * "Answered means logged", even under kill -9: before a response's last bytes go out the
 * record's facts (without bodies) are appended to this instance's journal in its data
 * folder with one synchronous write; batches (every `flushIntervalMs`, default 50 ms, or
 * 256 records) are then written to PostgreSQL in one transaction each. The two journal
 * files alternate as in SQLite's log: once everything in the older one is committed it is
 * emptied. On open, journal lines whose request is not in PostgreSQL are written first
 * (without bodies, which were only in memory). Each instance has its own data folder and
 * journal; the database is shared.
 *
 * PostgreSQL unreachable: batches are kept (and stay journalled) and retried every
 * second; requests keep being answered. Records PostgreSQL refuses even one by one
 * (hostile content) are reported and their journal lines kept for the next start.
 *
 * Memory stays bounded (BACKLOG_LIMIT, as for SQLite's writer thread). Past the limits, with
 * PostgreSQL reachable but behind, answers wait for it to catch up (at most
 * MAX_ANSWER_WAIT_MS each). With PostgreSQL unreachable, or still behind when an answer's
 * wait ran out, the oldest records held are let go from memory: their journal lines stay,
 * and once PostgreSQL answers again they are written from the journal (without bodies, as
 * after a kill) before the records still held.
 */
import type { writeSync } from 'node:fs';
import type { RecordBodyTexts, RequestObserver } from '../../core/record.js';
import { createPriceBook, type PriceBook, type PriceOverrides } from '../../pricing/catalog.js';
import { BACKLOG_LIMIT, JournalPair, MAX_ANSWER_WAIT_MS, WaitingAnswers, backlogCharacters, journalLine, journalRecordChunks, journalSizes } from '../journal-pair.js';
import type { RequestLogSink } from '../store.js';
import type { StoredRequestRecord } from '../stored-record.js';
import type { PostgresPool } from './connection.js';
import { isConnectionError, loggedRequestIds, writeRequestsToPostgres } from './request-writer.js';

export interface PostgresRequestLogOptions {
  priceOverrides?: PriceOverrides;
  storeBodies?: boolean;
  /** How long records gather before a transaction (ms, default 50). */
  flushIntervalMs?: number;
  /** Records per transaction (default 256). */
  maxBatchSize?: number;
  /** Wait before retrying when PostgreSQL cannot be reached (ms, default 1000). */
  retryDelayMs?: number;
  /** What is held in memory for PostgreSQL before answers wait or records are let go (default BACKLOG_LIMIT). Tests set small ones. */
  backlogLimit?: { records: number; characters: number };
  /** The longest an answer waits for a PostgreSQL that is behind, in ms (default MAX_ANSWER_WAIT_MS). */
  maxAnswerWaitMs?: number;
  /** The journal's write (default fs.writeSync): tests simulate a failing disk. */
  journalWrite?: typeof writeSync;
  onError?: (error: Error) => void;
}

/** The PostgreSQL request log: the same sink as SQLite's; `committed()` also resolves for records reported as unwritable. */
export type PostgresRequestLog = RequestLogSink;

/** Journal records at a time: one query for the ids already logged, one write for the rest. */
const REPLAY_CHUNK = 1000;

/**
 * Writes the journal lines whose request is not in PostgreSQL (without bodies), leaving out
 * the ids in `skip`; reads each file up to `upTo` bytes (journalSizes) when given. Leaves the
 * files alone. Returns how many were written; records PostgreSQL refuses are in `failed`.
 */
async function writeJournalled(dataDirectory: string, pool: PostgresPool, priceBook: PriceBook, skip: ReadonlySet<string>, upTo?: readonly number[]): Promise<{ written: number; failed: Array<{ record: StoredRequestRecord; error: Error }> }> {
  let written = 0;
  const failed: Array<{ record: StoredRequestRecord; error: Error }> = [];
  for (const chunk of journalRecordChunks(dataDirectory, REPLAY_CHUNK, upTo)) {
    const candidates = skip.size === 0 ? chunk : chunk.filter((record) => !skip.has(record.id));
    const logged = await loggedRequestIds(pool, candidates.map((record) => record.id));
    const seen = new Set<string>();
    const missing = candidates.filter((record) => !logged.has(record.id) && !seen.has(record.id) && seen.add(record.id));
    const result = await writeRequestsToPostgres(pool, missing, priceBook, false);
    written += result.written;
    failed.push(...result.failed);
  }
  return { written, failed };
}

/** Writes the journal lines whose request is not in PostgreSQL (without bodies); leaves the files alone. Returns how many. */
export async function replayJournalsIntoPostgres(dataDirectory: string, pool: PostgresPool, priceBook: PriceBook): Promise<number> {
  const { written, failed } = await writeJournalled(dataDirectory, pool, priceBook, new Set());
  if (failed.length > 0) throw new Error(`${failed.length} journalled request(s) could not be written: ${failed[0]!.error.message}`);
  return written;
}

/** A record held for PostgreSQL: its journal sequence, the characters it holds (journal line and body texts), and whether its line is in the journal. */
interface Held {
  record: StoredRequestRecord;
  sequence: number;
  characters: number;
  journalled: boolean;
}

function charactersOf(entries: readonly Held[]): number {
  let characters = 0;
  for (const entry of entries) characters += entry.characters;
  return characters;
}

export async function openPostgresRequestLog(dataDirectory: string, pool: PostgresPool, options: PostgresRequestLogOptions = {}): Promise<PostgresRequestLog> {
  let priceBook = createPriceBook(options.priceOverrides ?? {});
  let storeBodies = options.storeBodies ?? true;
  const flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 50);
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? 256);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const backlogLimit = options.backlogLimit ?? BACKLOG_LIMIT;
  const replayed = await replayJournalsIntoPostgres(dataDirectory, pool, priceBook);
  const journals = JournalPair.open(dataDirectory, options.journalWrite);
  // Records held for PostgreSQL in journal order: `queue`, and the batch being written (taken out
  // of it, put back in front should the connection fail); what they hold in all.
  let queue: Held[] = [];
  let writingCount = 0;
  let heldCharacters = 0;
  // Records let go from memory (their lines stay in the journal) and not yet written from it.
  let letGoCount = 0;
  let reportedLetGo = false;
  // Answers waiting for PostgreSQL to catch up, in order. Still behind after the longest wait:
  // what is past the limits is let go, and the answers go.
  const waiting = new WaitingAnswers(options.maxAnswerWaitMs ?? MAX_ANSWER_WAIT_MS, options.onError, () => letGo());
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let closed = false;
  let reportedOffline = false;

  const overLimits = (): boolean => queue.length + writingCount > backlogLimit.records || heldCharacters > backlogLimit.characters;

  const schedule = (delay: number): void => {
    if (writing) return;
    if (timer) {
      // A retry of an unreachable PostgreSQL keeps its delay: records arriving do not hasten it.
      if (delay > 0 || reportedOffline) return;
      clearTimeout(timer);
      timer = null;
    }
    timer = setTimeout(() => {
      timer = null;
      void drain();
    }, delay);
    timer.unref();
  };

  /** The journal emptied up to `sequence`; a disk that fails to (truncating) keeps the files whole and is reported. */
  function commitUpTo(sequence: number): void {
    try {
      journals.committedUpTo(sequence);
    } catch (error) {
      journals.pinned = true;
      options.onError?.(error as Error);
      journals.committedUpTo(sequence);
    }
  }

  /**
   * Lets the oldest records held go from memory while over the limits; the journal keeps them.
   * A record whose journal line could not be written (a full disk) is kept: memory is its only copy.
   */
  function letGo(): void {
    const before = letGoCount;
    while (overLimits()) {
      const index = queue.findIndex((entry) => entry.journalled);
      if (index === -1) break;
      heldCharacters -= queue.splice(index, 1)[0]!.characters;
      letGoCount += 1;
    }
    if (letGoCount > before && !reportedLetGo) {
      reportedLetGo = true;
      const why = reportedOffline ? 'PostgreSQL is unreachable' : 'PostgreSQL is behind';
      options.onError?.(new Error(`${why}: past ${backlogLimit.records} requests (or ${Math.round(backlogLimit.characters / 1048576)} M characters) held in memory, the oldest are kept in the journal only and written from it, without bodies, once PostgreSQL catches up`));
    }
  }

  /** The first success after PostgreSQL was unreachable says so. */
  function reachable(): void {
    if (reportedOffline) options.onError?.(new Error('PostgreSQL is reachable again; the requests kept meanwhile are written'));
    reportedOffline = false;
  }

  /** The records let go, written from the journal: those not in PostgreSQL and not still held. Throws only connection errors. */
  async function writeLetGo(): Promise<void> {
    const upTo = journalSizes(dataDirectory);
    const lastJournalled = journals.sequence;
    const firstHeld = queue[0]?.sequence ?? lastJournalled + 1;
    const held = new Set(queue.map((entry) => entry.record.id));
    const count = letGoCount;
    letGoCount = 0;
    try {
      const result = await writeJournalled(dataDirectory, pool, priceBook, held, upTo);
      reachable();
      if (result.failed.length > 0) {
        journals.pinned = true;
        for (const failure of result.failed) options.onError?.(new Error(`request ${failure.record.id} not logged (${failure.error.message}); it stays in the journal`));
      }
      options.onError?.(new Error(`${result.written} request(s) kept in the journal only were written from it, without bodies`));
    } catch (error) {
      if (isConnectionError(error)) {
        letGoCount += count;
        throw error;
      }
      // Not the connection: the journal keeps them for the next start (it is emptied no more).
      journals.pinned = true;
      options.onError?.(new Error(`${count} request(s) kept in the journal only could not be written (${(error as Error).message}); they stay in the journal for the next start`));
    }
    reportedLetGo = false;
    // Everything journalled before the first record still held is in PostgreSQL now (or reported).
    if (letGoCount === 0) commitUpTo(Math.min(lastJournalled, firstHeld - 1));
  }

  /** A batch from the queue to PostgreSQL. Throws only connection errors, the batch then held again, in front. */
  async function writeBatch(batch: Held[]): Promise<void> {
    writingCount = batch.length;
    try {
      const result = await writeRequestsToPostgres(pool, batch.map((entry) => entry.record), priceBook, storeBodies);
      reachable();
      if (result.failed.length > 0) {
        journals.pinned = true;
        for (const failure of result.failed) options.onError?.(new Error(`request ${failure.record.id} not logged (${failure.error.message}); it stays in the journal`));
      }
    } catch (error) {
      if (isConnectionError(error)) {
        queue = batch.concat(queue);
        throw error;
      }
      // Not the connection and not one record: keep the records journalled, drop them here.
      journals.pinned = true;
      options.onError?.(new Error(`${batch.length} request(s) not logged (${(error as Error).message}); they stay in the journal`));
    } finally {
      writingCount = 0;
    }
    heldCharacters -= charactersOf(batch);
    // Records let go meanwhile are written first: the journal is not emptied past them.
    if (letGoCount === 0) commitUpTo(batch[batch.length - 1]!.sequence);
  }

  async function drain(): Promise<void> {
    if (writing) return writing;
    writing = (async () => {
      for (;;) {
        try {
          if (letGoCount > 0) await writeLetGo();
          else if (queue.length > 0) await writeBatch(queue.splice(0, maxBatchSize));
          else return;
        } catch (error) {
          // The connection (the only error either throws).
          if (!reportedOffline) options.onError?.(new Error(`PostgreSQL unreachable (${(error as Error).message}); requests are kept in the journal and retried`));
          reportedOffline = true;
          // Nothing is gained by holding answers for a database that is gone: memory is bounded by letting go.
          letGo();
          waiting.release();
          if (closed) return;
          writing = null;
          schedule(retryDelayMs);
          return;
        }
        if (waiting.length > 0 && !overLimits()) waiting.release();
      }
    })();
    const running = writing;
    try {
      await running;
    } finally {
      if (writing === running) writing = null;
      // More to write, unless a retry is already due (PostgreSQL unreachable: not before retryDelayMs).
      if ((queue.length > 0 || letGoCount > 0) && !closed && !timer) schedule(0);
    }
  }

  /** Journals the record and holds it for PostgreSQL; lets the oldest go while PostgreSQL is unreachable and the limits are passed. */
  function take(record: StoredRequestRecord, texts: RecordBodyTexts | undefined): void {
    const { line } = journalLine(record);
    let journalled = true;
    const sequence = journals.appendLines(line, 1, (error) => {
      journalled = false;
      options.onError?.(error);
    });
    const characters = backlogCharacters(line, texts);
    queue.push({ record, sequence, characters, journalled });
    heldCharacters += characters;
    if (reportedOffline) letGo();
    // A Responses answer is committed at once: its next turn may reach another instance.
    schedule(queue.length >= maxBatchSize || record.responseId ? 0 : flushIntervalMs);
  }

  const observer: RequestObserver = {
    requestFinished(record, texts) {
      if (closed) return;
      take(record, texts);
    },
    // The answer waits only while PostgreSQL is reachable and behind past the limits (and behind the answers already waiting).
    requestFinishedBeforeAnswer(record, answer, texts) {
      if (closed) {
        answer();
        return;
      }
      take(record, texts);
      if (waiting.length === 0 && (reportedOffline || !overLimits())) {
        answer();
        return;
      }
      waiting.hold([answer]);
    },
  };

  return {
    observer,
    replayed,
    setPriceOverrides(overrides) {
      priceBook = createPriceBook(overrides);
    },
    setStoreBodies(value) {
      storeBodies = value;
    },
    committed() {
      if (journals.pending === 0) return Promise.resolve();
      const promise = journals.allCommitted();
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      void drain();
      return promise;
    },
    get pendingCount() {
      return journals.pending;
    },
    async close() {
      if (closed) return;
      // Closed first: a last attempt that finds PostgreSQL gone schedules no retry.
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      waiting.release();
      await drain();
      // Whatever is left (PostgreSQL unreachable) stays journalled for the next start.
      journals.close(queue.length > 0 || letGoCount > 0);
    },
  };
}
