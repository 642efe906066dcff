/**
 * Rollups: the aggregates the dashboards read instead of scanning raw rows. The writer
 * adds each record's contribution to one row per dimension (total, model+provider,
 * gateway key, user, and each tag) for the record's UTC start hour (`rollup_hourly`) and
 * UTC start day (`rollup_daily`), summed in memory for the batch and upserted in the
 * batch's transaction, so rollups and raw rows always agree. Queries read whole days
 * from the daily table, the remaining whole hours from the hourly one, and partial hours
 * from raw rows: a 90-day breakdown reads ~90 rows per distinct value, not ~2,160.
 *
 * Why one narrow rollup per dimension rather than one row per hour × model × provider ×
 * key × user: the cross product grows with every combination actually used and, with a
 * few dozen users and keys, approaches the raw row count; per-dimension rows stay at a
 * few dozen per hour. The price is that a breakdown filtered by another dimension (cost
 * by model for one user) is not served by rollups.
 */
import type { SqliteDatabase, SqliteStatement } from './database.js';
import { LATENCY_BUCKET_COLUMNS, LATENCY_BUCKET_COUNT, emptyHistogram, latencyBucketIndex } from './latency-histogram.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export type RollupGranularity = 'hour' | 'day';
export const ROLLUP_TABLES: Record<RollupGranularity, string> = { hour: 'rollup_hourly', day: 'rollup_daily' };

export type RollupDimension = 'total' | 'model' | 'key' | 'user' | 'tag';

/** Additive metrics, in the order of ROLLUP_SUM_COLUMNS. */
export interface RollupMetrics {
  requests: number;
  errors: number;
  cancelled: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
  unpricedRequests: number;
  estimatedRequests: number;
  cacheHits: number;
  cacheSavingsNanoUsd: number;
  cacheReadSavingsNanoUsd: number;
  latencySumMs: number;
  latencyMaxMs: number;
  timeToFirstTokenSumMs: number;
  timeToFirstTokenCount: number;
  latencyHistogram: number[];
}

/** [metric field, column] pairs for every additive metric (latency_max_ms is merged with max()). */
export const ROLLUP_SUM_FIELDS: ReadonlyArray<readonly [Exclude<keyof RollupMetrics, 'latencyMaxMs' | 'latencyHistogram'>, string]> = [
  ['requests', 'requests'],
  ['errors', 'errors'],
  ['cancelled', 'cancelled'],
  ['inputTokens', 'input_tokens'],
  ['cachedInputTokens', 'cached_input_tokens'],
  ['cacheWriteInputTokens', 'cache_write_input_tokens'],
  ['outputTokens', 'output_tokens'],
  ['reasoningTokens', 'reasoning_tokens'],
  ['costNanoUsd', 'cost_nano_usd'],
  ['unpricedRequests', 'unpriced_requests'],
  ['estimatedRequests', 'estimated_requests'],
  ['cacheHits', 'cache_hits'],
  ['cacheSavingsNanoUsd', 'cache_savings_nano_usd'],
  ['cacheReadSavingsNanoUsd', 'cache_read_savings_nano_usd'],
  ['latencySumMs', 'latency_sum_ms'],
  ['timeToFirstTokenSumMs', 'time_to_first_token_sum_ms'],
  ['timeToFirstTokenCount', 'time_to_first_token_count'],
];

export function emptyMetrics(): RollupMetrics {
  return {
    requests: 0,
    errors: 0,
    cancelled: 0,
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    costNanoUsd: 0,
    unpricedRequests: 0,
    estimatedRequests: 0,
    cacheHits: 0,
    cacheSavingsNanoUsd: 0,
    cacheReadSavingsNanoUsd: 0,
    latencySumMs: 0,
    latencyMaxMs: 0,
    timeToFirstTokenSumMs: 0,
    timeToFirstTokenCount: 0,
    latencyHistogram: emptyHistogram(),
  };
}

export function mergeMetrics(target: RollupMetrics, source: RollupMetrics): void {
  for (const [field] of ROLLUP_SUM_FIELDS) target[field] += source[field];
  if (source.latencyMaxMs > target.latencyMaxMs) target.latencyMaxMs = source.latencyMaxMs;
  for (let index = 0; index < LATENCY_BUCKET_COUNT; index += 1) {
    target.latencyHistogram[index] = (target.latencyHistogram[index] ?? 0) + (source.latencyHistogram[index] ?? 0);
  }
}

/**
 * One request's values as read from its raw row (or about to be written). Tokens of a
 * response-cache hit are not billed, so they count as savings, not as tokens or cost.
 */
export interface RequestFacts {
  status: string;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
  priced: boolean;
  usageEstimated: boolean;
  cacheHit: boolean;
  cacheSavingsNanoUsd: number;
  cacheReadSavingsNanoUsd: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
}

export function addRequest(target: RollupMetrics, facts: RequestFacts): void {
  target.requests += 1;
  if (facts.status === 'error') target.errors += 1;
  if (facts.status === 'cancelled') target.cancelled += 1;
  if (!facts.cacheHit) {
    target.inputTokens += facts.inputTokens;
    target.cachedInputTokens += facts.cachedInputTokens;
    target.cacheWriteInputTokens += facts.cacheWriteInputTokens;
    target.outputTokens += facts.outputTokens;
    target.reasoningTokens += facts.reasoningTokens;
  }
  target.costNanoUsd += facts.costNanoUsd;
  if (!facts.priced) target.unpricedRequests += 1;
  if (facts.usageEstimated) target.estimatedRequests += 1;
  if (facts.cacheHit) target.cacheHits += 1;
  target.cacheSavingsNanoUsd += facts.cacheSavingsNanoUsd;
  target.cacheReadSavingsNanoUsd += facts.cacheReadSavingsNanoUsd;
  target.latencySumMs += facts.latencyMs;
  if (facts.latencyMs > target.latencyMaxMs) target.latencyMaxMs = facts.latencyMs;
  if (facts.timeToFirstTokenMs !== null) {
    target.timeToFirstTokenSumMs += facts.timeToFirstTokenMs;
    target.timeToFirstTokenCount += 1;
  }
  const bucket = latencyBucketIndex(facts.latencyMs);
  target.latencyHistogram[bucket] = (target.latencyHistogram[bucket] ?? 0) + 1;
}

export function hourStart(epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS) * HOUR_MS;
}

export function dayStart(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS) * DAY_MS;
}

export interface RollupKey {
  dimension: RollupDimension;
  value: string;
  detail: string;
}

/**
 * Collects a batch's contributions in memory, then writes one upsert per touched rollup row.
 * Requests of one hour with the same rollup keys (nearly all of a batch: one model, key and
 * user) are summed once into a group, and each group is added to its rows when the batch is
 * written: one sum per request instead of one per row it touches (metrics are integers, so
 * the order of the sums changes nothing).
 */
export class RollupAccumulator {
  private readonly groups = new Map<string, { startedAt: number; keys: readonly RollupKey[]; metrics: RollupMetrics }>();

  add(startedAt: number, keys: readonly RollupKey[], facts: RequestFacts): void {
    // Each value and detail behind its length: a client's text (a user, a tag) may hold the
    // separator, and a list of keys joined without lengths could read as another list.
    let identity = String(hourStart(startedAt));
    for (const key of keys) identity += `\u0000${key.dimension}\u0000${key.value.length}\u0000${key.detail.length}\u0000${key.value}${key.detail}`;
    let group = this.groups.get(identity);
    if (!group) {
      group = { startedAt, keys, metrics: emptyMetrics() };
      this.groups.set(identity, group);
    }
    addRequest(group.metrics, facts);
  }

  /** The rollup rows the collected requests touch. */
  private rows(): Map<string, { granularity: RollupGranularity; period: number; key: RollupKey; metrics: RollupMetrics }> {
    const rows = new Map<string, { granularity: RollupGranularity; period: number; key: RollupKey; metrics: RollupMetrics }>();
    for (const group of this.groups.values()) {
      for (const granularity of ['hour', 'day'] as const) {
        const period = granularity === 'hour' ? hourStart(group.startedAt) : dayStart(group.startedAt);
        for (const key of group.keys) {
          const mapKey = `${granularity}\u0000${key.dimension}\u0000${period}\u0000${key.value}\u0000${key.detail}`;
          let row = rows.get(mapKey);
          if (!row) {
            row = { granularity, period, key, metrics: emptyMetrics() };
            rows.set(mapKey, row);
          }
          mergeMetrics(row.metrics, group.metrics);
        }
      }
    }
    return rows;
  }

  /** Upserts every collected row through the statements from prepareRollupUpserts, and clears. */
  writeTo(statements: Record<RollupGranularity, SqliteStatement>): void {
    for (const { granularity, period, key, metrics } of this.rows().values()) {
      const values: Array<string | number> = [key.dimension, period, key.value, key.detail];
      for (const [field] of ROLLUP_SUM_FIELDS) values.push(metrics[field]);
      values.push(metrics.latencyMaxMs);
      for (const count of metrics.latencyHistogram) values.push(count);
      statements[granularity].run(values);
    }
    this.groups.clear();
  }

  clear(): void {
    this.groups.clear();
  }
}

const ROLLUP_COLUMNS = [
  'dimension',
  'period_start',
  'value',
  'detail',
  ...ROLLUP_SUM_FIELDS.map(([, column]) => column),
  'latency_max_ms',
  ...LATENCY_BUCKET_COLUMNS,
];

function prepareRollupUpsert(database: SqliteDatabase, table: string): SqliteStatement {
  const updates = [
    ...ROLLUP_SUM_FIELDS.map(([, column]) => `${column} = ${column} + excluded.${column}`),
    'latency_max_ms = max(latency_max_ms, excluded.latency_max_ms)',
    ...LATENCY_BUCKET_COLUMNS.map((column) => `${column} = ${column} + excluded.${column}`),
  ];
  return database.prepare<unknown[]>(
    `INSERT INTO ${table} (${ROLLUP_COLUMNS.join(', ')}) VALUES (${ROLLUP_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (dimension, period_start, value, detail) DO UPDATE SET ${updates.join(', ')}`,
  );
}

export function prepareRollupUpserts(database: SqliteDatabase): Record<RollupGranularity, SqliteStatement> {
  return { hour: prepareRollupUpsert(database, ROLLUP_TABLES.hour), day: prepareRollupUpsert(database, ROLLUP_TABLES.day) };
}

/**
 * Recomputes the daily rows of one UTC day from its hourly rows (after retention removed
 * part of that day), so the two tables keep agreeing.
 */
export function rebuildDailyRollup(database: SqliteDatabase, day: number): void {
  database.prepare('DELETE FROM rollup_daily WHERE period_start = ?').run(day);
  database.prepare(REBUILD_DAILY_ROLLUP_SQL).run(day, day, day + DAY_MS);
}

/** The daily rows of one day from its hourly rows; parameters: the day, the day, the next day (both engines). */
export const REBUILD_DAILY_ROLLUP_SQL = `INSERT INTO rollup_daily (${ROLLUP_COLUMNS.join(', ')})
  SELECT dimension, ?, value, detail, ${ROLLUP_COLUMNS.slice(4).map((column) => (column === 'latency_max_ms' ? `max(${column})` : `sum(${column})`)).join(', ')}
  FROM rollup_hourly WHERE period_start >= ? AND period_start < ? GROUP BY dimension, value, detail`;

/** SQL select list that sums rollup rows into the metric columns, aliased as in ROLLUP_SUM_FIELDS. */
export function rollupAggregateSelect(): string {
  return [
    ...ROLLUP_SUM_FIELDS.map(([field, column]) => `sum(${column}) AS "${field}"`),
    'max(latency_max_ms) AS "latencyMaxMs"',
    ...LATENCY_BUCKET_COLUMNS.map((column, index) => `sum(${column}) AS "bucket${index}"`),
  ].join(', ');
}

/** Reads one aggregated row produced with rollupAggregateSelect() into RollupMetrics. */
export function metricsFromAggregateRow(row: Record<string, unknown>): RollupMetrics {
  const metrics = emptyMetrics();
  for (const [field] of ROLLUP_SUM_FIELDS) metrics[field] = Number(row[field] ?? 0);
  metrics.latencyMaxMs = Number(row.latencyMaxMs ?? 0);
  for (let index = 0; index < LATENCY_BUCKET_COUNT; index += 1) metrics.latencyHistogram[index] = Number(row[`bucket${index}`] ?? 0);
  return metrics;
}
