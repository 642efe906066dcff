/**
 * Responses kept for later reference (`previous_response_id`, `GET /v1/responses/{id}`): the
 * request log is the store. A Responses answer's log row carries its `response_id`; its
 * stored bodies are the client's request and the response the client got.
 *
 * Engine-neutral: `StoredResponses` is all the gateway sees. SQLite's implementation reads
 * the log on the main thread's connection (one indexed row and its bodies); a PostgreSQL one
 * only needs `find`.
 *
 * The writer commits off the response path (a worker thread, in batches), so a response the
 * client just received may not be in the store yet when its next turn arrives:
 * `afterCommit` asks the store again once the log has committed what it was handed, so a
 * lookup right after an answer is never lost.
 */
import type { SqliteDatabase } from './database.js';
import { storedBodies } from './request-log-queries.js';
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
}

export interface StoredResponses {
  /** The response with this id, or null when the store has none. */
  find(responseId: string): Promise<StoredResponse | null>;
}

function objectOrNull(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

interface ResponseRow {
  seq: number;
  requested_model: string | null;
  resolved_model: string | null;
  started_at: number;
  gateway_key_id: string | null;
  conversation_id: string | null;
}

/** The SQLite request log as the response store. */
export function sqliteStoredResponses(database: SqliteDatabase): StoredResponses {
  const byId = database.prepare(
    `SELECT seq, requested_model, resolved_model, started_at, gateway_key_id, conversation_id FROM requests
     WHERE response_id = ? AND status = 'success' ORDER BY seq DESC LIMIT 1`,
  );
  return {
    async find(responseId) {
      const row = byId.get(responseId) as ResponseRow | undefined;
      if (!row) return null;
      const bodies = storedBodies(database, row.seq);
      return {
        responseId,
        requestBody: objectOrNull(bodies?.request),
        responseBody: objectOrNull(bodies?.response),
        model: row.resolved_model ?? row.requested_model,
        createdAt: row.started_at,
        gatewayKeyId: row.gateway_key_id,
        conversationId: row.conversation_id,
      };
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
  };
}
