/**
 * Retention: deletes requests (with their tags, attempts, bodies and message references)
 * older than a number of days, deletes only bodies and message contents older than
 * another number of days, and/or deletes the oldest requests until the database's used
 * size fits a maximum. Message contents no longer referenced are then removed.
 *
 * Space: deleted pages go to SQLite's free list and are reused by new rows, so the file
 * stops growing but does not shrink by itself. Databases created by openDatabase use
 * auto_vacuum=INCREMENTAL, and `applyRetention` runs `PRAGMA incremental_vacuum` to hand
 * the free pages back to the file system (cheap, no full rewrite). A database created
 * without it needs a one-off `VACUUM` (which rewrites the whole file and needs as much
 * free disk space again; do it at start-up, not while the gateway is serving).
 */
import type { SqliteDatabase } from './database.js';
import { HOUR_MS, dayStart, hourStart, rebuildDailyRollup } from './rollups.js';

const DAY_MS = 24 * HOUR_MS;
const DELETE_CHUNK = 5000;

export interface RetentionSettings {
  /** Delete requests that started more than this many days ago. */
  maximumAgeDays?: number | null;
  /** Delete only bodies and message contents older than this many days (rows and costs stay). */
  bodyMaximumAgeDays?: number | null;
  /** Delete the oldest requests until pages in use take at most this many bytes. */
  maximumSizeBytes?: number | null;
  /** Also delete hourly rollups older than the age limit (default true), so summaries match the rows kept. */
  pruneRollups?: boolean;
}

export interface RetentionResult {
  requestsDeleted: number;
  bodiesDeleted: number;
  messagesDeleted: number;
  /** Bytes of pages in use, before and after. */
  usedBytesBefore: number;
  usedBytesAfter: number;
  /** Size of the file after the incremental vacuum. */
  fileBytesAfter: number;
}

export function usedBytes(database: SqliteDatabase): number {
  const pageSize = database.pragma('page_size', { simple: true }) as number;
  const pageCount = database.pragma('page_count', { simple: true }) as number;
  const freePages = database.pragma('freelist_count', { simple: true }) as number;
  return (pageCount - freePages) * pageSize;
}

function fileBytes(database: SqliteDatabase): number {
  return (database.pragma('page_count', { simple: true }) as number) * (database.pragma('page_size', { simple: true }) as number);
}

/** Deletes requests with started_at < cutoff (in chunks, one transaction each). Returns rows deleted. */
export function deleteRequestsBefore(database: SqliteDatabase, cutoff: number, maximumRows = Number.POSITIVE_INFINITY): number {
  const selectSeqs = database.prepare('SELECT seq FROM requests WHERE started_at < ? ORDER BY started_at LIMIT ?').pluck();
  const deleteOne = [
    database.prepare('DELETE FROM request_tags WHERE request_seq = ?'),
    database.prepare('DELETE FROM attempts WHERE request_seq = ?'),
    database.prepare('DELETE FROM request_messages WHERE request_seq = ?'),
    database.prepare('DELETE FROM bodies WHERE request_seq = ?'),
    database.prepare('DELETE FROM requests WHERE seq = ?'),
  ];
  const deleteChunk = database.transaction((seqs: number[]) => {
    for (const seq of seqs) for (const statement of deleteOne) statement.run(seq);
  });
  let deleted = 0;
  while (deleted < maximumRows) {
    const seqs = selectSeqs.all(cutoff, Math.min(DELETE_CHUNK, maximumRows - deleted)) as number[];
    if (seqs.length === 0) break;
    deleteChunk(seqs);
    deleted += seqs.length;
  }
  return deleted;
}

/** Deletes bodies and message references of requests started before cutoff. Returns bodies deleted. */
export function deleteBodiesBefore(database: SqliteDatabase, cutoff: number): number {
  const result = database.transaction(() => {
    database
      .prepare('DELETE FROM request_messages WHERE request_seq IN (SELECT seq FROM requests WHERE started_at < ?)')
      .run(cutoff);
    return database.prepare('DELETE FROM bodies WHERE request_seq IN (SELECT seq FROM requests WHERE started_at < ?)').run(cutoff)
      .changes;
  })();
  return result;
}

/**
 * Removes message contents no request references any more and conversations with no
 * requests left, and recomputes the totals of conversations that lost early turns.
 */
export function deleteOrphans(database: SqliteDatabase, deletedBefore: number): number {
  return database.transaction(() => {
    const messages = database
      // No index on message_id (it would be written at random on every insert): SQLite builds a
      // temporary one for this NOT IN, once per retention run.
      .prepare('DELETE FROM messages WHERE id NOT IN (SELECT message_id FROM request_messages)')
      .run().changes;
    database
      .prepare('DELETE FROM conversations WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.conversation_id = conversations.id)')
      .run();
    database
      .prepare(
        `UPDATE conversations SET
           first_started_at = totals.first_started_at, requests = totals.requests, errors = totals.errors,
           input_tokens = totals.input_tokens, output_tokens = totals.output_tokens,
           cost_nano_usd = totals.cost_nano_usd, unpriced_requests = totals.unpriced_requests
         FROM (SELECT conversation_id, min(started_at) AS first_started_at, count(*) AS requests,
                      sum(status = 'error') AS errors,
                      sum(CASE WHEN cache_hit = 1 THEN 0 ELSE input_tokens END) AS input_tokens,
                      sum(CASE WHEN cache_hit = 1 THEN 0 ELSE output_tokens END) AS output_tokens,
                      sum(cost_nano_usd) AS cost_nano_usd, sum(priced = 0) AS unpriced_requests
               FROM requests
               WHERE conversation_id IN (SELECT id FROM conversations WHERE first_started_at < ?)
               GROUP BY conversation_id) AS totals
         WHERE totals.conversation_id = conversations.id AND conversations.requests <> totals.requests`,
      )
      .run(deletedBefore);
    return messages;
  })();
}

/** Deletes rollups of hours before `cutoff` (an hour start) and keeps the daily rows equal to the hourly ones. */
function pruneRollupsBefore(database: SqliteDatabase, cutoff: number): void {
  database.transaction(() => {
    database.prepare('DELETE FROM rollup_hourly WHERE period_start < ?').run(cutoff);
    database.prepare('DELETE FROM rollup_daily WHERE period_start < ?').run(dayStart(cutoff));
    if (cutoff !== dayStart(cutoff)) rebuildDailyRollup(database, dayStart(cutoff));
  })();
}

export function applyRetention(database: SqliteDatabase, settings: RetentionSettings, now = Date.now()): RetentionResult {
  const usedBytesBefore = usedBytes(database);
  let requestsDeleted = 0;
  let bodiesDeleted = 0;
  const pruneRollups = settings.pruneRollups ?? true;

  if (settings.maximumAgeDays !== undefined && settings.maximumAgeDays !== null && settings.maximumAgeDays >= 0) {
    // Cut on an hour boundary so the hourly rollups kept describe exactly the rows kept.
    const cutoff = hourStart(now - settings.maximumAgeDays * DAY_MS);
    requestsDeleted += deleteRequestsBefore(database, cutoff);
    if (pruneRollups) pruneRollupsBefore(database, cutoff);
  }
  if (settings.bodyMaximumAgeDays !== undefined && settings.bodyMaximumAgeDays !== null && settings.bodyMaximumAgeDays >= 0) {
    bodiesDeleted += deleteBodiesBefore(database, now - settings.bodyMaximumAgeDays * DAY_MS);
  }
  const oldestKept = (): number =>
    (database.prepare('SELECT min(started_at) AS oldest FROM requests').get() as { oldest: number | null }).oldest ??
    Number.MAX_SAFE_INTEGER;
  let messagesDeleted = deleteOrphans(database, oldestKept());

  const maximumSize = settings.maximumSizeBytes;
  if (maximumSize !== undefined && maximumSize !== null && maximumSize > 0) {
    // Delete the oldest ~5 % at a time until the pages in use fit; freed pages are reused first.
    for (let round = 0; round < 100 && usedBytes(database) > maximumSize; round += 1) {
      const total = (database.prepare('SELECT count(*) AS count FROM requests').get() as { count: number }).count;
      if (total === 0) break;
      const deleted = deleteRequestsBefore(database, Number.MAX_SAFE_INTEGER, Math.max(1, Math.ceil(total * 0.05)));
      requestsDeleted += deleted;
      messagesDeleted += deleteOrphans(database, oldestKept());
      if (deleted === 0) break;
    }
    // The hour holding the oldest kept row keeps its rollup (it still counts the deleted part of that hour).
    if (pruneRollups) pruneRollupsBefore(database, hourStart(oldestKept()));
  }

  database.pragma('incremental_vacuum');
  return {
    requestsDeleted,
    bodiesDeleted,
    messagesDeleted,
    usedBytesBefore,
    usedBytesAfter: usedBytes(database),
    fileBytesAfter: fileBytes(database),
  };
}
