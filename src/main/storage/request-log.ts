/**
 * The request log as the gateway sees it: one observer that hands finished requests to the
 * batched SQLite writer, plus a small append-only journal that makes "answered means
 * logged" hold even if the process is killed. Each record's scalar facts are appended to
 * the journal (one short synchronous write, in the OS page cache) before the response's
 * last bytes go out; the batched writer commits the full record shortly after and the
 * journal is emptied. On start, journal lines whose request is not in the database are
 * replayed (without bodies, which were only in memory).
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestObserver } from '../gateway/context.js';
import type { RequestRecord } from '../gateway/types.js';
import type { PriceBook } from '../pricing/catalog.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { createRequestWriter, type RequestWriter } from './request-writer.js';

export const JOURNAL_FILE_NAME = 'request-journal.jsonl';

export interface RequestLogOptions {
  priceBook?: PriceBook;
  storeBodies?: boolean;
  flushIntervalMs?: number;
  onError?: (error: Error) => void;
  /** An already-open database (otherwise the data directory's is opened, and closed with the log). */
  database?: SqliteDatabase;
}

export interface RequestLog {
  database: SqliteDatabase;
  writer: RequestWriter;
  observer: RequestObserver;
  /** Records replayed from the journal at open. */
  replayed: number;
  close(): void;
}

/** The record without bodies: what must survive a kill. */
function journalEntry(record: RequestRecord): string {
  return JSON.stringify({ ...record, requestBody: null, upstreamRequestBody: null, responseBody: null }) + '\n';
}

function replayJournal(file: string, database: SqliteDatabase, writer: RequestWriter): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  if (text.length === 0) return 0;
  const exists = database.prepare('SELECT 1 FROM requests WHERE id = ?').pluck();
  let replayed = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    let record: RequestRecord;
    try {
      record = JSON.parse(line) as RequestRecord;
    } catch {
      continue; // A torn last line from the moment of the kill.
    }
    if (typeof record.id !== 'string' || exists.get(record.id) !== undefined) continue;
    writer.enqueue(record);
    replayed += 1;
  }
  writer.flush();
  return replayed;
}

export function openRequestLog(dataDirectory: string, options: RequestLogOptions = {}): RequestLog {
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? openDatabase(dataDirectory);
  const journalFile = join(dataDirectory, JOURNAL_FILE_NAME);
  let journal = -1;
  const writer = createRequestWriter(database, {
    priceBook: options.priceBook,
    storeBodies: options.storeBodies,
    flushIntervalMs: options.flushIntervalMs,
    onError: (error) => options.onError?.(error),
    // Everything journalled so far is now in the database: the journal can start over.
    onFlushed: () => {
      if (journal !== -1) ftruncateSync(journal, 0);
    },
  });
  const replayed = replayJournal(journalFile, database, writer);
  journal = openSync(journalFile, 'a', 0o600);
  ftruncateSync(journal, 0);
  const observer: RequestObserver = {
    requestFinished(record) {
      try {
        writeSync(journal, journalEntry(record));
      } catch (error) {
        options.onError?.(error as Error);
      }
      writer.enqueue(record);
    },
  };
  return {
    database,
    writer,
    observer,
    replayed,
    close() {
      writer.close();
      if (journal !== -1) {
        ftruncateSync(journal, 0);
        closeSync(journal);
        journal = -1;
      }
      if (ownsDatabase) database.close();
    },
  };
}
