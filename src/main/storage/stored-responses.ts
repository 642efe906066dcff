/**
 * Responses kept for later reference (`previous_response_id`, `GET /v1/responses/{id}`): the
 * request log is the store. A Responses answer's log row carries its `response_id`; its
 * stored bodies are the client's request and the response the client got. A stream that failed
 * after it named its response (`response.failed`) is logged as an error with that failed
 * response, which stays retrievable as at OpenAI (`status: "failed"` and its `error`).
 *
 * Engine-neutral: `StoredResponses` is all the gateway sees. SQLite's implementation reads
 * the log on the main thread's connection (one indexed row and its bodies); PostgreSQL's the
 * shared log.
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
import type { ResponseContext } from '../core/record.js';
import { isMissingMessage } from './content-addressing.js';
import { paddedInList, restoredBodiesPlan } from './request-log-queries.js';
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
  /**
   * The conversation the response ends, kept when it continued another (null for one that did
   * not, or one logged before contexts were kept, or without bodies): what its next turn reads.
   */
  context: ResponseContext | null;
}

/** What a chain check needs of one earlier response: is it still logged, whose is it, deleted, with bodies. */
export interface ChainLink {
  gatewayKeyId: string | null;
  deletedAt: number | null;
  hasBodies: boolean;
}

/** What find reads besides the response: its context only when asked (continuing it); GET and DELETE need none. */
export interface FindOptions {
  withContext?: boolean;
}

export interface StoredResponses {
  /** The response with this id, deleted or not, or null when the store has none; `context` read only `withContext`. */
  find(responseId: string, options?: FindOptions): Promise<StoredResponse | null>;
  /**
   * The successful responses among `responseIds` that the log still holds, by id, without their
   * bodies: one statement, whatever the number (the earlier responses of a stored context).
   */
  links(responseIds: readonly string[]): Promise<Map<string, ChainLink>>;
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

/**
 * The response with this id (its latest row: a success, or a failure the client was told the id
 * of; only those rows carry a response id) and its bodies, on either store.
 */
export function* storedResponsePlan(responseId: string, options: FindOptions = {}): Plan<StoredResponse | null> {
  const [row] = yield* rowsOf<ResponseRow>(
    `SELECT seq, status, requested_model, resolved_model, started_at, gateway_key_id, conversation_id FROM requests
     WHERE response_id = ? AND status IN ('success', 'error') ORDER BY seq DESC LIMIT 1`,
    responseId,
  );
  if (!row) return null;
  // Not the upstream body: a pass-through's is the whole conversation again, and nothing here needs it.
  // The context (as long as the conversation) only for a continuation.
  const [bodies] = yield* rowsOf<{ request_json: string | null; response_json: string | null; context_json?: string | null }>(
    options.withContext ? 'SELECT request_json, response_json, context_json FROM bodies WHERE request_seq = ?' : 'SELECT request_json, response_json FROM bodies WHERE request_seq = ?',
    row.seq,
  );
  const parts = bodies
    ? [
        { text: bodies.request_json, part: 'request' as const },
        { text: bodies.response_json, part: 'response' as const },
        { text: bodies.context_json ?? null, part: 'context' as const },
      ]
    : null;
  const [request, response, context] = parts ? yield* restoredBodiesPlan(parts) : [null, null, null];
  const [deleted] = yield* rowsOf<{ deleted_at: number }>('SELECT deleted_at FROM deleted_responses WHERE response_id = ?', responseId);
  return {
    responseId,
    requestBody: objectOrNull(request),
    responseBody: objectOrNull(response),
    model: row.resolved_model ?? row.requested_model,
    createdAt: Number(row.started_at),
    gatewayKeyId: row.gateway_key_id,
    conversationId: row.conversation_id,
    deletedAt: deleted ? Number(deleted.deleted_at) : null,
    failed: row.status !== 'success',
    context: contextOrNull(context),
  };
}

/** The stored context, or null when there is none or it is not whole (an item's message missing): the chain is walked then. */
function contextOrNull(value: unknown): ResponseContext | null {
  const context = objectOrNull(value);
  if (!context || !Array.isArray(context.items) || !Array.isArray(context.chain)) return null;
  if (context.items.some(isMissingMessage)) return null;
  return { items: context.items, chain: context.chain.filter((id): id is string => typeof id === 'string') };
}

const IDS_PER_STATEMENT = 10_000;

/** The successful rows among these response ids, with their deletion and whether bodies are kept (see StoredResponses.links). */
export function* chainLinksPlan(responseIds: readonly string[]): Plan<Map<string, ChainLink>> {
  const links = new Map<string, ChainLink>();
  for (let start = 0; start < responseIds.length; start += IDS_PER_STATEMENT) {
    const chunk = paddedInList(responseIds.slice(start, start + IDS_PER_STATEMENT));
    const rows = yield* rowsOf<{ response_id: string; gateway_key_id: string | null; deleted_at: number | null; has_bodies: number | boolean }>(
      `SELECT r.response_id, r.gateway_key_id, d.deleted_at,
         EXISTS (SELECT 1 FROM bodies b WHERE b.request_seq = r.seq AND b.request_json IS NOT NULL AND b.response_json IS NOT NULL) AS has_bodies
       FROM requests r LEFT JOIN deleted_responses d ON d.response_id = r.response_id
       WHERE r.response_id IN (${chunk.sql}) AND r.status = 'success'`,
      ...chunk.parameters,
    );
    for (const row of rows) {
      const link = { gatewayKeyId: row.gateway_key_id, deletedAt: row.deleted_at === null ? null : Number(row.deleted_at), hasBodies: row.has_bodies === true || Number(row.has_bodies) === 1 };
      // Several rows of one id (never made by this gateway, but a log may hold them): one with bodies counts.
      const known = links.get(row.response_id);
      if (!known || (!known.hasBodies && link.hasBodies)) links.set(row.response_id, link);
    }
  }
  return links;
}

/** The SQLite request log as the response store. */
export function sqliteStoredResponses(database: SqliteDatabase): StoredResponses {
  return {
    find: async (responseId, options) => runOnSqlite(database, storedResponsePlan(responseId, options)),
    links: async (responseIds) => runOnSqlite(database, chainLinksPlan(responseIds)),
    delete: async (responseId, at = Date.now()) => {
      database.prepare(DELETE_SQL).run(responseId, at);
    },
  };
}

/** How often, and how long apart, PostgreSQL is asked again for a response another instance may not have committed yet. */
const OTHER_INSTANCE_RETRIES = 6;
const OTHER_INSTANCE_RETRY_MS = 50;

/**
 * The shared PostgreSQL log as the response store: a response given by one instance
 * continues on any other. Behind a load balancer the next turn may reach another instance
 * before the one that answered has committed (its writer batches every 50 ms, and commits
 * a Responses answer at once), so an id not found is asked for again for up to ~300 ms.
 */
export function postgresStoredResponses(pool: PostgresPool, retries = OTHER_INSTANCE_RETRIES): StoredResponses {
  return {
    async find(responseId, options) {
      for (let attempt = 0; ; attempt += 1) {
        const found = await runOnPostgres(pool, storedResponsePlan(responseId, options));
        if (found || attempt >= retries) return found;
        await new Promise((resolve) => setTimeout(resolve, OTHER_INSTANCE_RETRY_MS));
      }
    },
    links: (responseIds) => runOnPostgres(pool, chainLinksPlan(responseIds)),
    async delete(responseId, at = Date.now()) {
      await pool.query(postgresText(DELETE_SQL), [responseId, at]);
    },
  };
}

/** The store, asked once more after the log committed what it holds when an id is not found at first. */
export function afterCommit(store: StoredResponses, log: Pick<RequestLogSink, 'committed' | 'pendingCount'>): StoredResponses {
  return {
    async find(responseId, options) {
      const found = await store.find(responseId, options);
      if (found || log.pendingCount === 0) return found;
      await log.committed();
      return store.find(responseId, options);
    },
    // The earlier responses of a stored context were committed before it was written.
    links: (responseIds) => store.links(responseIds),
    delete: (responseId, at) => store.delete(responseId, at),
  };
}
