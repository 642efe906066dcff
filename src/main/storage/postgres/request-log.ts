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
 */
import type { RequestObserver } from '../../core/record.js';
import { createPriceBook, type PriceBook, type PriceOverrides } from '../../pricing/catalog.js';
import { JournalPair, readJournals } from '../journal-pair.js';
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
  onError?: (error: Error) => void;
}

/** The PostgreSQL request log: the same sink as SQLite's; `committed()` also resolves for records reported as unwritable. */
export type PostgresRequestLog = RequestLogSink;

/** Writes the journal lines whose request is not in PostgreSQL (without bodies); leaves the files alone. Returns how many. */
export async function replayJournalsIntoPostgres(dataDirectory: string, pool: PostgresPool, priceBook: PriceBook): Promise<number> {
  const records = readJournals(dataDirectory);
  let replayed = 0;
  for (let start = 0; start < records.length; start += 1000) {
    const chunk = records.slice(start, start + 1000);
    const logged = await loggedRequestIds(pool, chunk.map((record) => record.id));
    const missing = chunk.filter((record) => !logged.has(record.id));
    const result = await writeRequestsToPostgres(pool, missing, priceBook, false);
    if (result.failed.length > 0) throw new Error(`${result.failed.length} journalled request(s) could not be written: ${result.failed[0]!.error.message}`);
    replayed += result.written;
  }
  return replayed;
}

export async function openPostgresRequestLog(dataDirectory: string, pool: PostgresPool, options: PostgresRequestLogOptions = {}): Promise<PostgresRequestLog> {
  let priceBook = createPriceBook(options.priceOverrides ?? {});
  let storeBodies = options.storeBodies ?? true;
  const flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 50);
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? 256);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const replayed = await replayJournalsIntoPostgres(dataDirectory, pool, priceBook);
  const journals = JournalPair.open(dataDirectory);
  let queue: Array<{ record: StoredRequestRecord; sequence: number }> = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let closed = false;
  let reportedOffline = false;

  const schedule = (delay: number): void => {
    if (writing) return;
    if (timer) {
      if (delay > 0) return;
      clearTimeout(timer);
      timer = null;
    }
    timer = setTimeout(() => {
      timer = null;
      void drain();
    }, delay);
    timer.unref();
  };

  async function drain(): Promise<void> {
    if (writing) return writing;
    writing = (async () => {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatchSize);
        try {
          const result = await writeRequestsToPostgres(pool, batch.map((entry) => entry.record), priceBook, storeBodies);
          queue = queue.slice(batch.length);
          if (reportedOffline) options.onError?.(new Error('PostgreSQL is reachable again; the requests kept meanwhile are written'));
          reportedOffline = false;
          if (result.failed.length > 0) {
            journals.pinned = true;
            for (const failure of result.failed) options.onError?.(new Error(`request ${failure.record.id} not logged (${failure.error.message}); it stays in the journal`));
          }
          journals.committedUpTo(batch[batch.length - 1]!.sequence);
        } catch (error) {
          if (!isConnectionError(error)) {
            // Not the connection and not one record: keep the records journalled, drop them here.
            journals.pinned = true;
            queue = queue.slice(batch.length);
            options.onError?.(new Error(`${batch.length} request(s) not logged (${(error as Error).message}); they stay in the journal`));
            journals.committedUpTo(batch[batch.length - 1]!.sequence);
            continue;
          }
          if (!reportedOffline) options.onError?.(new Error(`PostgreSQL unreachable (${(error as Error).message}); requests are kept in the journal and retried`));
          reportedOffline = true;
          if (closed) return;
          writing = null;
          schedule(retryDelayMs);
          return;
        }
      }
    })();
    const running = writing;
    try {
      await running;
    } finally {
      if (writing === running) writing = null;
      if (queue.length > 0 && !closed) schedule(0);
    }
  }

  const observer: RequestObserver = {
    requestFinished(record) {
      if (closed) return;
      const sequence = journals.append(record, options.onError);
      queue.push({ record, sequence });
      // A Responses answer is committed at once: its next turn may reach another instance.
      schedule(queue.length >= maxBatchSize || record.responseId ? 0 : flushIntervalMs);
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
      await drain();
      // Whatever is left (PostgreSQL unreachable) stays journalled for the next start.
      journals.close(queue.length > 0);
    },
  };
}
