/**
 * Numbered schema migrations. Migration i (0-based) moves `PRAGMA user_version` from i to
 * i + 1; the array is append-only: never edit a shipped entry, add a new one.
 *
 * Layout (migration 1):
 * - requests: one row per client request (every RequestRecord field, cost and flags).
 *   `seq` (the rowid) is what the other tables reference: it grows with insertion, so
 *   their rows are appended, whatever the shape of the gateway's request ids.
 * - request_tags: tags as rows, so "cost by tag" is an indexed query.
 * - attempts: one row per upstream attempt.
 * - messages + request_messages: each distinct message stored once, found by a hash of
 *   its content (`hash`, 16 bytes, unique); a request references its messages by message id
 *   (part 0 = client request, 1 = upstream request, 2 = response), so an n-turn
 *   conversation stores O(n) message contents and only small (~12-byte) O(n²) references.
 * - bodies: request / upstream / response JSON with message lists replaced by
 *   `{"$message": hash}` references.
 * - conversations: per-conversation totals, maintained by the writer.
 * - rollup_hourly / rollup_daily: per UTC hour and per UTC day aggregates for each
 *   dimension (total, model+provider, gateway key, user, tag key+value), with a fixed
 *   latency histogram for p95 (see rollups.ts).
 */
import { LATENCY_BUCKET_COLUMNS } from './latency-histogram.js';

const rollupMetricColumns = [
  'requests INTEGER NOT NULL DEFAULT 0',
  'errors INTEGER NOT NULL DEFAULT 0',
  'cancelled INTEGER NOT NULL DEFAULT 0',
  'input_tokens INTEGER NOT NULL DEFAULT 0',
  'cached_input_tokens INTEGER NOT NULL DEFAULT 0',
  'cache_write_input_tokens INTEGER NOT NULL DEFAULT 0',
  'output_tokens INTEGER NOT NULL DEFAULT 0',
  'reasoning_tokens INTEGER NOT NULL DEFAULT 0',
  'cost_nano_usd INTEGER NOT NULL DEFAULT 0',
  'unpriced_requests INTEGER NOT NULL DEFAULT 0',
  'estimated_requests INTEGER NOT NULL DEFAULT 0',
  'cache_hits INTEGER NOT NULL DEFAULT 0',
  'cache_savings_nano_usd INTEGER NOT NULL DEFAULT 0',
  'cache_read_savings_nano_usd INTEGER NOT NULL DEFAULT 0',
  'latency_sum_ms INTEGER NOT NULL DEFAULT 0',
  'latency_max_ms INTEGER NOT NULL DEFAULT 0',
  'time_to_first_token_sum_ms INTEGER NOT NULL DEFAULT 0',
  'time_to_first_token_count INTEGER NOT NULL DEFAULT 0',
  ...LATENCY_BUCKET_COLUMNS.map((column) => `${column} INTEGER NOT NULL DEFAULT 0`),
];

function rollupTable(name: string): string {
  return `CREATE TABLE ${name} (
  dimension TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  value TEXT NOT NULL,
  detail TEXT NOT NULL,
  ${rollupMetricColumns.join(',\n  ')},
  PRIMARY KEY (dimension, period_start, value, detail)
) WITHOUT ROWID;`;
}

const migrationOne = `
CREATE TABLE requests (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  requested_model TEXT,
  resolved_model TEXT,
  provider TEXT,
  status TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  error_type TEXT,
  error_message TEXT,
  stream INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  usage_raw_json TEXT,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_nano_usd INTEGER NOT NULL DEFAULT 0,
  priced INTEGER NOT NULL,
  cache_hit INTEGER NOT NULL DEFAULT 0,
  cache_savings_nano_usd INTEGER NOT NULL DEFAULT 0,
  cache_read_savings_nano_usd INTEGER NOT NULL DEFAULT 0,
  time_to_first_token_ms INTEGER,
  latency_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  finish_reason TEXT,
  gateway_key_id TEXT,
  user TEXT,
  conversation_id TEXT,
  warnings_json TEXT
);
-- Covering: the analytics read partial hours at a range's edges from this index alone.
CREATE INDEX requests_started_at ON requests(
  started_at, status, cache_hit, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens,
  reasoning_tokens, cost_nano_usd, priced, usage_estimated, cache_savings_nano_usd, cache_read_savings_nano_usd,
  latency_ms, time_to_first_token_ms, resolved_model, requested_model, provider, gateway_key_id, user
);
CREATE INDEX requests_model ON requests(resolved_model, started_at);
CREATE INDEX requests_provider ON requests(provider, started_at);
CREATE INDEX requests_gateway_key ON requests(gateway_key_id, started_at);
CREATE INDEX requests_user ON requests(user, started_at);
CREATE INDEX requests_conversation ON requests(conversation_id, started_at);

CREATE TABLE request_tags (
  request_seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (request_seq, key, value)
) WITHOUT ROWID;
CREATE INDEX request_tags_key_value ON request_tags(key, value);

CREATE TABLE attempts (
  request_seq INTEGER NOT NULL,
  attempt_index INTEGER NOT NULL,
  provider TEXT,
  model TEXT,
  started_at INTEGER,
  ended_at INTEGER,
  latency_ms INTEGER,
  http_status INTEGER,
  status TEXT,
  error_type TEXT,
  error_message TEXT,
  PRIMARY KEY (request_seq, attempt_index)
) WITHOUT ROWID;

CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  role TEXT,
  content_json TEXT NOT NULL
);

CREATE TABLE request_messages (
  request_seq INTEGER NOT NULL,
  part INTEGER NOT NULL,
  position INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  PRIMARY KEY (request_seq, part, position)
) WITHOUT ROWID;

CREATE TABLE bodies (
  request_seq INTEGER PRIMARY KEY,
  request_json TEXT,
  upstream_request_json TEXT,
  response_json TEXT
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  first_started_at INTEGER NOT NULL,
  last_started_at INTEGER NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_nano_usd INTEGER NOT NULL DEFAULT 0,
  unpriced_requests INTEGER NOT NULL DEFAULT 0,
  last_model TEXT,
  title TEXT
) WITHOUT ROWID;
CREATE INDEX conversations_last_started_at ON conversations(last_started_at);

${rollupTable('rollup_hourly')}
${rollupTable('rollup_daily')}
`;

/**
 * Migration 2: gateway keys (what clients send). Only the key's SHA-256 digest and a short
 * display prefix are stored, never the key (see gateway-keys.ts).
 */
const migrationTwo = `
CREATE TABLE gateway_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_digest BLOB NOT NULL UNIQUE,
  tags_json TEXT NOT NULL DEFAULT '[]',
  allowed_models_json TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at INTEGER,
  revoked_at INTEGER
);
`;

/**
 * Migration 3: the trace id a request was exported under (OpenTelemetry, shown in the
 * inspector) and the id of the response the gateway gave (a Responses API `resp_…`), so
 * a later `previous_response_id` or `GET /v1/responses/{id}` finds it by index.
 */
const migrationThree = `
ALTER TABLE requests ADD COLUMN trace_id TEXT;
ALTER TABLE requests ADD COLUMN response_id TEXT;
CREATE INDEX requests_response_id ON requests(response_id) WHERE response_id IS NOT NULL;
`;

/**
 * Migration 4: Responses answers deleted by their client (`DELETE /v1/responses/{id}`). The log
 * row stays (it is the record of a request made, its cost and usage); the id is no longer found
 * for `GET /v1/responses/{id}`, its input items or `previous_response_id`.
 */
const migrationFour = `
CREATE TABLE deleted_responses (
  response_id TEXT PRIMARY KEY,
  deleted_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Migration 5: a Responses answer that continued a logged one keeps the conversation it ends
 * (`context_json`: `{"items": [message references], "chain": [response ids]}`, its items stored
 * as messages, referenced as part 3), so the next turn reads that one response instead of
 * walking back through every predecessor. Rows from before have none: they are walked.
 *
 * Written no more, and not read: that copy of the whole conversation per turn made the log grow
 * with the square of a conversation. A turn now walks back through each request's
 * previous_response_id in one statement (stored-responses.ts `walk`). Rows an earlier build
 * wrote keep their context text and part-3 message links until retention removes them with
 * their request, as it removes every part's links.
 */
const migrationFive = `
ALTER TABLE bodies ADD COLUMN context_json TEXT;
`;

/**
 * Migration 6: the response a Responses request continued (its body's `previous_response_id`), so
 * a continuation walks back through a conversation by index alone (stored-responses.ts `walk`),
 * with no JSON read in SQL. Rows from before have none: a walk goes on from their bodies.
 */
const migrationSix = `
ALTER TABLE requests ADD COLUMN previous_response_id TEXT;
`;

/**
 * Migration 7: `requests_model` dropped. No query can use it: the request list's model filter
 * matches `resolved_model` or `requested_model` (an OR over two columns, which SQLite answers from
 * `requests_started_at`), and the analytics read models from the rollups and the covering
 * `requests_started_at`. It cost every logged request a B-tree insert and about 7 % of the pages a
 * batch writes (docs/benchmarks.md, ninth session).
 */
const migrationSeven = `
DROP INDEX IF EXISTS requests_model;
`;

/** Ordered SQL scripts; index i upgrades a database at user_version i. */
export const migrations: readonly string[] = [migrationOne, migrationTwo, migrationThree, migrationFour, migrationFive, migrationSix, migrationSeven];
