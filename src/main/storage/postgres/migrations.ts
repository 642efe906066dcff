/**
 * PostgreSQL's numbered migrations: the same tables as SQLite's (../migrations.ts), in
 * PostgreSQL's types (BIGINT times and costs, BYTEA hashes, identity columns), so both
 * stores hold the same data. Append-only, like SQLite's: never edit a shipped entry.
 *
 * Several instances may start at once against a fresh database: `migratePostgres` takes
 * a session advisory lock first, so exactly one applies each migration (each in its own
 * transaction, with the version bump) while the others wait and then find nothing to do.
 */
import { LATENCY_BUCKET_COLUMNS } from '../latency-histogram.js';
import type { PostgresPool } from './connection.js';

/** The advisory lock key (any fixed 64-bit number; this one spells "switchyd"). */
export const MIGRATION_LOCK_KEY = '8319395793566558564';

const rollupMetricColumns = [
  'requests', 'errors', 'cancelled', 'input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens',
  'reasoning_tokens', 'cost_nano_usd', 'unpriced_requests', 'estimated_requests', 'cache_hits', 'cache_savings_nano_usd',
  'cache_read_savings_nano_usd', 'latency_sum_ms', 'latency_max_ms', 'time_to_first_token_sum_ms', 'time_to_first_token_count',
  ...LATENCY_BUCKET_COLUMNS,
];

function rollupTable(name: string): string {
  return `CREATE TABLE ${name} (
  dimension TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  value TEXT NOT NULL,
  detail TEXT NOT NULL,
  ${rollupMetricColumns.map((column) => `${column} BIGINT NOT NULL DEFAULT 0`).join(',\n  ')},
  PRIMARY KEY (dimension, period_start, value, detail)
);`;
}

/** The request log, as SQLite's migrations 1 and 3 leave it ("user" is quoted: a reserved word here). */
const migrationOne = `
CREATE TABLE requests (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  started_at BIGINT NOT NULL,
  ended_at BIGINT NOT NULL,
  endpoint TEXT NOT NULL,
  requested_model TEXT,
  resolved_model TEXT,
  provider TEXT,
  status TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  error_type TEXT,
  error_message TEXT,
  stream INTEGER NOT NULL,
  input_tokens BIGINT NOT NULL DEFAULT 0,
  cached_input_tokens BIGINT NOT NULL DEFAULT 0,
  cache_write_input_tokens BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  reasoning_tokens BIGINT NOT NULL DEFAULT 0,
  usage_raw_json TEXT,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_nano_usd BIGINT NOT NULL DEFAULT 0,
  priced INTEGER NOT NULL,
  cache_hit INTEGER NOT NULL DEFAULT 0,
  cache_savings_nano_usd BIGINT NOT NULL DEFAULT 0,
  cache_read_savings_nano_usd BIGINT NOT NULL DEFAULT 0,
  time_to_first_token_ms BIGINT,
  latency_ms BIGINT NOT NULL,
  attempts INTEGER NOT NULL,
  finish_reason TEXT,
  gateway_key_id TEXT,
  "user" TEXT,
  conversation_id TEXT,
  warnings_json TEXT,
  trace_id TEXT,
  response_id TEXT
);
CREATE INDEX requests_started_at ON requests (started_at);
CREATE INDEX requests_model ON requests (resolved_model, started_at);
CREATE INDEX requests_provider ON requests (provider, started_at);
CREATE INDEX requests_gateway_key ON requests (gateway_key_id, started_at);
CREATE INDEX requests_user ON requests ("user", started_at);
CREATE INDEX requests_conversation ON requests (conversation_id, started_at);
CREATE INDEX requests_response_id ON requests (response_id) WHERE response_id IS NOT NULL;

CREATE TABLE request_tags (
  request_seq BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (request_seq, key, value)
);
CREATE INDEX request_tags_key_value ON request_tags (key, value);

CREATE TABLE attempts (
  request_seq BIGINT NOT NULL,
  attempt_index INTEGER NOT NULL,
  provider TEXT,
  model TEXT,
  started_at BIGINT,
  ended_at BIGINT,
  latency_ms BIGINT,
  http_status INTEGER,
  status TEXT,
  error_type TEXT,
  error_message TEXT,
  PRIMARY KEY (request_seq, attempt_index)
);

CREATE TABLE messages (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hash BYTEA NOT NULL UNIQUE,
  role TEXT,
  content_json TEXT NOT NULL
);

CREATE TABLE request_messages (
  request_seq BIGINT NOT NULL,
  part INTEGER NOT NULL,
  position INTEGER NOT NULL,
  message_id BIGINT NOT NULL,
  PRIMARY KEY (request_seq, part, position)
);

CREATE TABLE bodies (
  request_seq BIGINT PRIMARY KEY,
  request_json TEXT,
  upstream_request_json TEXT,
  response_json TEXT
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  first_started_at BIGINT NOT NULL,
  last_started_at BIGINT NOT NULL,
  requests BIGINT NOT NULL DEFAULT 0,
  errors BIGINT NOT NULL DEFAULT 0,
  input_tokens BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  cost_nano_usd BIGINT NOT NULL DEFAULT 0,
  unpriced_requests BIGINT NOT NULL DEFAULT 0,
  last_model TEXT,
  title TEXT
);
CREATE INDEX conversations_last_started_at ON conversations (last_started_at);

${rollupTable('rollup_hourly')}
${rollupTable('rollup_daily')}
`;

/** Gateway keys: only the SHA-256 digest and a display prefix, never the key (see gateway-keys.ts). */
const migrationTwo = `
CREATE TABLE gateway_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_digest BYTEA NOT NULL UNIQUE,
  tags_json TEXT NOT NULL DEFAULT '[]',
  allowed_models_json TEXT,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  expires_at BIGINT,
  revoked_at BIGINT
);
`;

/**
 * The started_at index covers what the analytics read at a range's partial-hour edges
 * (as SQLite's does), so those rows come from the index alone (an index-only scan once
 * autovacuum has marked the pages visible), not from the table.
 */
const migrationThree = `
DROP INDEX IF EXISTS requests_started_at;
CREATE INDEX requests_started_at ON requests (started_at) INCLUDE (
  status, cache_hit, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens,
  cost_nano_usd, priced, usage_estimated, cache_savings_nano_usd, cache_read_savings_nano_usd, latency_ms,
  time_to_first_token_ms, resolved_model, requested_model, provider, gateway_key_id, "user"
);
`;

/** Responses answers deleted by their client, as SQLite's migration 4: the log row stays, the id is found no more. */
const migrationFour = `
CREATE TABLE deleted_responses (
  response_id TEXT PRIMARY KEY,
  deleted_at BIGINT NOT NULL
);
`;

/**
 * Retention (retention.ts) deletes a message once no request references it: this index
 * answers "does any request still reference message m" without scanning every reference.
 */
const migrationFive = `
CREATE INDEX request_messages_message ON request_messages (message_id);
`;

/** A continued Responses answer's conversation, as SQLite's migration 5 (see migrations.ts there: written no more, and not read). */
const migrationSix = `
ALTER TABLE bodies ADD COLUMN context_json TEXT;
`;

/** The response a Responses request continued, as SQLite's migration 6 (see migrations.ts there). */
const migrationSeven = `
ALTER TABLE requests ADD COLUMN previous_response_id TEXT;
`;

/** `requests_model` dropped, as SQLite's migration 7 (see migrations.ts there): no query uses it. */
const migrationEight = `
DROP INDEX IF EXISTS requests_model;
`;

export const postgresMigrations: readonly string[] = [migrationOne, migrationTwo, migrationThree, migrationFour, migrationFive, migrationSix, migrationSeven, migrationEight];

/**
 * Applies every migration past the database's version under the advisory lock; returns
 * the version reached. Safe when several processes call it at once.
 */
export async function migratePostgres(pool: PostgresPool, scripts: readonly string[] = postgresMigrations): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS switchyard_schema (singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton), version INTEGER NOT NULL)');
      await client.query('INSERT INTO switchyard_schema (version) VALUES (0) ON CONFLICT (singleton) DO NOTHING');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM switchyard_schema');
      const current = rows[0]?.version ?? 0;
      if (current > scripts.length) {
        throw new Error(`the PostgreSQL schema is at version ${current}, newer than this build understands (${scripts.length}); upgrade Switchyard`);
      }
      for (let version = current; version < scripts.length; version += 1) {
        await client.query('BEGIN');
        try {
          await client.query(scripts[version] as string);
          await client.query('UPDATE switchyard_schema SET version = $1', [version + 1]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`PostgreSQL migration ${version + 1} failed: ${(error as Error).message}`);
        }
      }
      return scripts.length;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
