/**
 * Retention on a team's PostgreSQL log: what ../retention.ts does on SQLite. Requests
 * older than the maximum age go with their tags, attempts, message references and bodies;
 * bodies older than the body age go alone; message contents no request references any
 * more and conversations left without requests go too, and conversations that lost early
 * turns get their totals recomputed; hourly and daily rollups of the hours deleted go
 * (the daily row of the cut day is rebuilt from its hours), so summaries match the rows kept.
 *
 * Several instances run it on the same log (each every few hours): a session advisory lock
 * (`pg_try_advisory_lock`) lets one trim while the others skip that round. It deletes in
 * chunks of `DELETE_CHUNK` requests, one short transaction each, so no lock is held long.
 *
 * Content-addressed messages are shared between requests: a writer may reference an
 * existing message (found by its hash) in the same instant retention finds it unreferenced.
 * So every write transaction holds WRITE_LOCK_KEY shared (request-writer.ts takes it with
 * its BEGIN) and each retention chunk holds it exclusively: a chunk waits for the writes in
 * flight, the writes wait for the chunk (a few milliseconds), and the chunk's statements
 * (READ COMMITTED: a fresh snapshot each) see every reference committed before it.
 *
 * Maximum size is not applied on PostgreSQL: deleted rows leave free space that
 * PostgreSQL reuses for new rows but does not give back to the files (only VACUUM FULL
 * does, which locks the tables while it rewrites them), so pg_total_relation_size does not
 * fall when rows are deleted, and a loop "delete the oldest until the size fits" would
 * delete the whole log. The size is reported (usedBytesBefore / usedBytesAfter), not enforced.
 */
import { DAY_MS, dayStart, hourStart, REBUILD_DAILY_ROLLUP_SQL } from '../rollups.js';
import type { RetentionResult, RetentionSettings } from '../retention.js';
import { postgresText } from '../sql-plan.js';
import { inTransaction, type PostgresClient, type PostgresPool } from './connection.js';

/** Held by one instance while it trims (session lock; any fixed 64-bit number, this one spells "swretain"). */
export const RETENTION_LOCK_KEY = '8320792215097287022';
/** Held shared by every write transaction, exclusively by each retention chunk ("swwrites"). */
export const WRITE_LOCK_KEY = '8320793304745489779';
/** BEGIN for a write transaction of the log. */
export const BEGIN_WRITE = `BEGIN; SELECT pg_advisory_xact_lock_shared(${WRITE_LOCK_KEY})`;
const BEGIN_TRIM = `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`;

const DELETE_CHUNK = 2000;

/** The tables of the log, for its size. */
const LOG_TABLES = ['requests', 'request_tags', 'attempts', 'request_messages', 'messages', 'bodies', 'conversations', 'rollup_hourly', 'rollup_daily'];

export interface PostgresRetentionResult extends RetentionResult {
  /** Another instance was trimming: this one did nothing. */
  skipped: boolean;
}

/** Bytes the log's tables take on disk, indexes and TOAST included (free space in them too). */
export async function postgresLogBytes(pool: PostgresPool | PostgresClient): Promise<number> {
  const { rows } = await pool.query<{ bytes: number | null }>(
    `SELECT sum(pg_total_relation_size(to_regclass(name)))::bigint AS bytes FROM unnest($1::text[]) AS name`,
    [LOG_TABLES],
  );
  return rows[0]?.bytes ?? 0;
}

/**
 * Removes the message references and bodies of these requests, then the messages they
 * referenced that nothing references now. Returns how many messages and bodies went.
 */
async function dropContent(client: PostgresClient, seqs: readonly number[]): Promise<{ messages: number; bodies: number }> {
  const referenced = await client.query<{ message_id: number }>('DELETE FROM request_messages WHERE request_seq = ANY($1::bigint[]) RETURNING message_id', [seqs]);
  const bodies = await client.query('DELETE FROM bodies WHERE request_seq = ANY($1::bigint[])', [seqs]);
  const candidates = [...new Set(referenced.rows.map((row) => row.message_id))];
  if (candidates.length === 0) return { messages: 0, bodies: bodies.rowCount ?? 0 };
  const messages = await client.query(
    'DELETE FROM messages m WHERE m.id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM request_messages rm WHERE rm.message_id = m.id)',
    [candidates],
  );
  return { messages: messages.rowCount ?? 0, bodies: bodies.rowCount ?? 0 };
}

/** Deletes conversations with no requests left among these; recomputes the totals of the others. */
async function settleConversations(client: PostgresClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query('DELETE FROM conversations c WHERE c.id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.conversation_id = c.id)', [ids]);
  await client.query(
    `UPDATE conversations SET
       first_started_at = totals.first_started_at, requests = totals.requests, errors = totals.errors,
       input_tokens = totals.input_tokens, output_tokens = totals.output_tokens,
       cost_nano_usd = totals.cost_nano_usd, unpriced_requests = totals.unpriced_requests
     FROM (SELECT conversation_id, min(started_at) AS first_started_at, count(*) AS requests,
                  count(*) FILTER (WHERE status = 'error') AS errors,
                  coalesce(sum(CASE WHEN cache_hit = 1 THEN 0 ELSE input_tokens END), 0) AS input_tokens,
                  coalesce(sum(CASE WHEN cache_hit = 1 THEN 0 ELSE output_tokens END), 0) AS output_tokens,
                  coalesce(sum(cost_nano_usd), 0) AS cost_nano_usd, count(*) FILTER (WHERE priced = 0) AS unpriced_requests
           FROM requests WHERE conversation_id = ANY($1::text[]) GROUP BY conversation_id) AS totals
     WHERE totals.conversation_id = conversations.id`,
    [ids],
  );
}

/** Deletes requests started before `cutoff`, oldest first, a chunk per transaction. */
async function deleteRequestsBefore(pool: PostgresPool, cutoff: number): Promise<{ requests: number; messages: number }> {
  const deleted = { requests: 0, messages: 0 };
  for (;;) {
    const chunk = await inTransaction(
      pool,
      async (client) => {
        const { rows } = await client.query<{ seq: number }>('SELECT seq FROM requests WHERE started_at < $1 ORDER BY started_at LIMIT $2 FOR UPDATE', [cutoff, DELETE_CHUNK]);
        const seqs = rows.map((row) => row.seq);
        if (seqs.length === 0) return { requests: 0, messages: 0 };
        await client.query('DELETE FROM request_tags WHERE request_seq = ANY($1::bigint[])', [seqs]);
        await client.query('DELETE FROM attempts WHERE request_seq = ANY($1::bigint[])', [seqs]);
        const content = await dropContent(client, seqs);
        const removed = await client.query<{ conversation_id: string | null }>('DELETE FROM requests WHERE seq = ANY($1::bigint[]) RETURNING conversation_id', [seqs]);
        const conversations = [...new Set(removed.rows.flatMap((row) => (row.conversation_id === null ? [] : [row.conversation_id])))].sort();
        await settleConversations(client, conversations);
        return { requests: seqs.length, messages: content.messages };
      },
      BEGIN_TRIM,
    );
    deleted.requests += chunk.requests;
    deleted.messages += chunk.messages;
    if (chunk.requests < DELETE_CHUNK) return deleted;
  }
}

/** Deletes the bodies and message references of requests started before `cutoff` (the rows stay). */
async function deleteBodiesBefore(pool: PostgresPool, cutoff: number): Promise<{ bodies: number; messages: number }> {
  const deleted = { bodies: 0, messages: 0 };
  let after = 0;
  for (;;) {
    // Found without the write lock (requests already stripped are skipped); deleted under it.
    const { rows } = await pool.query<{ seq: number }>(
      `SELECT seq FROM requests r WHERE started_at < $1 AND seq > $2
         AND (EXISTS (SELECT 1 FROM bodies b WHERE b.request_seq = r.seq) OR EXISTS (SELECT 1 FROM request_messages rm WHERE rm.request_seq = r.seq))
       ORDER BY seq LIMIT $3`,
      [cutoff, after, DELETE_CHUNK],
    );
    const seqs = rows.map((row) => row.seq);
    if (seqs.length === 0) return deleted;
    const content = await inTransaction(pool, (client) => dropContent(client, seqs), BEGIN_TRIM);
    deleted.bodies += content.bodies;
    deleted.messages += content.messages;
    after = seqs[seqs.length - 1]!;
    if (seqs.length < DELETE_CHUNK) return deleted;
  }
}

/** Deletes rollups of hours before `cutoff` (an hour start); the cut day's daily rows are rebuilt from its hours. */
async function pruneRollupsBefore(pool: PostgresPool, cutoff: number): Promise<void> {
  const day = dayStart(cutoff);
  await inTransaction(
    pool,
    async (client) => {
      await client.query('DELETE FROM rollup_hourly WHERE period_start < $1', [cutoff]);
      await client.query('DELETE FROM rollup_daily WHERE period_start < $1', [day]);
      if (cutoff !== day) {
        await client.query('DELETE FROM rollup_daily WHERE period_start = $1', [day]);
        await client.query(postgresText(REBUILD_DAILY_ROLLUP_SQL), [day, day, day + DAY_MS]);
      }
    },
    BEGIN_TRIM,
  );
}

/** Applies the age limits to the shared log, unless another instance is doing it right now. */
export async function applyPostgresRetention(pool: PostgresPool, settings: RetentionSettings, now = Date.now()): Promise<PostgresRetentionResult> {
  const session = await pool.connect();
  try {
    const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [RETENTION_LOCK_KEY]);
    if (!rows[0]?.locked) return { skipped: true, requestsDeleted: 0, bodiesDeleted: 0, messagesDeleted: 0, usedBytesBefore: 0, usedBytesAfter: 0, fileBytesAfter: 0 };
    try {
      const usedBytesBefore = await postgresLogBytes(session);
      let requestsDeleted = 0;
      let bodiesDeleted = 0;
      let messagesDeleted = 0;
      if (settings.maximumAgeDays !== undefined && settings.maximumAgeDays !== null && settings.maximumAgeDays >= 0) {
        // Cut on an hour boundary so the hourly rollups kept describe exactly the rows kept.
        const cutoff = hourStart(now - settings.maximumAgeDays * DAY_MS);
        const deleted = await deleteRequestsBefore(pool, cutoff);
        requestsDeleted += deleted.requests;
        messagesDeleted += deleted.messages;
        if (settings.pruneRollups ?? true) await pruneRollupsBefore(pool, cutoff);
      }
      if (settings.bodyMaximumAgeDays !== undefined && settings.bodyMaximumAgeDays !== null && settings.bodyMaximumAgeDays >= 0) {
        const deleted = await deleteBodiesBefore(pool, now - settings.bodyMaximumAgeDays * DAY_MS);
        bodiesDeleted += deleted.bodies;
        messagesDeleted += deleted.messages;
      }
      const usedBytesAfter = await postgresLogBytes(session);
      return { skipped: false, requestsDeleted, bodiesDeleted, messagesDeleted, usedBytesBefore, usedBytesAfter, fileBytesAfter: usedBytesAfter };
    } finally {
      await session.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    session.release();
  }
}
