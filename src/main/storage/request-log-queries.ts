/**
 * The inspector's reads over the request log: the most
 * recent requests with filters (keyset-paged by start time, through the started_at,
 * provider, model, key and conversation indexes), one request with its tags, attempts and
 * bodies (messages restored from their content-addressed rows), the values the filter
 * chips offer, and cost per model per hour from the hourly rollups. Each query is bounded
 * (LIMIT, or a few thousand rollup rows) so it runs on the main connection in
 * milliseconds.
 */
import type { AttemptView, RequestFilters, RequestSummary, RequestWarningView } from '../../shared/contract.js';
import { MESSAGE_PARTS, MESSAGE_REFERENCE_KEY, restoreAddressed, upstreamMarker, type AddressedPart } from './content-addressing.js';
import type { SqliteDatabase } from './database.js';
import { rowsOf, rowsOfEach, runOnSqlite, SQLITE_DIALECT, type Plan, type SqlDialect } from './sql-plan.js';

interface RequestRow {
  seq: number;
  id: string;
  started_at: number;
  ended_at: number;
  endpoint: string;
  requested_model: string | null;
  resolved_model: string | null;
  provider: string | null;
  status: 'success' | 'error' | 'cancelled';
  http_status: number;
  error_type: string | null;
  error_message: string | null;
  stream: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  usage_estimated: number;
  cost_nano_usd: number;
  priced: number;
  cache_hit: number;
  time_to_first_token_ms: number | null;
  latency_ms: number;
  attempts: number;
  finish_reason: string | null;
  gateway_key_id: string | null;
  user: string | null;
  conversation_id: string | null;
  warnings_json: string | null;
  tags_json: string;
  trace_id: string | null;
}

function selectRequest(dialect: SqlDialect): string {
  return `SELECT r.seq, r.id, r.started_at, r.ended_at, r.endpoint, r.requested_model, r.resolved_model, r.provider,
  r.status, r.http_status, r.error_type, r.error_message, r.stream, r.input_tokens, r.cached_input_tokens, r.output_tokens,
  r.reasoning_tokens, r.usage_estimated, r.cost_nano_usd, r.priced, r.cache_hit, r.time_to_first_token_ms, r.latency_ms,
  r.attempts, r.finish_reason, r.gateway_key_id, r."user", r.conversation_id, r.warnings_json, r.trace_id,
  ${dialect.tagsJson} AS tags_json
  FROM requests r`;
}

function summaryOfRow(row: RequestRow): RequestSummary {
  const warnings = row.warnings_json ? (JSON.parse(row.warnings_json) as unknown[]) : [];
  return {
    id: row.id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    endpoint: row.endpoint,
    requestedModel: row.requested_model,
    resolvedModel: row.resolved_model,
    provider: row.provider,
    status: row.status,
    httpStatus: row.http_status,
    stream: row.stream === 1,
    inputTokens: row.input_tokens,
    cachedInputTokens: row.cached_input_tokens,
    outputTokens: row.output_tokens,
    reasoningTokens: row.reasoning_tokens,
    liveOutputTokens: null,
    costNanoUsd: row.priced === 1 ? row.cost_nano_usd : null,
    priced: row.priced === 1,
    usageEstimated: row.usage_estimated === 1,
    latencyMs: row.latency_ms,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    attempts: row.attempts,
    tags: JSON.parse(row.tags_json) as Array<{ key: string; value: string }>,
    gatewayKeyId: row.gateway_key_id,
    user: row.user,
    conversationId: row.conversation_id,
    errorMessage: row.error_message,
    errorType: row.error_type,
    cacheHit: row.cache_hit === 1,
    warningCount: warnings.length,
  };
}

export function placeholders(count: number): string {
  return new Array(count).fill('?').join(', ');
}

/**
 * An IN list for values of any number (a conversation's hashes or response ids): its length
 * rounded up to a power of two and padded with NULL (which matches nothing), so the lists of
 * every length make a few SQL texts and the statement caches (sql-plan.ts) do not fill with one
 * text per length.
 */
export function paddedInList(values: readonly unknown[]): { sql: string; parameters: unknown[] } {
  let size = 1;
  while (size < values.length) size *= 2;
  const parameters = [...values];
  while (parameters.length < size) parameters.push(null);
  return { sql: placeholders(size), parameters };
}

/** SQL conditions and parameters for the inspector's filters. */
export function filterConditions(filters: RequestFilters, dialect: SqlDialect = SQLITE_DIALECT): { where: string[]; parameters: unknown[] } {
  const where: string[] = [];
  const parameters: unknown[] = [];
  const statuses = (filters.status ?? []).filter((status) => status !== 'in-flight');
  if (statuses.length > 0) {
    where.push(`r.status IN (${placeholders(statuses.length)})`);
    parameters.push(...statuses);
  }
  if (filters.provider && filters.provider.length > 0) {
    where.push(`r.provider IN (${placeholders(filters.provider.length)})`);
    parameters.push(...filters.provider);
  }
  if (filters.model && filters.model.length > 0) {
    const list = placeholders(filters.model.length);
    where.push(`(r.resolved_model IN (${list}) OR r.requested_model IN (${list}))`);
    parameters.push(...filters.model, ...filters.model);
  }
  if (filters.gatewayKey && filters.gatewayKey.length > 0) {
    where.push(`r.gateway_key_id IN (${placeholders(filters.gatewayKey.length)})`);
    parameters.push(...filters.gatewayKey);
  }
  for (const tag of filters.tag ?? []) {
    const colon = tag.indexOf(':');
    if (colon === -1) {
      where.push('EXISTS (SELECT 1 FROM request_tags t WHERE t.request_seq = r.seq AND t.key = ?)');
      parameters.push(tag);
    } else {
      where.push('EXISTS (SELECT 1 FROM request_tags t WHERE t.request_seq = r.seq AND t.key = ? AND t.value = ?)');
      parameters.push(tag.slice(0, colon), tag.slice(colon + 1));
    }
  }
  if (filters.conversationId) {
    where.push('r.conversation_id = ?');
    parameters.push(filters.conversationId);
  }
  if (filters.from !== undefined) {
    where.push('r.started_at >= ?');
    parameters.push(filters.from);
  }
  if (filters.to !== undefined) {
    where.push('r.started_at < ?');
    parameters.push(filters.to);
  }
  const text = filters.text?.trim();
  if (text) {
    const pattern = `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    where.push(
      `(r.id LIKE ?1 ESCAPE '\\' OR r.requested_model LIKE ?1 ESCAPE '\\' OR r.resolved_model LIKE ?1 ESCAPE '\\' OR r.provider LIKE ?1 ESCAPE '\\'
        OR r.endpoint LIKE ?1 ESCAPE '\\' OR r.error_message LIKE ?1 ESCAPE '\\' OR r."user" LIKE ?1 ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM request_tags t WHERE t.request_seq = r.seq AND (t.key || ':' || t.value) LIKE ?1 ESCAPE '\\'))`
        .replace(/\?1/g, '?')
        // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does the same.
        .replace(/ LIKE /g, ` ${dialect.like} `),
    );
    for (let index = 0; index < 8; index += 1) parameters.push(pattern);
  }
  return { where, parameters };
}

export interface RequestPage {
  items: RequestSummary[];
  hasMore: boolean;
}

export function listRequests(database: SqliteDatabase, filters: RequestFilters, limit: number, before?: number): RequestPage {
  return runOnSqlite(database, listRequestsPlan(SQLITE_DIALECT, filters, limit, before));
}

export function* listRequestsPlan(dialect: SqlDialect, filters: RequestFilters, limit: number, before?: number): Plan<RequestPage> {
  const { where, parameters } = filterConditions(filters, dialect);
  if (before !== undefined) {
    where.push('r.started_at < ?');
    parameters.push(before);
  }
  const sql = `${selectRequest(dialect)} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.started_at DESC, r.id DESC LIMIT ?`;
  const rows = yield* rowsOf<RequestRow>(sql, ...parameters, limit + 1);
  return { items: rows.slice(0, limit).map(summaryOfRow), hasMore: rows.length > limit };
}

export interface StoredRequestDetail {
  summary: RequestSummary;
  finishReason: string | null;
  traceId: string | null;
  errorType: string | null;
  warnings: RequestWarningView[];
  attempts: AttemptView[];
  requestBody: unknown;
  upstreamRequestBody: unknown;
  responseBody: unknown;
  bodiesAvailable: boolean;
}

interface AttemptRow {
  attempt_index: number;
  provider: string | null;
  model: string | null;
  started_at: number | null;
  ended_at: number | null;
  latency_ms: number | null;
  http_status: number | null;
  status: string | null;
  error_type: string | null;
  error_message: string | null;
}

export function getRequest(database: SqliteDatabase, id: string): StoredRequestDetail | null {
  return runOnSqlite(database, getRequestPlan(SQLITE_DIALECT, id));
}

export function* getRequestPlan(dialect: SqlDialect, id: string): Plan<StoredRequestDetail | null> {
  const [row] = yield* rowsOf<RequestRow>(`${selectRequest(dialect)} WHERE r.id = ?`, id);
  if (!row) return null;
  const attempts = yield* rowsOf<AttemptRow>(
    'SELECT attempt_index, provider, model, started_at, ended_at, latency_ms, http_status, status, error_type, error_message FROM attempts WHERE request_seq = ? ORDER BY attempt_index',
    row.seq,
  );
  const bodies = yield* storedBodiesPlan(row.seq);
  return {
    summary: summaryOfRow(row),
    finishReason: row.finish_reason,
    traceId: row.trace_id,
    errorType: row.error_type,
    warnings: row.warnings_json ? (JSON.parse(row.warnings_json) as RequestWarningView[]) : [],
    attempts: attempts.map((attempt) => ({
      index: attempt.attempt_index,
      provider: attempt.provider,
      model: attempt.model,
      startedAt: attempt.started_at,
      endedAt: attempt.ended_at,
      latencyMs: attempt.latency_ms,
      httpStatus: attempt.http_status,
      status: attempt.status,
      errorType: attempt.error_type,
      errorMessage: attempt.error_message,
    })),
    requestBody: bodies?.request ?? null,
    upstreamRequestBody: bodies?.upstream ?? null,
    responseBody: bodies?.response ?? null,
    bodiesAvailable: bodies !== null,
  };
}

export interface StoredBodies {
  request: unknown;
  upstream: unknown;
  response: unknown;
}

/** One request's stored bodies, messages restored from their content-addressed rows; null when none were kept. */
export function* storedBodiesPlan(seq: number): Plan<StoredBodies | null> {
  const [bodies] = yield* rowsOf<{ request_json: string | null; upstream_request_json: string | null; response_json: string | null }>(
    'SELECT request_json, upstream_request_json, response_json FROM bodies WHERE request_seq = ?',
    seq,
  );
  if (!bodies) return null;
  // An upstream body stored as "the client's" (upstreamMarker) is the request's, restored as its
  // own object, with the members the marker adds set on it.
  const marker = upstreamMarker(bodies.upstream_request_json);
  const upstreamJson = marker ? bodies.request_json : bodies.upstream_request_json;
  const [request, upstream, response] = yield* restoredBodiesPlan([
    { seq, text: bodies.request_json, part: 'request', links: BODY_LINKS.request },
    { seq, text: upstreamJson, part: 'request', links: marker ? BODY_LINKS.request : BODY_LINKS.upstream },
    { seq, text: bodies.response_json, part: 'response', links: BODY_LINKS.response },
  ]);
  if (marker?.with && typeof upstream === 'object' && upstream !== null) {
    // As JSON.parse of the text sent would have them: a member already there keeps its place.
    for (const [name, value] of Object.entries(marker.with)) {
      if (name !== '__proto__') (upstream as Record<string, unknown>)[name] = value;
    }
  }
  return { request, upstream, response };
}

const REQUESTS_PER_STATEMENT = 10_000;

/** The message links (content-addressing.ts MESSAGE_PARTS) a stored body's references may resolve to. */
export const BODY_LINKS = {
  request: [MESSAGE_PARTS.request, MESSAGE_PARTS.requestMembers],
  upstream: [MESSAGE_PARTS.upstream, MESSAGE_PARTS.upstreamMembers],
  response: [MESSAGE_PARTS.response],
} as const;

/** A stored body text to restore: the request it belongs to (`seq`), where its references are, and which links they may use. */
export interface StoredBodyText {
  seq: number;
  text: string | null;
  part: AddressedPart;
  links: readonly number[];
}

/**
 * Stored body texts parsed, their content-addressed values put back where that part has them;
 * null stays null. A reference is looked up only among the messages its own request links to it
 * (request_messages, in the body's `links` parts): so it resolves only to what the writer stored
 * for that body (see restoreAddressed), and a read of some bodies never reads the others' links
 * (a continued turn's upstream body holds the whole conversation). The links and the distinct
 * messages are read in one step; each message is parsed once, when first put back.
 */
export function* restoredBodiesPlan(bodies: ReadonlyArray<StoredBodyText>): Plan<unknown[]> {
  const parsed = bodies.map(({ text }) => (text ? (JSON.parse(text) as unknown) : null));
  // A first pass only finds which requests' bodies hold references (its lookup gives each reference back: nothing changes).
  const referencing = new Set<number>();
  const parts = new Set<number>();
  parsed.forEach((value, index) => {
    const body = bodies[index]!;
    if (value === null) return;
    restoreAddressed(value, body.part, (hash) => {
      referencing.add(Number(body.seq));
      for (const part of body.links) parts.add(part);
      return { [MESSAGE_REFERENCE_KEY]: hash };
    });
  });
  // (seq, part) → hash → message id, and each message once.
  const linked = new Map<string, Map<string, number>>();
  const messages = new Map<number, { text: string; value?: unknown }>();
  const seqs = [...referencing];
  const partList = [...parts].sort().join(', ');
  for (let start = 0; start < seqs.length; start += REQUESTS_PER_STATEMENT) {
    const chunk = paddedInList(seqs.slice(start, start + REQUESTS_PER_STATEMENT));
    const where = `request_seq IN (${chunk.sql}) AND part IN (${partList})`;
    const [links = [], contents = []] = yield* rowsOfEach([
      { sql: `SELECT l.request_seq, l.part, l.message_id, m.hash FROM request_messages l JOIN messages m ON m.id = l.message_id WHERE l.${where}`, parameters: chunk.parameters },
      { sql: `SELECT id, content_json FROM messages WHERE id IN (SELECT message_id FROM request_messages WHERE ${where})`, parameters: chunk.parameters },
    ]);
    for (const link of links) {
      const key = `${Number(link.request_seq)}:${Number(link.part)}`;
      let hashes = linked.get(key);
      if (!hashes) linked.set(key, (hashes = new Map()));
      hashes.set(Buffer.from(link.hash as Uint8Array).toString('hex'), Number(link.message_id));
    }
    for (const content of contents) messages.set(Number(content.id), { text: String(content.content_json) });
  }
  return parsed.map((value, index) => {
    if (value === null) return null;
    const body = bodies[index]!;
    return restoreAddressed(value, body.part, (hash) => {
      for (const part of body.links) {
        const id = linked.get(`${Number(body.seq)}:${part}`)?.get(hash);
        const message = id === undefined ? undefined : messages.get(id);
        if (!message) continue;
        if (!('value' in message)) message.value = JSON.parse(message.text) as unknown;
        return message.value;
      }
      return undefined;
    });
  });
}

/** Distinct providers, models, tags and key ids seen since `since`, from the daily rollups (a few rows per day). */
export interface RequestFacets {
  providers: string[];
  models: string[];
  tags: string[];
  gatewayKeyIds: string[];
}

export function requestFacets(database: SqliteDatabase, since: number): RequestFacets {
  return runOnSqlite(database, requestFacetsPlan(since));
}

export function* requestFacetsPlan(since: number): Plan<RequestFacets> {
  const rows = yield* rowsOf<{ dimension: string; value: string; detail: string }>(
    "SELECT DISTINCT dimension, value, detail FROM rollup_daily WHERE period_start >= ? AND dimension IN ('model', 'tag', 'key')",
    since - 24 * 3600_000,
  );
  const providers = new Set<string>();
  const models = new Set<string>();
  const tags = new Set<string>();
  const keys = new Set<string>();
  for (const row of rows) {
    if (row.dimension === 'model') {
      if (row.value) models.add(row.value);
      if (row.detail) providers.add(row.detail);
    } else if (row.dimension === 'tag') tags.add(`${row.value}:${row.detail}`);
    else if (row.dimension === 'key' && row.value) keys.add(row.value);
  }
  const sorted = (set: Set<string>): string[] => [...set].sort((left, right) => left.localeCompare(right));
  return { providers: sorted(providers), models: sorted(models), tags: sorted(tags), gatewayKeyIds: sorted(keys) };
}

const HOUR_MS = 3600_000;

/**
 * Cost per model per hour over [from, to): whole hours from rollup_hourly, the partial
 * hours at the edges from raw rows. Returns hour start → model → nano-dollars.
 */
export function hourlyCostByModel(database: SqliteDatabase, from: number, to: number): Map<number, Map<string, number>> {
  return runOnSqlite(database, hourlyCostByModelPlan(from, to));
}

export function* hourlyCostByModelPlan(from: number, to: number): Plan<Map<number, Map<string, number>>> {
  const result = new Map<number, Map<string, number>>();
  const add = (hour: number, model: string, cost: number): void => {
    let models = result.get(hour);
    if (!models) {
      models = new Map();
      result.set(hour, models);
    }
    models.set(model, (models.get(model) ?? 0) + cost);
  };
  const firstFullHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const lastFullHourEnd = Math.floor(to / HOUR_MS) * HOUR_MS;
  const rawRanges: Array<[number, number]> = [];
  if (firstFullHour < lastFullHourEnd) {
    const rows = yield* rowsOf<{ period_start: number; value: string; cost: number }>(
      "SELECT period_start, value, sum(cost_nano_usd) AS cost FROM rollup_hourly WHERE dimension = 'model' AND period_start >= ? AND period_start < ? GROUP BY period_start, value",
      firstFullHour,
      lastFullHourEnd,
    );
    for (const row of rows) add(Number(row.period_start), row.value || '(unknown)', Number(row.cost));
    if (from < firstFullHour) rawRanges.push([from, firstFullHour]);
    if (lastFullHourEnd < to) rawRanges.push([lastFullHourEnd, to]);
  } else rawRanges.push([from, to]);
  const raw = `SELECT (started_at / ${HOUR_MS}) * ${HOUR_MS} AS hour, coalesce(resolved_model, requested_model, '') AS model, sum(cost_nano_usd) AS cost
     FROM requests WHERE started_at >= ? AND started_at < ? GROUP BY 1, 2`;
  for (const [start, end] of rawRanges) {
    for (const row of yield* rowsOf<{ hour: number; model: string; cost: number }>(raw, start, end)) add(Number(row.hour), row.model || '(unknown)', Number(row.cost));
  }
  return result;
}
