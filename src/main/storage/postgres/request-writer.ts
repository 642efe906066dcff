/**
 * Writes finished requests into PostgreSQL: the same rows SQLite's writer makes
 * (../request-writer.ts prepareRequest turns a record into them, so costing, content
 * addressing, conversation ids and rollup keys are shared), one transaction per batch
 * with one statement per table (arrays through unnest), so a batch of 256 costs a dozen
 * round trips, not thousands.
 *
 * Idempotent by request id, like SQLite's writer: a record whose id is already logged
 * (journal replay, another instance's reader) adds only what the row lacks (bodies, a
 * conversation) and never counts twice in conversations or rollups. Several instances
 * write at once: rows that every writer touches (rollups, conversations, messages) are
 * upserted in a fixed order, and a deadlock PostgreSQL reports anyway retries the batch.
 * Each batch holds the write lock shared (retention.ts), so retention never deletes a
 * message or conversation a batch in flight is about to reference.
 */
import type { PriceBook } from '../../pricing/catalog.js';
import { RollupAccumulator, ROLLUP_SUM_FIELDS, type RollupGranularity } from '../rollups.js';
import { LATENCY_BUCKET_COLUMNS } from '../latency-histogram.js';
import { prepareRequest, type PreparedRequest } from '../request-writer.js';
import type { SqliteStatement } from '../database.js';
import { recordWithoutBodies, unstorableReason, type StoredRequestRecord } from '../stored-record.js';
import { inTransaction, type PostgresClient, type PostgresPool } from './connection.js';
import { BEGIN_WRITE } from './retention.js';

type ColumnType = 'text' | 'bigint' | 'integer';

/** The request columns in SQLite's order, with their PostgreSQL types (for unnest). */
export const REQUEST_COLUMN_TYPES: ReadonlyArray<readonly [string, ColumnType]> = [
  ['id', 'text'], ['started_at', 'bigint'], ['ended_at', 'bigint'], ['endpoint', 'text'], ['requested_model', 'text'],
  ['resolved_model', 'text'], ['provider', 'text'], ['status', 'text'], ['http_status', 'integer'], ['error_type', 'text'],
  ['error_message', 'text'], ['stream', 'integer'], ['input_tokens', 'bigint'], ['cached_input_tokens', 'bigint'],
  ['cache_write_input_tokens', 'bigint'], ['output_tokens', 'bigint'], ['reasoning_tokens', 'bigint'], ['usage_raw_json', 'text'],
  ['usage_estimated', 'integer'], ['cost_nano_usd', 'bigint'], ['priced', 'integer'], ['cache_hit', 'integer'],
  ['cache_savings_nano_usd', 'bigint'], ['cache_read_savings_nano_usd', 'bigint'], ['time_to_first_token_ms', 'bigint'],
  ['latency_ms', 'bigint'], ['attempts', 'integer'], ['finish_reason', 'text'], ['gateway_key_id', 'text'], ['user', 'text'],
  ['conversation_id', 'text'], ['warnings_json', 'text'], ['trace_id', 'text'], ['response_id', 'text'],
  ['previous_response_id', 'text'],
];

const ATTEMPT_COLUMN_TYPES: ReadonlyArray<readonly [string, ColumnType]> = [
  ['request_seq', 'bigint'], ['attempt_index', 'integer'], ['provider', 'text'], ['model', 'text'], ['started_at', 'bigint'],
  ['ended_at', 'bigint'], ['latency_ms', 'bigint'], ['http_status', 'integer'], ['status', 'text'], ['error_type', 'text'],
  ['error_message', 'text'],
];

const ROLLUP_VALUE_COLUMNS = [...ROLLUP_SUM_FIELDS.map(([, column]) => column), 'latency_max_ms', ...LATENCY_BUCKET_COLUMNS];
const ROLLUP_TABLE: Record<RollupGranularity, string> = { hour: 'rollup_hourly', day: 'rollup_daily' };

function quoted(column: string): string {
  return `"${column}"`;
}

/** `INSERT INTO table (columns) SELECT * FROM unnest($1::type[], …)` and the column arrays as parameters. */
function unnestInsert(table: string, columns: ReadonlyArray<readonly [string, ColumnType]>, rows: ReadonlyArray<Record<string, unknown>>): { sql: string; parameters: unknown[][] } {
  const parameters = columns.map(([column]) => rows.map((row) => row[column] ?? null));
  const sql = `INSERT INTO ${table} (${columns.map(([column]) => quoted(column)).join(', ')})
    SELECT * FROM unnest(${columns.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ')})`;
  return { sql, parameters };
}

function rollupUpsert(table: string): string {
  const columns = ['dimension', 'period_start', 'value', 'detail', ...ROLLUP_VALUE_COLUMNS];
  const types = ['text', 'bigint', 'text', 'text', ...ROLLUP_VALUE_COLUMNS.map(() => 'bigint')];
  return `INSERT INTO ${table} (${columns.join(', ')})
    SELECT * FROM unnest(${types.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})
    ON CONFLICT (dimension, period_start, value, detail) DO UPDATE SET
    ${ROLLUP_VALUE_COLUMNS.map((column) =>
      column === 'latency_max_ms' ? `${column} = greatest(${table}.${column}, excluded.${column})` : `${column} = ${table}.${column} + excluded.${column}`,
    ).join(',\n    ')}`;
}

const ROLLUP_UPSERTS: Record<RollupGranularity, string> = { hour: rollupUpsert(ROLLUP_TABLE.hour), day: rollupUpsert(ROLLUP_TABLE.day) };

const CONVERSATION_UPSERT = `
  INSERT INTO conversations AS c (id, first_started_at, last_started_at, requests, errors, input_tokens, output_tokens, cost_nano_usd, unpriced_requests, last_model, title)
  SELECT id, started_at, started_at, 1, errors, input_tokens, output_tokens, cost_nano_usd, unpriced, model, title
  FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])
    AS t(id, started_at, errors, input_tokens, output_tokens, cost_nano_usd, unpriced, model, title)
  ON CONFLICT (id) DO UPDATE SET
    first_started_at = least(c.first_started_at, excluded.first_started_at),
    last_started_at = greatest(c.last_started_at, excluded.last_started_at),
    requests = c.requests + 1,
    errors = c.errors + excluded.errors,
    input_tokens = c.input_tokens + excluded.input_tokens,
    output_tokens = c.output_tokens + excluded.output_tokens,
    cost_nano_usd = c.cost_nano_usd + excluded.cost_nano_usd,
    unpriced_requests = c.unpriced_requests + excluded.unpriced_requests,
    last_model = CASE WHEN excluded.last_started_at >= c.last_started_at THEN coalesce(excluded.last_model, c.last_model) ELSE c.last_model END,
    title = coalesce(c.title, excluded.title)`;

interface Written {
  seq: number;
  record: StoredRequestRecord;
  prepared: PreparedRequest;
}

/** Collects the accumulator's rows (it writes through statement-shaped objects) as unnest column arrays. */
function rollupArrays(rollups: RollupAccumulator): Record<RollupGranularity, unknown[][]> {
  const rows: Record<RollupGranularity, unknown[][]> = { hour: [], day: [] };
  const collector = (granularity: RollupGranularity) => ({ run: (values: unknown[]) => void rows[granularity].push(values) }) as unknown as SqliteStatement;
  rollups.writeTo({ hour: collector('hour'), day: collector('day') });
  const columnsOf = (list: unknown[][]): unknown[][] => {
    // A fixed order (the primary key's) so concurrent writers lock rollup rows alike.
    list.sort((left, right) => String(left[0]).localeCompare(String(right[0])) || Number(left[1]) - Number(right[1]) || String(left[2]).localeCompare(String(right[2])) || String(left[3]).localeCompare(String(right[3])));
    const width = 4 + ROLLUP_VALUE_COLUMNS.length;
    return Array.from({ length: width }, (_unused, column) => list.map((row) => row[column]));
  };
  return { hour: columnsOf(rows.hour), day: columnsOf(rows.day) };
}

async function writeContent(client: PostgresClient, items: ReadonlyArray<{ seq: number; prepared: PreparedRequest }>): Promise<void> {
  const messages = new Map<string, { role: string | null; contentJson: string }>();
  for (const { prepared } of items) {
    for (const part of prepared.messageParts) for (const message of part.messages) messages.set(message.hash, { role: message.role, contentJson: message.contentJson });
  }
  const ids = new Map<string, number>();
  if (messages.size > 0) {
    const hashes = [...messages.keys()].sort();
    const buffers = hashes.map((hash) => Buffer.from(hash, 'hex'));
    await client.query(
      `INSERT INTO messages (hash, role, content_json) SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[]) ON CONFLICT (hash) DO NOTHING`,
      [buffers, hashes.map((hash) => messages.get(hash)!.role), hashes.map((hash) => messages.get(hash)!.contentJson)],
    );
    const found = await client.query<{ id: number; hash: Buffer }>('SELECT id, hash FROM messages WHERE hash = ANY($1::bytea[])', [buffers]);
    for (const row of found.rows) ids.set(row.hash.toString('hex'), row.id);
  }
  const links: Array<[number, number, number, number]> = [];
  const bodies: Array<[number, string | null, string | null, string | null]> = [];
  for (const { seq, prepared } of items) {
    for (const { part, messages: list } of prepared.messageParts) list.forEach((message, position) => links.push([seq, part, position, ids.get(message.hash)!]));
    if (prepared.bodies) {
      const { request, upstream, response } = prepared.bodies;
      if (request !== null || upstream !== null || response !== null) bodies.push([seq, request, upstream, response]);
    }
  }
  if (links.length > 0) {
    await client.query(
      `INSERT INTO request_messages (request_seq, part, position, message_id) SELECT * FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::bigint[])
       ON CONFLICT (request_seq, part, position) DO UPDATE SET message_id = excluded.message_id`,
      [0, 1, 2, 3].map((column) => links.map((link) => link[column])),
    );
  }
  if (bodies.length > 0) {
    await client.query(
      `INSERT INTO bodies (request_seq, request_json, upstream_request_json, response_json) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (request_seq) DO UPDATE SET request_json = excluded.request_json, upstream_request_json = excluded.upstream_request_json, response_json = excluded.response_json,
         context_json = NULL`,
      [0, 1, 2, 3].map((column) => bodies.map((body) => body[column])),
    );
  }
}

async function addToConversations(client: PostgresClient, items: ReadonlyArray<{ record: StoredRequestRecord; prepared: PreparedRequest }>): Promise<void> {
  const rows = items.filter((item) => item.prepared.conversationId).sort((left, right) => left.prepared.conversationId!.localeCompare(right.prepared.conversationId!));
  // One conversation twice in a batch cannot be in one INSERT … ON CONFLICT: one statement per occurrence then.
  const groups: Array<typeof rows> = [];
  for (const row of rows) {
    const group = groups.find((candidate) => !candidate.some((other) => other.prepared.conversationId === row.prepared.conversationId));
    if (group) group.push(row);
    else groups.push([row]);
  }
  for (const group of groups) {
    const value = (item: (typeof rows)[number]) => {
      const { facts } = item.prepared;
      return [
        item.prepared.conversationId,
        item.prepared.row.started_at,
        item.record.status === 'error' ? 1 : 0,
        facts.cacheHit ? 0 : facts.inputTokens,
        facts.cacheHit ? 0 : facts.outputTokens,
        facts.costNanoUsd,
        facts.priced ? 0 : 1,
        item.record.resolvedModel ?? item.record.requestedModel,
        item.prepared.conversationTitle,
      ];
    };
    const values = group.map(value);
    await client.query(CONVERSATION_UPSERT, values[0]!.map((_unused, column) => values.map((row) => row[column])));
  }
}

/**
 * Completes requests already logged (see the file comment): content when the row has none,
 * the conversation when the row has none.
 */
async function completeExisting(client: PostgresClient, items: ReadonlyArray<{ record: StoredRequestRecord; prepared: PreparedRequest }>): Promise<void> {
  const { rows } = await client.query<{ seq: number; id: string; conversation_id: string | null; has_content: boolean }>(
    `SELECT seq, id, conversation_id,
       EXISTS (SELECT 1 FROM bodies WHERE request_seq = r.seq) OR EXISTS (SELECT 1 FROM request_messages WHERE request_seq = r.seq) AS has_content
     FROM requests r WHERE id = ANY($1::text[]) FOR UPDATE`,
    [items.map((item) => item.record.id)],
  );
  const byId = new Map(items.map((item) => [item.record.id, item]));
  const content: Array<{ seq: number; prepared: PreparedRequest }> = [];
  const conversations: Array<{ record: StoredRequestRecord; prepared: PreparedRequest }> = [];
  for (const row of rows) {
    const item = byId.get(row.id);
    if (!item) continue;
    const { prepared } = item;
    if (!row.has_content && (prepared.bodies !== null || prepared.messageParts.some((part) => part.messages.length > 0))) content.push({ seq: row.seq, prepared });
    if (row.conversation_id === null && prepared.conversationId) {
      await client.query('UPDATE requests SET conversation_id = $1 WHERE seq = $2', [prepared.conversationId, row.seq]);
      conversations.push(item);
    }
  }
  if (content.length > 0) await writeContent(client, content);
  if (conversations.length > 0) await addToConversations(client, conversations);
}

async function writeBatch(client: PostgresClient, records: readonly StoredRequestRecord[], priceBook: PriceBook, storeBodies: boolean): Promise<void> {
  // One record per id (the last): a batch never holds the same request twice.
  const unique = new Map<string, StoredRequestRecord>();
  for (const record of records) unique.set(record.id, record);
  const items = [...unique.values()].map((record) => ({ record, prepared: prepareRequest(record, priceBook, storeBodies) }));
  const insert = unnestInsert('requests', REQUEST_COLUMN_TYPES, items.map((item) => item.prepared.row));
  const inserted = await client.query<{ seq: number; id: string }>(`${insert.sql} ON CONFLICT (id) DO NOTHING RETURNING seq, id`, insert.parameters);
  const seqOf = new Map(inserted.rows.map((row) => [row.id, row.seq]));
  const written: Written[] = [];
  const existing: Array<{ record: StoredRequestRecord; prepared: PreparedRequest }> = [];
  for (const item of items) {
    const seq = seqOf.get(item.record.id);
    if (seq === undefined) existing.push(item);
    else written.push({ seq, ...item });
  }
  if (written.length > 0) {
    const tags = written.flatMap(({ seq, prepared }) => prepared.tags.map((tag) => ({ request_seq: seq, key: tag.key, value: tag.value })));
    if (tags.length > 0) {
      const tagInsert = unnestInsert('request_tags', [['request_seq', 'bigint'], ['key', 'text'], ['value', 'text']], tags);
      await client.query(`${tagInsert.sql} ON CONFLICT DO NOTHING`, tagInsert.parameters);
    }
    const attempts = written.flatMap(({ seq, prepared }) => prepared.attempts.map((attempt) => ({ ...attempt, request_seq: seq })));
    if (attempts.length > 0) {
      const attemptInsert = unnestInsert('attempts', ATTEMPT_COLUMN_TYPES, attempts);
      await client.query(
        `${attemptInsert.sql} ON CONFLICT (request_seq, attempt_index) DO UPDATE SET ${ATTEMPT_COLUMN_TYPES.slice(2).map(([column]) => `${column} = excluded.${column}`).join(', ')}`,
        attemptInsert.parameters,
      );
    }
    await writeContent(client, written);
    await addToConversations(client, written);
    const rollups = new RollupAccumulator();
    for (const { prepared } of written) rollups.add(prepared.row.started_at as number, prepared.rollupKeys, prepared.facts);
    const arrays = rollupArrays(rollups);
    for (const granularity of ['hour', 'day'] as const) {
      if ((arrays[granularity][0]?.length ?? 0) > 0) await client.query(ROLLUP_UPSERTS[granularity], arrays[granularity]);
    }
  }
  if (existing.length > 0) await completeExisting(client, existing);
}

export interface PostgresWriteResult {
  written: number;
  /** Records that could not be written, with why. */
  failed: Array<{ record: StoredRequestRecord; error: Error }>;
}

/** A string PostgreSQL's text takes: it cannot hold U+0000, which a client's title, user or tag may (JSON texts escape it). */
function textSafe(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (!Array.isArray(value)) return value;
  // A column's array is copied only when one of its strings changes (nearly never).
  let copy: unknown[] | null = null;
  for (let index = 0; index < value.length; index += 1) {
    const safe = textSafe(value[index]);
    if (safe !== value[index]) (copy ??= value.slice())[index] = safe;
  }
  return copy ?? value;
}

/** The client with every query's string parameters made textSafe: one character of a request can no longer keep it out of the log. */
function textSafeClient(client: PostgresClient): PostgresClient {
  const query = ((text: unknown, values?: unknown[]) => client.query(text as string, values?.map(textSafe))) as PostgresClient['query'];
  return Object.assign(Object.create(client) as PostgresClient, { query });
}

/**
 * Writes a batch in one transaction. When the batch fails (one hostile record), each
 * record is written alone, one that fails again once more without its bodies, and only
 * what still fails is reported: one bad record never costs the others. A connection
 * error fails the whole batch (thrown): the journal keeps it for the next start.
 */
export async function writeRequestsToPostgres(pool: PostgresPool, records: readonly StoredRequestRecord[], priceBook: PriceBook, storeBodies: boolean): Promise<PostgresWriteResult> {
  if (records.length === 0) return { written: 0, failed: [] };
  try {
    await inTransaction(pool, (client) => writeBatch(textSafeClient(client), records, priceBook, storeBodies), BEGIN_WRITE);
    return { written: records.length, failed: [] };
  } catch (error) {
    if (isConnectionError(error)) throw error;
  }
  const result: PostgresWriteResult = { written: 0, failed: [] };
  for (const record of records) {
    try {
      await inTransaction(pool, (client) => writeBatch(textSafeClient(client), [record], priceBook, storeBodies), BEGIN_WRITE);
      result.written += 1;
    } catch (error) {
      if (isConnectionError(error)) throw error;
      try {
        await inTransaction(pool, (client) => writeBatch(client, [recordWithoutBodies(record, unstorableReason(error))], priceBook, false), BEGIN_WRITE);
        result.written += 1;
      } catch (again) {
        if (isConnectionError(again)) throw again;
        result.failed.push({ record, error: again instanceof Error ? again : new Error(String(again)) });
      }
    }
  }
  return result;
}

/**
 * Errors of the connection rather than of a record, to retry later: server gone, refused,
 * shutting down, or out of connections (53300, "too many clients already").
 */
export function isConnectionError(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  return /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|57P0[1-3]|08\d{3}|53300)$/.test(code) || /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(String((error as Error)?.message));
}

/** Of these request ids, the ones already in the log. */
export async function loggedRequestIds(pool: PostgresPool, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM requests WHERE id = ANY($1::text[])', [ids]);
  return new Set(rows.map((row) => row.id));
}
