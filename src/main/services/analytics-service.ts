/**
 * Analytics for the dashboard: summary cards with the previous period for comparison,
 * time series, cost by model over time, and breakdowns. Everything heavy runs in the
 * storage's analytics worker (its own read connection, off the gateway's event loop);
 * cost by model reads a few thousand hourly rollup rows.
 */
import type { AnalyticsRange, BreakdownDimensionName, MetricsSnapshot, TimeSeriesInput } from '../../shared/contract.js';
import type { MetricsView } from '../storage/analytics.js';
import { listGatewayKeys } from './gateway-key-service.js';
import { OperationError } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

const MAXIMUM_SERIES = 8;
const BREAKDOWNS: readonly BreakdownDimensionName[] = ['model', 'provider', 'tag', 'key', 'user'];

export function readRange(input: unknown): AnalyticsRange {
  const range = input as Partial<AnalyticsRange> | null | undefined;
  const from = range?.from;
  const to = range?.to;
  if (typeof from !== 'number' || typeof to !== 'number' || !Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw new OperationError('The range needs numbers from < to (epoch ms).', 'invalid_range');
  }
  return { from, to };
}

function readSeriesInput(input: TimeSeriesInput): TimeSeriesInput {
  const range = readRange(input);
  const bucket = input?.bucket === 'day' ? 'day' : 'hour';
  if (bucket === 'hour' && range.to - range.from > 93 * 24 * 3600_000) throw new OperationError('Hourly buckets cover at most 93 days; use daily ones.', 'invalid_range');
  let timeZone = typeof input?.timeZone === 'string' ? input.timeZone : 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    timeZone = 'UTC';
  }
  return { ...range, bucket, timeZone };
}

export function snapshotOf(view: MetricsView): MetricsSnapshot {
  return {
    requests: view.requests,
    errors: view.errors,
    cancelled: view.cancelled,
    errorRate: view.errorRate,
    inputTokens: view.tokens.input,
    outputTokens: view.tokens.output,
    reasoningTokens: view.tokens.reasoning,
    cachedInputTokens: view.tokens.cachedInput,
    totalTokens: view.tokens.total,
    costNanoUsd: view.costNanoUsd,
    unpricedRequests: view.unpricedRequests,
    estimatedUsageRequests: view.estimatedUsageRequests,
    averageLatencyMs: view.latency.averageMs,
    p95LatencyMs: view.latency.p95Ms,
    averageTimeToFirstTokenMs: view.timeToFirstTokenAverageMs,
    cacheHits: view.cacheHits,
    cacheSavingsNanoUsd: view.cacheSavingsNanoUsd + view.cacheReadSavingsNanoUsd,
  };
}

export function createAnalyticsService(
  context: ServiceContext,
): Pick<OperationHandlers, 'analytics.summary' | 'analytics.time-series' | 'analytics.cost-by-model' | 'analytics.breakdown'> {
  return {
    'analytics.summary': async (input) => {
      const range = readRange(input);
      const length = range.to - range.from;
      const [current, previous] = await Promise.all([
        context.analytics().summary(range),
        context.analytics().summary({ from: range.from - length, to: range.from }),
      ]);
      return { range, current: snapshotOf(current), previous: snapshotOf(previous) };
    },
    'analytics.time-series': async (input) => {
      const series = readSeriesInput(input);
      const points = await context.analytics().timeSeries({ from: series.from, to: series.to }, series.bucket, series.timeZone);
      return points.map((point) => ({
        bucketStart: point.bucketStart,
        label: point.label,
        requests: point.requests,
        errors: point.errors,
        costNanoUsd: point.costNanoUsd,
        unpricedRequests: point.unpricedRequests,
        totalTokens: point.tokens.total,
      }));
    },
    'analytics.cost-by-model': async (input) => {
      const series = readSeriesInput(input);
      const points = await context.analytics().timeSeries({ from: series.from, to: series.to }, series.bucket, series.timeZone);
      const bucketStarts = points.map((point) => point.bucketStart);
      const hourly = await context.log.hourlyCostByModel(series.from, series.to);
      const totals = new Map<string, number>();
      for (const models of hourly.values()) for (const [model, cost] of models) totals.set(model, (totals.get(model) ?? 0) + cost);
      const ranked = [...totals.entries()].filter(([, cost]) => cost > 0).sort((left, right) => right[1] - left[1]).map(([model]) => model);
      const shown = ranked.slice(0, MAXIMUM_SERIES);
      const hasOther = ranked.length > shown.length;
      const names = hasOther ? [...shown, 'other'] : shown;
      const values = new Map(names.map((name) => [name, new Array<number>(bucketStarts.length).fill(0)]));
      const bucketIndex = (instant: number): number => {
        // The last bucket starting at or before the instant (buckets are sorted).
        let low = 0;
        let high = bucketStarts.length - 1;
        let found = 0;
        while (low <= high) {
          const middle = (low + high) >> 1;
          if ((bucketStarts[middle] as number) <= instant) {
            found = middle;
            low = middle + 1;
          } else high = middle - 1;
        }
        return found;
      };
      for (const [hour, models] of hourly) {
        const index = bucketIndex(hour);
        for (const [model, cost] of models) {
          const target = values.get(shown.includes(model) ? model : 'other');
          if (target) target[index] = (target[index] ?? 0) + cost;
        }
      }
      return { bucketStarts, series: names.map((model) => ({ model, costNanoUsd: values.get(model) ?? [] })) };
    },
    'analytics.breakdown': async (input) => {
      const range = readRange(input);
      const by = BREAKDOWNS.includes(input?.by) ? input.by : 'model';
      const rows = await context.analytics().breakdown(range, by);
      const keyNames = by === 'key' ? new Map((await listGatewayKeys(context)).map((key) => [key.id, key.name])) : null;
      keyNames?.set('playground', 'Playground');
      return rows.map((row) => ({
        value: by === 'tag' && row.value !== null ? `${row.value}:${row.detail ?? ''}` : row.value,
        label: keyNames && row.value ? (keyNames.get(row.value) ?? row.label) : row.label,
        requests: row.requests,
        errors: row.errors,
        totalTokens: row.tokens.total,
        costNanoUsd: row.costNanoUsd,
        unpricedRequests: row.unpricedRequests,
        averageLatencyMs: row.latency.averageMs,
        p95LatencyMs: row.latency.p95Ms,
      }));
    },
  };
}
