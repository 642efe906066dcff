/**
 * Responses kept for later reference (`previous_response_id`, `GET /v1/responses/{id}`): the
 * request log is the store. A Responses answer's log row carries its `response_id`; its
 * stored bodies are the client's request and the response the client got. A stream that failed
 * after it named its response (`response.failed`) is logged as an error with that failed
 * response, which stays retrievable as at OpenAI (`status: "failed"` and its `error`).
 *
 * Engine-neutral: `StoredResponses` is all the gateway sees. SQLite's implementation reads
 * the log on the main thread's connection (one indexed row and its bodies; a chain in one
 * recursive statement); PostgreSQL's the shared log, with the same SQL.
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
import { restoredBodiesPlan } from './request-log-queries.js';
import { postgresText, rowsOf, runOnPostgres, runOnSqlite, type Plan, type SqlDialect } from './sql-plan.js';
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
   * The chain of responses that ends at `responseId`, newest first, in one statement: each step
   * is the response its predecessor's request named as `previous_response_id`. The walk goes on
   * while a step is a successful, undeleted response with bodies that names a previous one, for
   * at most `limit` steps; a last step the log does not hold has `found: null`.
   */
  walk(responseId: string, limit: number): Promise<ChainStep[]>;
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
function storedResponseOf(responseId: string, row: ResponseRow, request: unknown, response: unknown, deletedAt: number | string | null): StoredResponse {
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
        { seq: row.seq, text: bodies.request_json, part: 'request' },
        { seq: row.seq, text: bodies.response_json, part: 'response' },
      ])
    : [null, null];
  return storedResponseOf(responseId, row, request, response, row.deleted_at);
}

/**
 * A walk's next step: the `previous_response_id` its request body names, when that is a string
 * (SQL text or NULL). Every stored body is a text JSON.stringify made (bodies.request_json).
 */
const PREVIOUS_ID: Record<SqlDialect['engine'], string> = {
  sqlite: "CASE WHEN json_valid(b.request_json) THEN CASE WHEN json_type(b.request_json, '$.previous_response_id') = 'text' THEN json_extract(b.request_json, '$.previous_response_id') END END",
  postgres: "CASE WHEN json_typeof(b.request_json::json -> 'previous_response_id') = 'string' THEN b.request_json::json ->> 'previous_response_id' END",
};

interface ChainRow extends ResponseRow {
  response_id: string;
  seq: number;
  deleted_at: number | null;
  request_json: string | null;
  response_json: string | null;
}

/**
 * The chain ending at `responseId` (see StoredResponses.walk): a recursive statement follows each
 * step's request body to the response it continued, so a turn of an n-turn conversation reads its
 * n - 1 predecessors' rows and bodies in one statement, and nothing is stored per turn but that
 * turn's own bodies. The messages of all those bodies are then read in one more statement.
 */
export function* responseChainPlan(engine: SqlDialect['engine'], responseId: string, limit: number): Plan<ChainStep[]> {
  const previous = PREVIOUS_ID[engine];
  const rows = yield* rowsOf<ChainRow>(
    `WITH RECURSIVE walk(depth, response_id) AS (
       SELECT 0, CAST(? AS TEXT)
       UNION ALL
       SELECT w.depth + 1, ${previous}
       FROM walk w
       JOIN requests r ON r.seq = ${latestRowOf('w.response_id')}
       JOIN bodies b ON b.request_seq = r.seq
       WHERE w.depth + 1 < ? AND r.status = 'success'
         AND NOT EXISTS (SELECT 1 FROM deleted_responses d WHERE d.response_id = w.response_id)
         AND ${previous} IS NOT NULL
     )
     SELECT w.response_id, ${RESPONSE_COLUMNS}, d.deleted_at, b.request_json, b.response_json
     FROM walk w
     LEFT JOIN requests r ON r.seq = ${latestRowOf('w.response_id')}
     LEFT JOIN bodies b ON b.request_seq = r.seq
     LEFT JOIN deleted_responses d ON d.response_id = w.response_id
     ORDER BY w.depth`,
    responseId,
    limit,
  );
  const restored = yield* restoredBodiesPlan(rows.flatMap((row) => [
    { seq: row.seq, text: row.request_json ?? null, part: 'request' as const },
    { seq: row.seq, text: row.response_json ?? null, part: 'response' as const },
  ]));
  return rows.map((row, index) =>
    row.seq === null || row.seq === undefined ? { responseId: row.response_id, found: null } : { responseId: row.response_id, found: storedResponseOf(row.response_id, row, restored[index * 2], restored[index * 2 + 1], row.deleted_at) },
  );
}

/** The SQLite request log as the response store. */
export function sqliteStoredResponses(database: SqliteDatabase): StoredResponses {
  return {
    find: async (responseId) => runOnSqlite(database, storedResponsePlan(responseId)),
    walk: async (responseId, limit) => runOnSqlite(database, responseChainPlan('sqlite', responseId, limit)),
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
    async walk(responseId, limit) {
      // Only the newest may be missing for that reason: each earlier one was answered before its next turn was asked.
      for (let attempt = 0; ; attempt += 1) {
        const steps = await runOnPostgres(pool, responseChainPlan('postgres', responseId, limit));
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
    async walk(responseId, limit) {
      const steps = await store.walk(responseId, limit);
      if (steps[0]?.found || log.pendingCount === 0) return steps;
      await log.committed();
      return store.walk(responseId, limit);
    },
    delete: (responseId, at) => store.delete(responseId, at),
  };
}
