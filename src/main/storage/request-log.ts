/**
 * The request log as the gateway sees it: an observer that journals each finished request
 * and hands it to the writer thread.
 *
 * Durability ("answered means logged", even under kill -9): before a response's last bytes
 * go out, the record's facts (without bodies) are appended to a journal with a short
 * synchronous write — in the OS page cache, so it survives the process. An answer the
 * gateway can hold (requestFinishedBeforeAnswer: a JSON response, a stream's last bytes)
 * waits for the end of the turn of the event loop, where one write journals every record
 * finished in that turn and then lets their answers go (group commit, no timer); an answer
 * it does not hold (an error, a refusal) has its line, and any held ones, written at once. The writer thread
 * commits full records in batches shortly after; should it fall far behind (BACKLOG_LIMIT), held
 * answers also wait for it to catch up, so its backlog stays bounded. Two journal files alternate: once every
 * record written to the older file is committed, it is emptied and becomes the newer one,
 * so the journal stays a few batches long under any load. On open, journal lines whose
 * request is not in the database are written (without bodies, which were only in memory);
 * commands that only read the log (export, usage) do the same first, without touching the
 * journal files (replayJournalsForReading).
 *
 * Hostile records: a record whose bodies cannot be cloned to the writer thread (nested
 * too deeply for structured clone, say) or serialised is sent and journalled with its
 * bodies cut and a warning saying so; the hand-off never throws and never costs another
 * record.
 *
 * Performance: the batched writer (costing, content addressing, rollups, SQLite) runs in a
 * worker thread, so a large batch never holds the gateway's event loop; records cross in one
 * postMessage every HAND_OFF_DELAY_MS (at most HAND_OFF_BATCH in one), each as its journal
 * line and bodies, once that line is written.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { RecordBodyTexts, RequestObserver } from '../core/record.js';
import { createPriceBook, type PriceOverrides } from '../pricing/catalog.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { BACKLOG_LIMIT, JOURNAL_FILE_NAMES, JournalPair, MAX_ANSWER_WAIT_MS, WaitingAnswers, answerAll, backlogCharacters, journalJson, readJournals } from './journal-pair.js';
import type { RequestLogSink } from './store.js';
import { createRequestWriter } from './request-writer.js';
import { cloneableBodies, handedRecord, recordWithoutBodies, unstorableReason, type RecordOnTheWire, type StoredRequestRecord } from './stored-record.js';
import type { WriterThreadMessage, WriterThreadReply } from './request-writer-worker-entry.js';
import { startWorker, workerEntryUrl } from './worker-threads.js';

export { JOURNAL_FILE_NAMES, journalEntry } from './journal-pair.js';

export interface RequestLogOptions {
  priceOverrides?: PriceOverrides;
  storeBodies?: boolean;
  /** How long the writer thread lets records gather before a transaction (ms, default 50). */
  flushIntervalMs?: number;
  onError?: (error: Error) => void;
  /** The writer thread's entry (default: request-writer-worker-entry beside this module or the bundle). */
  workerUrl?: URL;
  /**
   * How far the writer may fall behind before answers wait for it: records handed over and not
   * yet committed, and the characters of their journal lines and body texts (default
   * BACKLOG_LIMIT). Tests set small ones.
   */
  backlogLimit?: { records: number; characters: number };
  /** The longest an answer waits for a writer that is behind, in ms (default MAX_ANSWER_WAIT_MS). */
  maxAnswerWaitMs?: number;
}

export interface RequestLog extends RequestLogSink {
  /** A connection of the main thread's own, for the app's reads. */
  database: SqliteDatabase;
}

/**
 * Writes every journal line whose request is not in the database yet, without bodies (they
 * were only in memory), and leaves the journal files as they are. Idempotent and safe
 * while a gateway runs on the same folder: ids already present are skipped, the rest go in
 * one transaction whose INSERTs skip an id another writer committed meanwhile
 * (and that writer, finding the row, adds its bodies to it).
 */
export function replayJournals(dataDirectory: string, database: SqliteDatabase, options: Pick<RequestLogOptions, 'priceOverrides'> = {}): number {
  const exists = database.prepare('SELECT 1 FROM requests WHERE id = ?').pluck();
  const missing = readJournals(dataDirectory).filter((record) => exists.get(record.id) === undefined);
  if (missing.length === 0) return 0;
  const writer = createRequestWriter(database, {
    priceBook: createPriceBook(options.priceOverrides ?? {}),
    storeBodies: false,
    flushIntervalMs: 0,
    maxBatchSize: missing.length,
  });
  for (const record of missing) writer.enqueue(record);
  writer.close();
  return missing.length;
}

function journalsHaveLines(dataDirectory: string): boolean {
  return JOURNAL_FILE_NAMES.some((name) => {
    try {
      return statSync(join(dataDirectory, name)).size > 0;
    } catch {
      return false;
    }
  });
}

/**
 * For commands that read the log without running a gateway (export, usage): brings every
 * answered request that is still only in the journal (a gateway killed, or one running
 * right now) into the database, so that a read sees it. Does not touch the journal files;
 * a running gateway keeps owning them. Returns the number of records written.
 */
export function replayJournalsForReading(dataDirectory: string, options: Pick<RequestLogOptions, 'priceOverrides'> = {}): number {
  if (!journalsHaveLines(dataDirectory)) return 0;
  const database = openDatabase(dataDirectory);
  try {
    return replayJournals(dataDirectory, database, options);
  } finally {
    database.close();
  }
}

/** Records that cross at once, without waiting for the next turn of the event loop (a burst). */
const HAND_OFF_BATCH = 256;
/**
 * How long records wait on the gateway's thread to cross together (ms). Each message wakes the
 * writer thread and costs both threads a fixed overhead; at 10 connections a turn of the event
 * loop finishes one or two requests. 5 ms gathers about ten at 2,000 requests/s and measured
 * 0.6–4.8 % less CPU per request (docs/benchmarks.md, ninth session); 20 ms measured worse (what is held
 * that long outlives young-generation collections). Answers never wait for it: only the hand-off.
 */
const HAND_OFF_DELAY_MS = 5;
/*
 * Backpressure. The writer thread runs at a lower priority (request-writer-worker-entry.ts), so on
 * cores saturated by other work it can fall behind the gateway, and what it has not committed
 * waits in memory (its queue) and in the journal. Past either limit, the answers finished in a turn
 * are journalled as ever (they are safe) but go out only once the writer is back under the limits,
 * or after MAX_ANSWER_WAIT_MS: the clients slow to the writer's pace instead of the backlog growing
 * without bound. Normal load stays far below: ~2,000 requests/s hand over ~150 records per 50 ms
 * batch. The limits are journal-pair.ts's, shared with the PostgreSQL log.
 */

export function openRequestLog(dataDirectory: string, options: RequestLogOptions = {}): RequestLog {
  const database = openDatabase(dataDirectory);
  const replayed = replayJournals(dataDirectory, database, options);
  const journals = JournalPair.open(dataDirectory);

  const worker: Worker = startWorker(options.workerUrl ?? workerEntryUrl('request-writer-worker-entry', import.meta.url), {
    dataDirectory,
    priceOverrides: options.priceOverrides ?? {},
    storeBodies: options.storeBodies ?? true,
    flushIntervalMs: options.flushIntervalMs ?? 50,
  }, [],
  // A small young generation: the writer's garbage is short-lived batches, and memory counts on a desktop.
  { maxYoungGenerationSizeMb: 8 });
  // Each record as it crosses (its journal line and bodies) beside the record itself, for a send that fails.
  let outbox: RecordOnTheWire[] = [];
  let outboxRecords: StoredRequestRecord[] = [];
  let scheduled = false;
  let handOffTimer: ReturnType<typeof setTimeout> | null = null;
  let closed: Promise<void> | null = null;
  // Journal lines of answers held until the end of this turn of the event loop, and those answers.
  let heldText = '';
  let heldLines = 0;
  let heldAnswers: Array<() => void> = [];
  // Backpressure: characters taken so far (journal lines and body texts), and after each journal
  // write the last sequence it holds beside that running total, so that a commit up to a sequence
  // tells how many characters are still waiting for the writer.
  const backlogLimit = options.backlogLimit ?? BACKLOG_LIMIT;
  let charactersTaken = 0;
  let heldCharacters = 0;
  let charactersCommitted = 0;
  const written: Array<{ sequence: number; characters: number }> = [];
  // Answers journalled while the writer was over the limits.
  const waitingForWriter = new WaitingAnswers(options.maxAnswerWaitMs ?? MAX_ANSWER_WAIT_MS, options.onError);

  const post = (message: WriterThreadMessage): void => worker.postMessage(message);
  /**
   * One record on its own, as it is or, when it cannot be cloned (nested too deeply for
   * structured clone's recursion, a value that has no copy), with its bodies cut and a
   * warning. Should even that fail, the record stays in the journal for the next start.
   */
  const sendOne = (record: StoredRequestRecord, recordSequence: number): void => {
    try {
      post({ type: 'records', records: [record], lastSequence: recordSequence });
      return;
    } catch (error) {
      try {
        post({ type: 'records', records: [recordWithoutBodies(record, unstorableReason(error), cloneableBodies(record))], lastSequence: recordSequence });
        return;
      } catch {
        // A body that cloned alone but not within the record (the stack was deeper): cut them all.
      }
      try {
        post({ type: 'records', records: [recordWithoutBodies(record, unstorableReason(error))], lastSequence: recordSequence });
        return;
      } catch (again) {
        journals.pinned = true;
        options.onError?.(new Error(`request ${String(record.id)} could not reach the writer (${(again as Error)?.message ?? String(again)}); it stays in the journal`));
      }
    }
    post({ type: 'records', records: [], lastSequence: recordSequence });
  };
  const sendOutbox = (): void => {
    if (handOffTimer) {
      clearTimeout(handOffTimer);
      handOffTimer = null;
    }
    if (outbox.length === 0) return;
    const items = outbox;
    const records = outboxRecords;
    outbox = [];
    outboxRecords = [];
    try {
      post({ type: 'records', records: items, lastSequence: journals.sequence });
    } catch {
      // Nothing was sent: one record cannot be cloned. Send each alone so it costs no other.
      const first = journals.sequence - records.length + 1;
      records.forEach((record, index) => sendOne(record, first + index));
    }
  };

  worker.on('message', (reply: WriterThreadReply) => {
    if (reply.type === 'error') {
      options.onError?.(new Error(reply.message));
      return;
    }
    if (reply.type !== 'committed') return;
    // A record the writer had to drop (disk full, a lock held too long) lives only in the
    // journal now: keep every journal line until the next start replays them.
    if (!reply.complete) journals.pinned = true;
    journals.committedUpTo(reply.lastSequence);
    while (written.length > 0 && written[0]!.sequence <= journals.committedSequence) charactersCommitted = written.shift()!.characters;
    if (waitingForWriter.length > 0 && !overLimits()) waitingForWriter.release();
  });
  worker.on('error', (error) => options.onError?.(error));
  // A writer thread that ended (it failed, or close() ended it) commits nothing more: answers no
  // longer wait for it. What it did not commit is in the journal, replayed at the next start.
  let writerEnded = false;
  worker.once('exit', () => {
    writerEnded = true;
    waitingForWriter.release();
  });
  // The app closes the log on shutdown; an idle writer thread must not keep a process alive.
  worker.unref();

  function overLimits(): boolean {
    return !writerEnded && (journals.pending > backlogLimit.records || charactersTaken - charactersCommitted > backlogLimit.characters);
  }
  /**
   * Writes the journal lines not written yet, all at once, then lets their answers go: at once,
   * or, while the writer is over the backlog's limits, once it is back under them (see BACKLOG_LIMIT).
   */
  const journalHeld = (): void => {
    if (heldLines === 0) return;
    journals.appendLines(heldText, heldLines, options.onError);
    charactersTaken += heldCharacters;
    written.push({ sequence: journals.sequence, characters: charactersTaken });
    heldText = '';
    heldLines = 0;
    heldCharacters = 0;
    const answers = heldAnswers;
    heldAnswers = [];
    if (answers.length === 0) return;
    if (waitingForWriter.length === 0 && !overLimits()) {
      answerAll(answers, options.onError);
      return;
    }
    // Behind the answers already waiting, so that none overtakes an earlier one.
    waitingForWriter.hold(answers);
  };
  /** The journal written, the answers out, then every record taken so far to the writer (each crosses after its line is written). */
  const handOffNow = (): void => {
    journalHeld();
    sendOutbox();
  };
  /**
   * The end of the turn: the journal written and the answers out; the records cross within
   * HAND_OFF_DELAY_MS, with those of the turns after (a full batch has crossed already: schedule).
   */
  const endOfTurn = (): void => {
    scheduled = false;
    journalHeld();
    if (outbox.length > 0 && !handOffTimer) {
      handOffTimer = setTimeout(handOffNow, HAND_OFF_DELAY_MS);
      // Nothing is lost to an exit before it fires: the records' lines are in the journal.
      handOffTimer.unref();
    }
  };
  /** The record's journal line, held until `journalHeld`; the record queued for the writer thread. */
  const take = (record: StoredRequestRecord, texts: RecordBodyTexts | undefined): void => {
    // The journal line is the record's facts, serialised once: it crosses to the writer too,
    // as the flat string JSON.stringify made (the newline is added to the journal's text only).
    const { json, whole } = journalJson(record);
    heldText += json;
    heldText += '\n';
    heldLines += 1;
    heldCharacters += backlogCharacters(json, texts);
    outbox.push(whole ? handedRecord(record, json, texts) : record);
    outboxRecords.push(record);
  };
  const schedule = (): void => {
    if (outbox.length >= HAND_OFF_BATCH) handOffNow();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(endOfTurn);
    }
  };

  const observer: RequestObserver = {
    // An answer the gateway cannot hold: its line (and any held ones) written now.
    requestFinished(record, texts) {
      if (closed) return;
      take(record, texts);
      journalHeld();
      schedule();
    },
    // Group commit: every answer finished in this turn of the event loop waits for one write.
    requestFinishedBeforeAnswer(record, answer, texts) {
      if (closed) {
        answer();
        return;
      }
      take(record, texts);
      heldAnswers.push(answer);
      schedule();
    },
  };

  return {
    database,
    observer,
    replayed,
    setPriceOverrides: (overrides) => post({ type: 'price-overrides', overrides }),
    setStoreBodies: (storeBodies) => post({ type: 'store-bodies', storeBodies }),
    committed() {
      handOffNow();
      if (journals.pending === 0) return Promise.resolve();
      post({ type: 'flush', lastSequence: journals.sequence });
      return journals.allCommitted();
    },
    get pendingCount() {
      return journals.pending;
    },
    close() {
      closed ??= (async () => {
        // Hold the process open until the writer thread has committed and closed.
        worker.ref();
        handOffNow();
        // Answers waiting for a writer that was behind: their lines are in the journal.
        waitingForWriter.release();
        await new Promise<void>((resolve) => {
          // A writer that has ended already (it failed) will neither answer nor exit again.
          if (writerEnded) return resolve();
          worker.on('message', (reply: WriterThreadReply) => {
            if (reply.type === 'closed') resolve();
          });
          worker.once('exit', () => resolve());
          post({ type: 'close' });
        });
        await worker.terminate();
        // Records the writer did not commit (it failed) stay in the journal for the next start.
        journals.close(journals.pending > 0);
        database.close();
      })();
      return closed;
    },
  };
}
