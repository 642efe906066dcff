/**
 * The dashboard and CLI queries over the request log: summary, time series, breakdowns,
 * conversations. Whole UTC days inside the range are read from `rollup_daily`, the other
 * whole UTC hours from `rollup_hourly` (a few dozen rows per period whatever the
 * traffic), and the partial hours at either edge from raw rows through the started_at
 * index, so results are exact for any range and cost about the same at a thousand rows
 * or a million (the cost grows with the number of distinct models / users / tags per
 * period instead).
 *
 * Definitions used everywhere:
 * - ranges are half-open, [from, to), in epoch ms, on the request's start time;
 * - tokens and cost are what the providers billed: a response-cache hit adds no tokens
 *   and no cost, and its would-be cost is counted in `cacheSavingsNanoUsd`;
 * - `unpricedRequests` counts requests with tokens but no known price: their cost is
 *   unknown and is NOT included in `costNanoUsd` as zero silently — always show it;
 * - error rate = requests with status `error` / all requests (cancellations are separate);
 * - p95 latency is read from the fixed histogram (see latency-histogram.ts for precision).
 * These functions are synchronous: call them through the analytics worker from the gateway.
 */
import { formatNanoUsd } from '../pricing/cost.js';
import type { SqliteDatabase } from './database.js';
import { MESSAGE_PARTS } from './content-addressing.js';
import { rowsOf, rowsOfEach, runOnSqlite, SQLITE_DIALECT, type Plan, type SqlDialect } from './sql-plan.js';
import { LATENCY_BUCKET_UPPER_BOUNDS_MS, histogramQuantile } from './latency-histogram.js';
import {
  DAY_MS,
  HOUR_MS,
  ROLLUP_TABLES,
  emptyMetrics,
  mergeMetrics,
  metricsFromAggregateRow,
  rollupAggregateSelect,
  type RollupDimension,
  type RollupGranularity,
  type RollupMetrics,
} from './rollups.js';
import { TimeZoneBucketer, type BucketSize } from './time-zone-buckets.js';

export interface TimeRange {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

export interface MetricsView {
  requests: number;
  errors: number;
  cancelled: number;
  /** errors / requests, 0 when there are no requests. */
  errorRate: number;
  tokens: {
    input: number;
    cachedInput: number;
    cacheWrite: number;
    output: number;
    reasoning: number;
    /** input + output (cached and reasoning are subsets of these). */
    total: number;
  };
  costNanoUsd: number;
  costUsd: string;
  unpricedRequests: number;
  estimatedUsageRequests: number;
  latency: { averageMs: number | null; p95Ms: number | null; maxMs: number | null };
  timeToFirstTokenAverageMs: number | null;
  cacheHits: number;
  /** Cost avoided by the gateway's response cache (priced hits only). */
  cacheSavingsNanoUsd: number;
  /** Cost avoided by provider prompt caching (cache reads at the cached rate instead of the input rate). */
  cacheReadSavingsNanoUsd: number;
}

export interface Summary extends MetricsView {
  range: TimeRange;
}

export interface TimeSeriesPoint extends MetricsView {
  /** First instant of the local bucket (epoch ms). */
  bucketStart: number;
  /** Local label: `2025-11-02` or `2025-11-02T01:00-05:00`. */
  label: string;
}

export type BreakdownDimension = 'model' | 'provider' | 'tag' | 'key' | 'user';

export interface BreakdownRow extends MetricsView {
  /** Model, provider, gateway key id or user; for tags the tag key. Null for requests without one. */
  value: string | null;
  /** The provider for a model row, the tag value for a tag row, else null. */
  detail: string | null;
  /** Display text: `gpt-4.1 (openai)`, `team:platform`, `(none)`. */
  label: string;
}

export interface ConversationListItem {
  id: string;
  title: string | null;
  firstStartedAt: number;
  lastStartedAt: number;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  costNanoUsd: number;
  costUsd: string;
  unpricedRequests: number;
  lastModel: string | null;
}

export interface ConversationList {
  conversations: ConversationListItem[];
  /** True when more conversations follow this page. */
  hasMore: boolean;
}

export interface ConversationTurn {
  requestId: string;
  startedAt: number;
  endedAt: number;
  endpoint: string;
  model: string | null;
  provider: string | null;
  status: string;
  httpStatus: number;
  errorMessage: string | null;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
  costUsd: string;
  priced: boolean;
  usageEstimated: boolean;
  cacheHit: boolean;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  /** Messages this turn's request added to the conversation (not seen in an earlier turn). Empty when bodies are not stored. */
  newMessages: unknown[];
  /** The reply message(s) returned to the client. */
  responseMessages: unknown[];
}

export interface ConversationDetail extends ConversationListItem {
  turns: ConversationTurn[];
}

const DIMENSION_FOR_BREAKDOWN: Record<BreakdownDimension, RollupDimension> = {
  model: 'model',
  provider: 'model',
  tag: 'tag',
  key: 'key',
  user: 'user',
};

/**
 * Raw rows at the range edges are aggregated in SQL, grouped by the latency bucket so the
 * histogram can be rebuilt, and read through the covering started_at index (no table
 * lookups): about 0.1–0.3 µs per row. Token sums skip response-cache hits, as the writer's
 * rollups do.
 */
const LATENCY_BUCKET_SQL = `CASE ${LATENCY_BUCKET_UPPER_BOUNDS_MS.slice(0, -1)
  .map((bound, index) => `WHEN r.latency_ms < ${bound} THEN ${index}`)
  .join(' ')} ELSE ${LATENCY_BUCKET_UPPER_BOUNDS_MS.length - 1} END`;

const RAW_AGGREGATES = [
  'count(*) AS "requests"',
  `coalesce(sum(CASE WHEN r.status = 'error' THEN 1 ELSE 0 END), 0) AS "errors"`,
  `coalesce(sum(CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END), 0) AS "cancelled"`,
  ...(
    [
      ['inputTokens', 'input_tokens'],
      ['cachedInputTokens', 'cached_input_tokens'],
      ['cacheWriteInputTokens', 'cache_write_input_tokens'],
      ['outputTokens', 'output_tokens'],
      ['reasoningTokens', 'reasoning_tokens'],
    ] as const
  ).map(([alias, column]) => `coalesce(sum(CASE WHEN r.cache_hit = 0 THEN r.${column} ELSE 0 END), 0) AS "${alias}"`),
  'coalesce(sum(r.cost_nano_usd), 0) AS "costNanoUsd"',
  'coalesce(sum(CASE WHEN r.priced = 0 THEN 1 ELSE 0 END), 0) AS "unpricedRequests"',
  'coalesce(sum(r.usage_estimated), 0) AS "estimatedRequests"',
  'coalesce(sum(r.cache_hit), 0) AS "cacheHits"',
  'coalesce(sum(r.cache_savings_nano_usd), 0) AS "cacheSavingsNanoUsd"',
  'coalesce(sum(r.cache_read_savings_nano_usd), 0) AS "cacheReadSavingsNanoUsd"',
  'coalesce(sum(r.latency_ms), 0) AS "latencySumMs"',
  'max(r.latency_ms) AS "latencyMaxMs"',
  'coalesce(sum(r.time_to_first_token_ms), 0) AS "timeToFirstTokenSumMs"',
  'count(r.time_to_first_token_ms) AS "timeToFirstTokenCount"',
].join(', ');

const RAW_GROUP_EXPRESSIONS: Record<RollupDimension, { value: string; detail: string; join: string }> = {
  total: { value: "''", detail: "''", join: '' },
  model: { value: "coalesce(r.resolved_model, r.requested_model, '')", detail: "coalesce(r.provider, '')", join: '' },
  key: { value: "coalesce(r.gateway_key_id, '')", detail: "''", join: '' },
  user: { value: `coalesce(r."user", '')`, detail: "''", join: '' },
  tag: { value: 't.key', detail: 't.value', join: 'JOIN request_tags t ON t.request_seq = r.seq' },
};

function rawGroupSql(dimension: RollupDimension): string {
  const { value, detail, join } = RAW_GROUP_EXPRESSIONS[dimension];
  return `SELECT ${value} AS value, ${detail} AS detail, ${LATENCY_BUCKET_SQL} AS latency_bucket, ${RAW_AGGREGATES}
          FROM requests r ${join} WHERE r.started_at >= ? AND r.started_at < ? GROUP BY 1, 2, 3`;
}

/** Per minute, so a time zone's bucket (offsets are whole minutes) can be found exactly. */
const RAW_BY_MINUTE_SQL = `SELECT r.started_at / 60000 AS minute, ${LATENCY_BUCKET_SQL} AS latency_bucket, ${RAW_AGGREGATES}
  FROM requests r WHERE r.started_at >= ? AND r.started_at < ? GROUP BY 1, 2`;

/** Metrics from one raw aggregate row: all its requests fall in one latency bucket. */
function metricsFromRawRow(row: Record<string, unknown>): RollupMetrics {
  const metrics = metricsFromAggregateRow(row);
  metrics.latencyHistogram[Number(row.latency_bucket)] = Number(row.requests);
  return metrics;
}

function viewOf(metrics: RollupMetrics): MetricsView {
  const requests = metrics.requests;
  return {
    requests,
    errors: metrics.errors,
    cancelled: metrics.cancelled,
    errorRate: requests === 0 ? 0 : metrics.errors / requests,
    tokens: {
      input: metrics.inputTokens,
      cachedInput: metrics.cachedInputTokens,
      cacheWrite: metrics.cacheWriteInputTokens,
      output: metrics.outputTokens,
      reasoning: metrics.reasoningTokens,
      total: metrics.inputTokens + metrics.outputTokens,
    },
    costNanoUsd: metrics.costNanoUsd,
    costUsd: formatNanoUsd(metrics.costNanoUsd),
    unpricedRequests: metrics.unpricedRequests,
    estimatedUsageRequests: metrics.estimatedRequests,
    latency: {
      averageMs: requests === 0 ? null : Math.round(metrics.latencySumMs / requests),
      p95Ms: histogramQuantile(metrics.latencyHistogram, 0.95, metrics.latencyMaxMs),
      maxMs: requests === 0 ? null : metrics.latencyMaxMs,
    },
    timeToFirstTokenAverageMs:
      metrics.timeToFirstTokenCount === 0 ? null : Math.round(metrics.timeToFirstTokenSumMs / metrics.timeToFirstTokenCount),
    cacheHits: metrics.cacheHits,
    cacheSavingsNanoUsd: metrics.cacheSavingsNanoUsd,
    cacheReadSavingsNanoUsd: metrics.cacheReadSavingsNanoUsd,
  };
}

function validateRange(range: TimeRange): void {
  if (!Number.isFinite(range.from) || !Number.isFinite(range.to) || range.to < range.from) {
    throw new RangeError('range must have finite from <= to (epoch ms)');
  }
}

const DIMENSIONS: readonly RollupDimension[] = ['total', 'model', 'key', 'user', 'tag'];
const ROLLUP_SELECT = rollupAggregateSelect();
const rollupSql = (table: string): string =>
  `SELECT value, detail, ${ROLLUP_SELECT} FROM ${table} WHERE dimension = ? AND period_start >= ? AND period_start < ? GROUP BY value, detail`;
const ROLLUP_SQL: Record<RollupGranularity, string> = { hour: rollupSql(ROLLUP_TABLES.hour), day: rollupSql(ROLLUP_TABLES.day) };
// Buckets in SQL, one constant offset at a time: only one row per bucket reaches JavaScript.
const TOTAL_BY_LOCAL_BUCKET_SQL = `SELECT (period_start + CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS local_bucket,
         min(period_start) AS first_period, ${ROLLUP_SELECT}
  FROM ${ROLLUP_TABLES.hour}
  WHERE dimension = 'total' AND period_start >= ? AND period_start < ? GROUP BY 1`;
const RAW_SQL = new Map(DIMENSIONS.map((dimension) => [dimension, rawGroupSql(dimension)]));
const COUNT_ROWS_SQL = 'SELECT count(*) AS "count" FROM requests WHERE started_at >= ? AND started_at < ?';

/**
 * A partial hour at a range edge can be read from its hourly rollup when the rest of that
 * hour holds no rows, which is always the case for a range ending now: then the edge
 * costs nothing, however busy the current hour is.
 */
function* resolveEdges(parts: RangeParts): Plan<RangeParts> {
  if (parts.raw.length === 0) return parts;
  const raw: TimeRange[] = [];
  const hours = [...parts.hours];
  const hourOf = (edge: TimeRange): number => Math.floor(edge.from / HOUR_MS) * HOUR_MS;
  const checked = parts.raw.filter((edge) => edge.to <= hourOf(edge) + HOUR_MS);
  // Every edge's two counts at once (one round trip on PostgreSQL).
  const counts = yield* rowsOfEach(
    checked.flatMap((edge) => [
      { sql: COUNT_ROWS_SQL, parameters: [hourOf(edge), edge.from] },
      { sql: COUNT_ROWS_SQL, parameters: [edge.to, hourOf(edge) + HOUR_MS] },
    ]),
  );
  for (const edge of parts.raw) {
    const index = checked.indexOf(edge);
    const outside = index < 0 ? 1 : Number(counts[2 * index]?.[0]?.count ?? 0) + Number(counts[2 * index + 1]?.[0]?.count ?? 0);
    if (outside === 0) hours.push({ from: hourOf(edge), to: hourOf(edge) + HOUR_MS });
    else raw.push(edge);
  }
  return { days: parts.days, hours: mergeAdjacent(hours), raw };
}

function mergeAdjacent(ranges: TimeRange[]): TimeRange[] {
  const sorted = [...ranges].sort((left, right) => left.from - right.from);
  const merged: TimeRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.to >= range.from) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}

interface RangeParts {
  /** Whole UTC days, read from rollup_daily. */
  days: TimeRange | null;
  /** Whole UTC hours not covered by days, read from rollup_hourly. */
  hours: TimeRange[];
  /** Partial hours at the edges, read from raw rows. */
  raw: TimeRange[];
}

/** Splits a range into whole UTC days, whole UTC hours and raw-row edges. With `useDays` false, whole hours only. */
function splitRange(range: TimeRange, useDays: boolean): RangeParts {
  const firstFullHour = Math.ceil(range.from / HOUR_MS) * HOUR_MS;
  const lastFullHourEnd = Math.floor(range.to / HOUR_MS) * HOUR_MS;
  if (firstFullHour >= lastFullHourEnd) {
    // Within one hour, or straddling one hour boundary: one or two partial hours.
    const crosses = range.from < firstFullHour && firstFullHour < range.to;
    return {
      days: null,
      hours: [],
      raw: crosses ? [{ from: range.from, to: firstFullHour }, { from: firstFullHour, to: range.to }] : [range],
    };
  }
  const raw: TimeRange[] = [];
  if (range.from < firstFullHour) raw.push({ from: range.from, to: firstFullHour });
  if (lastFullHourEnd < range.to) raw.push({ from: lastFullHourEnd, to: range.to });
  const firstFullDay = Math.ceil(firstFullHour / DAY_MS) * DAY_MS;
  const lastFullDayEnd = Math.floor(lastFullHourEnd / DAY_MS) * DAY_MS;
  if (!useDays || firstFullDay >= lastFullDayEnd) return { days: null, hours: [{ from: firstFullHour, to: lastFullHourEnd }], raw };
  const hours: TimeRange[] = [];
  if (firstFullHour < firstFullDay) hours.push({ from: firstFullHour, to: firstFullDay });
  if (lastFullDayEnd < lastFullHourEnd) hours.push({ from: lastFullDayEnd, to: lastFullHourEnd });
  return { days: { from: firstFullDay, to: lastFullDayEnd }, hours, raw };
}

/** Metrics per (value, detail) of one rollup dimension over a range. */
function* aggregateByDimension(range: TimeRange, dimension: RollupDimension): Plan<Map<string, { value: string; detail: string; metrics: RollupMetrics }>> {
  const groups = new Map<string, { value: string; detail: string; metrics: RollupMetrics }>();
  const groupFor = (value: string, detail: string) => {
    const key = `${value}\u0000${detail}`;
    let group = groups.get(key);
    if (!group) {
      group = { value, detail, metrics: emptyMetrics() };
      groups.set(key, group);
    }
    return group;
  };
  const parts = yield* resolveEdges(splitRange(range, true));
  const rollupReads: Array<[RollupGranularity, TimeRange]> = [
    ...(parts.days ? [['day', parts.days] as [RollupGranularity, TimeRange]] : []),
    ...parts.hours.map((hours): [RollupGranularity, TimeRange] => ['hour', hours]),
  ];
  // The rollup and raw-edge reads do not depend on each other: one step.
  const results = yield* rowsOfEach([
    ...rollupReads.map(([granularity, part]) => ({ sql: ROLLUP_SQL[granularity], parameters: [dimension, part.from, part.to] })),
    ...parts.raw.map((edge) => ({ sql: RAW_SQL.get(dimension)!, parameters: [edge.from, edge.to] })),
  ]);
  results.forEach((rows, index) => {
    const fromRollup = index < rollupReads.length;
    for (const row of rows) mergeMetrics(groupFor(String(row.value), String(row.detail)).metrics, fromRollup ? metricsFromAggregateRow(row) : metricsFromRawRow(row));
  });
  return groups;
}

export function summary(database: SqliteDatabase, range: TimeRange): Summary {
  return runOnSqlite(database, summaryPlan(range));
}

export function* summaryPlan(range: TimeRange): Plan<Summary> {
  validateRange(range);
  const total = emptyMetrics();
  for (const group of (yield* aggregateByDimension(range, 'total')).values()) mergeMetrics(total, group.metrics);
  return { range: { from: range.from, to: range.to }, ...viewOf(total) };
}

/**
 * Metrics per local hour or day, oldest first, with empty buckets included. `timeZone` is
 * an IANA name (default UTC); see time-zone-buckets.ts for how offsets are applied.
 */
export function timeSeries(database: SqliteDatabase, range: TimeRange, bucket: BucketSize, timeZone = 'UTC'): TimeSeriesPoint[] {
  return runOnSqlite(database, timeSeriesPlan(range, bucket, timeZone));
}

export function* timeSeriesPlan(range: TimeRange, bucket: BucketSize, timeZone = 'UTC'): Plan<TimeSeriesPoint[]> {
  validateRange(range);
  const bucketer = new TimeZoneBucketer(range.from, range.to, timeZone, bucket);
  const buckets = bucketer.bucketsBetween(range.from, range.to);
  const metricsByStart = new Map<number, RollupMetrics>();
  for (const entry of buckets) metricsByStart.set(entry.start, emptyMetrics());
  const metricsFor = (instant: number): RollupMetrics => {
    const start = bucketer.bucketStart(instant);
    let metrics = metricsByStart.get(start);
    if (!metrics) {
      metrics = emptyMetrics();
      metricsByStart.set(start, metrics);
    }
    return metrics;
  };
  const parts = yield* resolveEdges(splitRange(range, false));
  const segments = parts.hours.flatMap((hours) => bucketer.segmentsBetween(hours.from, hours.to));
  // Every segment's and edge's read at once (one round trip on PostgreSQL).
  const results = yield* rowsOfEach([
    ...segments.map((segment) => ({ sql: TOTAL_BY_LOCAL_BUCKET_SQL, parameters: [segment.offsetMs, bucketer.nominalSize, segment.start, segment.end] })),
    ...parts.raw.map((edge) => ({ sql: RAW_BY_MINUTE_SQL, parameters: [edge.from, edge.to] })),
  ]);
  results.forEach((rows, index) => {
    // Any hour of a group identifies its local bucket; the first one is at hand.
    if (index < segments.length) for (const row of rows) mergeMetrics(metricsFor(Number(row.first_period)), metricsFromAggregateRow(row));
    else for (const row of rows) mergeMetrics(metricsFor(Number(row.minute) * 60_000), metricsFromRawRow(row));
  });
  return [...metricsByStart.entries()]
    .sort(([left], [right]) => left - right)
    .map(([start, metrics]) => ({ bucketStart: start, label: bucketer.label(start), ...viewOf(metrics) }));
}

/** Metrics per model (with provider), provider, tag (key:value), gateway key or user; most expensive first. */
export function breakdown(database: SqliteDatabase, range: TimeRange, by: BreakdownDimension): BreakdownRow[] {
  return runOnSqlite(database, breakdownPlan(range, by));
}

export function* breakdownPlan(range: TimeRange, by: BreakdownDimension): Plan<BreakdownRow[]> {
  validateRange(range);
  const groups = yield* aggregateByDimension(range, DIMENSION_FOR_BREAKDOWN[by]);
  const merged = new Map<string, { value: string; detail: string; metrics: RollupMetrics }>();
  for (const group of groups.values()) {
    // A provider breakdown folds the model rows by their provider.
    const value = by === 'provider' ? group.detail : group.value;
    const detail = by === 'provider' || by === 'key' || by === 'user' ? '' : group.detail;
    const key = `${value}\u0000${detail}`;
    let target = merged.get(key);
    if (!target) {
      target = { value, detail, metrics: emptyMetrics() };
      merged.set(key, target);
    }
    mergeMetrics(target.metrics, group.metrics);
  }
  const rows = [...merged.values()].map(({ value, detail, metrics }): BreakdownRow => {
    const hasDetail = by === 'model' || by === 'tag';
    let label: string;
    if (by === 'tag') label = `${value}:${detail}`;
    else if (value === '') label = '(none)';
    else label = by === 'model' && detail !== '' ? `${value} (${detail})` : value;
    return {
      value: value === '' ? null : value,
      detail: hasDetail && detail !== '' ? detail : null,
      label,
      ...viewOf(metrics),
    };
  });
  rows.sort((left, right) => right.costNanoUsd - left.costNanoUsd || right.requests - left.requests || left.label.localeCompare(right.label));
  return rows;
}

interface ConversationRow {
  id: string;
  title: string | null;
  first_started_at: number;
  last_started_at: number;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost_nano_usd: number;
  unpriced_requests: number;
  last_model: string | null;
}

function conversationItem(row: ConversationRow): ConversationListItem {
  return {
    id: row.id,
    title: row.title,
    firstStartedAt: row.first_started_at,
    lastStartedAt: row.last_started_at,
    requests: row.requests,
    errors: row.errors,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costNanoUsd: row.cost_nano_usd,
    costUsd: formatNanoUsd(row.cost_nano_usd),
    unpricedRequests: row.unpriced_requests,
    lastModel: row.last_model,
  };
}

/**
 * Conversations whose latest turn started in the range, most recent first. Totals cover
 * the whole conversation (all its turns still in the log), not only the range.
 */
export function listConversations(database: SqliteDatabase, range: TimeRange, limit = 50, offset = 0): ConversationList {
  return runOnSqlite(database, listConversationsPlan(range, limit, offset));
}

export function* listConversationsPlan(range: TimeRange, limit = 50, offset = 0): Plan<ConversationList> {
  validateRange(range);
  const pageSize = Math.max(1, Math.min(1000, Math.floor(limit)));
  const rows = yield* rowsOf<ConversationRow>(
    `SELECT id, title, first_started_at, last_started_at, requests, errors, input_tokens, output_tokens,
            cost_nano_usd, unpriced_requests, last_model
     FROM conversations WHERE last_started_at >= ? AND last_started_at < ?
     ORDER BY last_started_at DESC, id LIMIT ? OFFSET ?`,
    range.from, range.to, pageSize + 1, Math.max(0, Math.floor(offset)),
  );
  return { conversations: rows.slice(0, pageSize).map(conversationItem), hasMore: rows.length > pageSize };
}

interface TurnRow {
  seq: number;
  id: string;
  started_at: number;
  ended_at: number;
  endpoint: string;
  resolved_model: string | null;
  requested_model: string | null;
  provider: string | null;
  status: string;
  http_status: number;
  error_message: string | null;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_nano_usd: number;
  priced: number;
  usage_estimated: number;
  cache_hit: number;
  latency_ms: number;
  time_to_first_token_ms: number | null;
}

/** One conversation with its turns in order (at most `maximumTurns`, the latest ones), or null when unknown. */
export function conversation(database: SqliteDatabase, id: string, maximumTurns = 500): ConversationDetail | null {
  return runOnSqlite(database, conversationPlan(id, maximumTurns));
}

export function* conversationPlan(id: string, maximumTurns = 500, dialect: SqlDialect = SQLITE_DIALECT): Plan<ConversationDetail | null> {
  // The head and the turns at once; then the turns' message references and contents at once.
  const [heads, turnsNewestFirst] = yield* rowsOfEach([
    {
      sql: `SELECT id, title, first_started_at, last_started_at, requests, errors, input_tokens, output_tokens,
                   cost_nano_usd, unpriced_requests, last_model FROM conversations WHERE id = ?`,
      parameters: [id],
    },
    {
      sql: `SELECT seq, id, started_at, ended_at, endpoint, resolved_model, requested_model, provider, status, http_status,
                   error_message, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens,
                   reasoning_tokens, cost_nano_usd, priced, usage_estimated, cache_hit, latency_ms, time_to_first_token_ms
            FROM requests WHERE conversation_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
      parameters: [id, Math.max(1, maximumTurns)],
    },
  ]);
  const head = heads?.[0] as ConversationRow | undefined;
  if (!head) return null;
  const turnRows = ([...(turnsNewestFirst ?? [])] as unknown as TurnRow[]).reverse();
  const referencesBySeq = new Map<number, Array<{ part: number; message_id: number }>>();
  const contentById = new Map<number, unknown>();
  if (turnRows.length > 0) {
    const bySeq = dialect.inList('request_seq', turnRows.map((row) => row.seq));
    const [references = [], contents = []] = yield* rowsOfEach([
      { sql: `SELECT request_seq, part, message_id FROM request_messages WHERE ${bySeq.sql} AND part IN (${MESSAGE_PARTS.request}, ${MESSAGE_PARTS.response}) ORDER BY request_seq, part, position`, parameters: bySeq.parameters },
      { sql: `SELECT id, content_json FROM messages WHERE ${dialect.inSubquery('id', `SELECT message_id FROM request_messages WHERE ${bySeq.sql} AND part IN (${MESSAGE_PARTS.request}, ${MESSAGE_PARTS.response})`)}`, parameters: bySeq.parameters },
    ]);
    for (const reference of references) {
      const list = referencesBySeq.get(Number(reference.request_seq)) ?? [];
      list.push({ part: Number(reference.part), message_id: Number(reference.message_id) });
      referencesBySeq.set(Number(reference.request_seq), list);
    }
    for (const content of contents) contentById.set(Number(content.id), JSON.parse(String(content.content_json)) as unknown);
  }
  // A Responses request's input given as text is stored as that text: the user's message.
  const contentOf = (messageId: number): unknown => {
    const content = contentById.get(messageId) ?? null;
    return typeof content === 'string' ? { role: 'user', content } : content;
  };
  const seen = new Set<number>();
  let previousSequence: number[] = [];
  const turns = turnRows.map((row): ConversationTurn => {
    const references = referencesBySeq.get(Number(row.seq)) ?? [];
    const requestMessageIds = references.filter((reference) => reference.part === MESSAGE_PARTS.request).map((reference) => reference.message_id);
    const responseMessageIds = references.filter((reference) => reference.part === MESSAGE_PARTS.response).map((reference) => reference.message_id);
    // Usually a turn resends the previous turn's messages and reply, then adds to them; when the
    // client rewrote history instead, show the messages never seen before.
    const extendsPrevious =
      previousSequence.length > 0 &&
      previousSequence.length <= requestMessageIds.length &&
      previousSequence.every((messageId, index) => requestMessageIds[index] === messageId);
    const newMessageIds = extendsPrevious
      ? requestMessageIds.slice(previousSequence.length)
      : requestMessageIds.filter((messageId) => !seen.has(messageId));
    const newMessages = newMessageIds.map(contentOf);
    const responseMessages = responseMessageIds.map(contentOf);
    for (const messageId of requestMessageIds) seen.add(messageId);
    for (const messageId of responseMessageIds) seen.add(messageId);
    previousSequence = [...requestMessageIds, ...responseMessageIds];
    return {
      requestId: row.id,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      endpoint: row.endpoint,
      model: row.resolved_model ?? row.requested_model,
      provider: row.provider,
      status: row.status,
      httpStatus: row.http_status,
      errorMessage: row.error_message,
      inputTokens: row.input_tokens,
      cachedInputTokens: row.cached_input_tokens,
      cacheWriteInputTokens: row.cache_write_input_tokens,
      outputTokens: row.output_tokens,
      reasoningTokens: row.reasoning_tokens,
      costNanoUsd: row.cost_nano_usd,
      costUsd: formatNanoUsd(row.cost_nano_usd),
      priced: row.priced === 1,
      usageEstimated: row.usage_estimated === 1,
      cacheHit: row.cache_hit === 1,
      latencyMs: row.latency_ms,
      timeToFirstTokenMs: row.time_to_first_token_ms,
      newMessages,
      responseMessages,
    };
  });
  return { ...conversationItem(head), turns };
}

/** The same queries bound to one connection, the shape the analytics worker mirrors asynchronously. */
export interface Analytics {
  summary(range: TimeRange): Summary;
  timeSeries(range: TimeRange, bucket: BucketSize, timeZone?: string): TimeSeriesPoint[];
  breakdown(range: TimeRange, by: BreakdownDimension): BreakdownRow[];
  listConversations(range: TimeRange, limit?: number, offset?: number): ConversationList;
  conversation(id: string, maximumTurns?: number): ConversationDetail | null;
}

export function createAnalytics(database: SqliteDatabase): Analytics {
  return {
    summary: (range) => summary(database, range),
    timeSeries: (range, bucket, timeZone) => timeSeries(database, range, bucket, timeZone),
    breakdown: (range, by) => breakdown(database, range, by),
    listConversations: (range, limit, offset) => listConversations(database, range, limit, offset),
    conversation: (id, maximumTurns) => conversation(database, id, maximumTurns),
  };
}

/** Total number of logged requests. */
export function requestCount(database: SqliteDatabase): number {
  return (database.prepare('SELECT count(*) AS count FROM requests').get() as { count: number }).count;
}
