/**
 * Responses kept for later reference (`previous_response_id`, `GET /v1/responses/{id}`): the
 * request log is the store. A Responses answer's log row carries its `response_id`; its
 * stored bodies are the client's request and the response the client got. A stream that failed
 * after it named its response (`response.failed`) is logged as an error with that failed
 * response, which stays retrievable as at OpenAI (`status: "failed"` and its `error`).
 *
 * Engine-neutral: `StoredResponses` is all the gateway sees. SQLite's implementation reads
 * the log on the main thread's connection (one indexed row and its bodies; a chain with one
 * recursive statement over an indexed column); PostgreSQL's the shared log, with the same SQL.
 *
 * A client may delete a response (`DELETE /v1/responses/{id}`): the deletion is recorded in
 * `deleted_responses` and the log row kept (the record of a request made, its usage and cost);
 * `find` still returns it, marked deleted, so the gateway answers "not found" rather than
 * taking the id for one only OpenAI knows.
 *
 * The writer commits off the response path (a worker thread, in batches), so a response the
 * client just received may not be in the store yet when its next turn arrives:
 * `afterCommit` asks the store again once the log has committed what it was handed, so a
 * lookup right after an answer is never lost.
 */
import type { SqliteDatabase } from './database.js';
import type { PostgresPool } from './postgres/connection.js';
import { BODY_LINKS, paddedInList, restoredBodiesPlan } from './request-log-queries.js';
import { postgresText, rowsOf, runOnPostgres, runOnSqlite, type Plan } from './sql-plan.js';
import type { RequestLogSink } from './store.js';

export interface StoredResponse {
  responseId: string;
  /** The client's request body as it came (it may name its own previous_response_id); null when the log keeps no bodies. */
  requestBody: Record<string, unknown> | null;
  /** The response object the client got; null when the log keeps no bodies. */
  responseBody: Record<string, unknown> | null;
  /** The model that answered (else the one asked for). */
  model: string | null;
  createdAt: number;
  /** The gateway key the response was made with (responses are not shared across keys). */
  gatewayKeyId: string | null;
  /** The conversation the response belongs to in the log (a continuation joins it). */
  conversationId: string | null;
  /** When its client deleted it (ms), or null: a deleted response is found by no one. */
  deletedAt: number | null;
  /** The request failed after the client was given this id (its body is the failed response). */
  failed: boolean;
}

/** One response of a chain as `walk` read it: the id, and what the log holds under it (null: nothing). */
export interface ChainStep {
  responseId: string;
  found: StoredResponse | null;
}

export interface StoredResponses {
  /** The response with this id, deleted or not, or null when the store has none. */
  find(responseId: string): Promise<StoredResponse | null>;
  /**
   * The chain of responses that ends at `responseId`, newest first, in a fixed number of
   * statements: each step is the response its predecessor's request named as
   * `previous_response_id`. The walk goes on while a step is a successful, undeleted response of
   * `gatewayKeyId` (any key's when null) logged with that id, for at most `limit` steps; a last
   * step the log does not hold has `found: null`; a step walked before (a cycle) ends it, without
   * its bodies. Rows logged before the id had its own column end the walk where their body still
   * names one: the caller walks on from there.
   */
  walk(responseId: string, limit: number, gatewayKeyId?: string | null): Promise<ChainStep[]>;
  /** Records the response as deleted (its log row stays). */
  delete(responseId: string, at?: number): Promise<void>;
}

const DELETE_SQL = 'INSERT INTO deleted_responses (response_id, deleted_at) VALUES (?, ?) ON CONFLICT (response_id) DO NOTHING';

function objectOrNull(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

interface ResponseRow {
  seq: number;
  status: string;
  requested_model: string | null;
  resolved_model: string | null;
  started_at: number;
  gateway_key_id: string | null;
  conversation_id: string | null;
}

/** The response's row as StoredResponse, with its bodies restored. */
function storedResponseOf(responseId: string, row: Omit<ResponseRow, 'seq'>, request: unknown, response: unknown, deletedAt: number | string | null): StoredResponse {
  return {
    responseId,
    requestBody: objectOrNull(request),
    responseBody: objectOrNull(response),
    model: row.resolved_model ?? row.requested_model,
    createdAt: Number(row.started_at),
    gatewayKeyId: row.gateway_key_id,
    conversationId: row.conversation_id,
    deletedAt: deletedAt === null ? null : Number(deletedAt),
    failed: row.status !== 'success',
  };
}

/** The seq of a response id's latest row (a success, or a failure the client was told the id of; only those rows carry a response id). */
const latestRowOf = (responseId: string): string =>
  `(SELECT x.seq FROM requests x WHERE x.response_id = ${responseId} AND x.status IN ('success', 'error') ORDER BY x.seq DESC LIMIT 1)`;

const RESPONSE_COLUMNS = 'r.seq, r.status, r.requested_model, r.resolved_model, r.started_at, r.gateway_key_id, r.conversation_id';

/** The response with this id (its latest row) and its bodies, on either store. */
export function* storedResponsePlan(responseId: string): Plan<StoredResponse | null> {
  const [row] = yield* rowsOf<ResponseRow & { deleted_at: number | null }>(
    `SELECT ${RESPONSE_COLUMNS}, d.deleted_at FROM requests r LEFT JOIN deleted_responses d ON d.response_id = r.response_id
     WHERE r.seq = ${latestRowOf('?')}`,
    responseId,
  );
  if (!row) return null;
  // Not the upstream body: a pass-through's is the whole conversation again, and nothing here needs it.
  const [bodies] = yield* rowsOf<{ request_json: string | null; response_json: string | null }>('SELECT request_json, response_json FROM bodies WHERE request_seq = ?', row.seq);
  const [request, response] = bodies
    ? yield* restoredBodiesPlan([
        { seq: row.seq, text: bodies.request_json, part: 'request', links: BODY_LINKS.request },
        { seq: row.seq, text: bodies.response_json, part: 'response', links: BODY_LINKS.response },
      ])
    : [null, null];
  return storedResponseOf(responseId, row, request, response, row.deleted_at);
}

interface ChainRow extends Omit<ResponseRow, 'seq'> {
  response_id: string;
  /** Null (as the other columns) for an id the log does not hold. */
  seq: number | null;
  deleted_at: number | null;
}

const IDS_PER_STATEMENT = 10_000;

/**
 * The chain ending at `responseId` (see StoredResponses.walk). A recursive statement follows each
 * step's `previous_response_id` column (SQLite migration 6, PostgreSQL 7) by the response-id
 * index, reading no bodies; then the bodies of the steps, and the messages they reference, are
 * read in one statement each. A step already walked (a cycle) ends the list, without its bodies.
 * So a turn of an n-turn conversation reads its predecessors in a fixed number of statements,
 * and nothing is stored per turn for it but the turn's own bodies and that one id.
 */
export function* responseChainPlan(responseId: string, limit: number, gatewayKeyId: string | null = null): Plan<ChainStep[]> {
  const walked = yield* rowsOf<ChainRow>(
    `WITH RECURSIVE walk(depth, response_id) AS (
       SELECT 0, CAST(? AS TEXT)
       UNION ALL
       SELECT w.depth + 1, r.previous_response_id
       FROM walk w
       JOIN requests r ON r.seq = ${latestRowOf('w.response_id')}
       WHERE w.depth + 1 < ? AND r.status = 'success' AND r.previous_response_id IS NOT NULL
         AND (CAST(? AS TEXT) IS NULL OR r.gateway_key_id IS NULL OR r.gateway_key_id = ?)
         AND NOT EXISTS (SELECT 1 FROM deleted_responses d WHERE d.response_id = w.response_id)
     )
     SELECT w.response_id, ${RESPONSE_COLUMNS}, d.deleted_at
     FROM walk w
     LEFT JOIN requests r ON r.seq = ${latestRowOf('w.response_id')}
     LEFT JOIN deleted_responses d ON d.response_id = w.response_id
     ORDER BY w.depth`,
    responseId,
    limit,
    gatewayKeyId,
    gatewayKeyId,
  );
  // Up to the first step seen before (a cycle): the caller refuses the chain there.
  const seen = new Set<string>();
  const repeat = walked.findIndex((row) => (seen.has(row.response_id) ? true : (seen.add(row.response_id), false)));
  const rows = repeat < 0 ? walked : walked.slice(0, repeat + 1);
  const withBodies = rows.slice(0, repeat < 0 ? rows.length : repeat).filter((row) => row.seq !== null && row.seq !== undefined);
  const bodies = new Map<number, { request_json: string | null; response_json: string | null }>();
  for (let start = 0; start < withBodies.length; start += IDS_PER_STATEMENT) {
    const chunk = paddedInList(withBodies.slice(start, start + IDS_PER_STATEMENT).map((row) => row.seq));
    const found = yield* rowsOf<{ request_seq: number | string; request_json: string | null; response_json: string | null }>(
      `SELECT request_seq, request_json, response_json FROM bodies WHERE request_seq IN (${chunk.sql})`,
      ...chunk.parameters,
    );
    for (const body of found) bodies.set(Number(body.request_seq), body);
  }
  const restored = yield* restoredBodiesPlan(
    withBodies.flatMap((row) => [
      { seq: Number(row.seq), text: bodies.get(Number(row.seq))?.request_json ?? null, part: 'request' as const, links: BODY_LINKS.request },
      { seq: Number(row.seq), text: bodies.get(Number(row.seq))?.response_json ?? null, part: 'response' as const, links: BODY_LINKS.response },
    ]),
  );
  const restoredBySeq = new Map(withBodies.map((row, index) => [Number(row.seq), [restored[index * 2], restored[index * 2 + 1]] as const]));
  return rows.map((row, index) => {
    if (row.seq === null || row.seq === undefined) return { responseId: row.response_id, found: null };
    const [request, response] = (index !== repeat && restoredBySeq.get(Number(row.seq))) || [null, null];
    return { responseId: row.response_id, found: storedResponseOf(row.response_id, row, request, response, row.deleted_at) };
  });
}

/** The SQLite request log as the response store. */
export function sqliteStoredResponses(database: SqliteDatabase): StoredResponses {
  return {
    find: async (responseId) => runOnSqlite(database, storedResponsePlan(responseId)),
    walk: async (responseId, limit, gatewayKeyId) => runOnSqlite(database, responseChainPlan(responseId, limit, gatewayKeyId)),
    delete: async (responseId, at = Date.now()) => {
      database.prepare(DELETE_SQL).run(responseId, at);
    },
  };
}

/** How often, and how long apart, PostgreSQL is asked again for a response another instance may not have committed yet. */
const OTHER_INSTANCE_RETRIES = 6;
const OTHER_INSTANCE_RETRY_MS = 50;

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, OTHER_INSTANCE_RETRY_MS));

/**
 * The shared PostgreSQL log as the response store: a response given by one instance
 * continues on any other. Behind a load balancer the next turn may reach another instance
 * before the one that answered has committed (its writer batches every 50 ms, and commits
 * a Responses answer at once), so an id not found is asked for again for up to ~300 ms.
 */
export function postgresStoredResponses(pool: PostgresPool, retries = OTHER_INSTANCE_RETRIES): StoredResponses {
  return {
    async find(responseId) {
      for (let attempt = 0; ; attempt += 1) {
        const found = await runOnPostgres(pool, storedResponsePlan(responseId));
        if (found || attempt >= retries) return found;
        await pause();
      }
    },
    async walk(responseId, limit, gatewayKeyId) {
      // Only the newest may be missing for that reason: each earlier one was answered before its next turn was asked.
      for (let attempt = 0; ; attempt += 1) {
        const steps = await runOnPostgres(pool, responseChainPlan(responseId, limit, gatewayKeyId));
        if (steps[0]?.found || attempt >= retries) return steps;
        await pause();
      }
    },
    async delete(responseId, at = Date.now()) {
      await pool.query(postgresText(DELETE_SQL), [responseId, at]);
    },
  };
}

/** The store, asked once more after the log committed what it holds when an id is not found at first. */
export function afterCommit(store: StoredResponses, log: Pick<RequestLogSink, 'committed' | 'pendingCount'>): StoredResponses {
  return {
    async find(responseId) {
      const found = await store.find(responseId);
      if (found || log.pendingCount === 0) return found;
      await log.committed();
      return store.find(responseId);
    },
    async walk(responseId, limit, gatewayKeyId) {
      const steps = await store.walk(responseId, limit, gatewayKeyId);
      if (steps[0]?.found || log.pendingCount === 0) return steps;
      await log.committed();
      return store.walk(responseId, limit, gatewayKeyId);
    },
    delete: (responseId, at) => store.delete(responseId, at),
  };
}
