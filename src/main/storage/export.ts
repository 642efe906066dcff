/**
 * Exports for the CLI: `exportRequests` streams one JSON object (JSON Lines) or CSV row
 * per logged request, oldest first, with camelCase field names and the cost in USD as an
 * exact decimal derived from the stored nano-dollars; `usageTable` aggregates usage by
 * model, provider, tag, user or day for a readable table, and `formatUsageTable` renders
 * it. Bodies are not exported; secrets are never stored, so never exported.
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { formatNanoUsd } from '../pricing/cost.js';
import { breakdownPlan, timeSeriesPlan, type MetricsView } from './analytics.js';
import type { SqliteDatabase } from './database.js';
import { rowsOf, runOnSqlite, SQLITE_DIALECT, type Plan, type SqlDialect } from './sql-plan.js';

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportOptions {
  format: ExportFormat;
  /** Inclusive lower bound on the start time (epoch ms). */
  since?: number;
  /** Exclusive upper bound on the start time (epoch ms). */
  until?: number;
}

/** One exported request. Field order is also the CSV column order. */
export interface ExportedRequest {
  id: string;
  startedAt: string;
  endedAt: string;
  endpoint: string;
  requestedModel: string | null;
  resolvedModel: string | null;
  provider: string | null;
  status: string;
  httpStatus: number;
  errorType: string | null;
  errorMessage: string | null;
  stream: boolean;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  usageEstimated: boolean;
  /** Exact decimal USD string, e.g. "0.001234567"; null when unpriced. */
  costUsd: string | null;
  costNanoUsd: number;
  priced: boolean;
  cacheHit: boolean;
  /** What a response-cache hit would have cost (0 for any other request). */
  cacheSavingsNanoUsd: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  attempts: number;
  finishReason: string | null;
  gatewayKeyId: string | null;
  user: string | null;
  conversationId: string | null;
  tags: Array<{ key: string; value: string }>;
}

const EXPORT_FIELDS: ReadonlyArray<keyof ExportedRequest> = [
  'id', 'startedAt', 'endedAt', 'endpoint', 'requestedModel', 'resolvedModel', 'provider', 'status', 'httpStatus',
  'errorType', 'errorMessage', 'stream', 'inputTokens', 'cachedInputTokens', 'cacheWriteInputTokens', 'outputTokens',
  'reasoningTokens', 'usageEstimated', 'costUsd', 'costNanoUsd', 'priced', 'cacheHit', 'cacheSavingsNanoUsd', 'latencyMs',
  'timeToFirstTokenMs', 'attempts', 'finishReason', 'gatewayKeyId', 'user', 'conversationId', 'tags',
];

interface ExportRow {
  id: string;
  started_at: number;
  ended_at: number;
  endpoint: string;
  requested_model: string | null;
  resolved_model: string | null;
  provider: string | null;
  status: string;
  http_status: number;
  error_type: string | null;
  error_message: string | null;
  stream: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  usage_estimated: number;
  cost_nano_usd: number;
  priced: number;
  cache_hit: number;
  cache_savings_nano_usd: number;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  attempts: number;
  finish_reason: string | null;
  gateway_key_id: string | null;
  user: string | null;
  conversation_id: string | null;
  tags_json: string;
}

const PAGE_SIZE = 1000;

function toExported(row: ExportRow): ExportedRequest {
  return {
    id: row.id,
    startedAt: new Date(row.started_at).toISOString(),
    endedAt: new Date(row.ended_at).toISOString(),
    endpoint: row.endpoint,
    requestedModel: row.requested_model,
    resolvedModel: row.resolved_model,
    provider: row.provider,
    status: row.status,
    httpStatus: row.http_status,
    errorType: row.error_type,
    errorMessage: row.error_message,
    stream: row.stream === 1,
    inputTokens: row.input_tokens,
    cachedInputTokens: row.cached_input_tokens,
    cacheWriteInputTokens: row.cache_write_input_tokens,
    outputTokens: row.output_tokens,
    reasoningTokens: row.reasoning_tokens,
    usageEstimated: row.usage_estimated === 1,
    costUsd: row.priced === 1 ? formatNanoUsd(row.cost_nano_usd) : null,
    costNanoUsd: row.cost_nano_usd,
    priced: row.priced === 1,
    cacheHit: row.cache_hit === 1,
    cacheSavingsNanoUsd: row.cache_savings_nano_usd,
    latencyMs: row.latency_ms,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    attempts: row.attempts,
    finishReason: row.finish_reason,
    gatewayKeyId: row.gateway_key_id,
    user: row.user,
    conversationId: row.conversation_id,
    tags: JSON.parse(row.tags_json) as Array<{ key: string; value: string }>,
  };
}

/**
 * JSON with `costUsd` written as a JSON number spelled exactly as the decimal string
 * (no float round trip), e.g. `"costUsd":0.001234567`.
 */
const COST_PLACEHOLDER = `cost-${randomUUID()}`;

function jsonLine(request: ExportedRequest): string {
  const ordered: Record<string, unknown> = {};
  for (const field of EXPORT_FIELDS) ordered[field] = field === 'costUsd' ? COST_PLACEHOLDER : request[field];
  return JSON.stringify(ordered).replace(`"${COST_PLACEHOLDER}"`, request.costUsd ?? 'null');
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(request: ExportedRequest): string {
  return EXPORT_FIELDS.map((field) => {
    if (field === 'tags') return csvCell(request.tags.map((tag) => `${tag.key}:${tag.value}`).join('; '));
    return csvCell(request[field]);
  }).join(',');
}

function write(writable: Writable, chunk: string): Promise<void> {
  if (writable.write(chunk)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      writable.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      writable.off('drain', onDrain);
      reject(error);
    };
    writable.once('drain', onDrain);
    writable.once('error', onError);
  });
}

/** One page of the export, oldest first, after (afterStartedAt, afterId). */
function* exportPagePlan(dialect: SqlDialect, since: number, until: number, afterStartedAt: number, afterId: string): Plan<ExportRow[]> {
  return yield* rowsOf<ExportRow>(
    `SELECT r.id, r.started_at, r.ended_at, r.endpoint, r.requested_model, r.resolved_model, r.provider, r.status,
            r.http_status, r.error_type, r.error_message, r.stream, r.input_tokens, r.cached_input_tokens,
            r.cache_write_input_tokens, r.output_tokens, r.reasoning_tokens, r.usage_estimated, r.cost_nano_usd,
            r.priced, r.cache_hit, r.cache_savings_nano_usd, r.latency_ms, r.time_to_first_token_ms, r.attempts, r.finish_reason,
            r.gateway_key_id, r."user", r.conversation_id, ${dialect.tagsJson} AS tags_json
     FROM requests r
     WHERE r.started_at >= ? AND r.started_at < ? AND (r.started_at > ? OR (r.started_at = ? AND r.id > ?))
     ORDER BY r.started_at, r.id LIMIT ?`,
    since, until, afterStartedAt, afterStartedAt, afterId, PAGE_SIZE,
  );
}

/** How an export reads its pages: one plan at a time on whichever store. */
export type PlanRunner = <Result>(plan: Plan<Result>) => Result | Promise<Result>;

/**
 * Streams requests to `writable` (which is not ended), paging by (started_at, id) so no
 * statement stays open across awaits and the writer can keep writing meanwhile.
 * Returns the number of requests written.
 */
export async function exportRequests(database: SqliteDatabase, options: ExportOptions, writable: Writable): Promise<number> {
  return exportRequestsWith((plan) => runOnSqlite(database, plan), SQLITE_DIALECT, options, writable);
}

export async function exportRequestsWith(run: PlanRunner, dialect: SqlDialect, options: ExportOptions, writable: Writable): Promise<number> {
  const since = options.since ?? Number.MIN_SAFE_INTEGER;
  const until = options.until ?? Number.MAX_SAFE_INTEGER;
  if (options.format === 'csv') await write(writable, `${EXPORT_FIELDS.join(',')}\n`);
  let afterStartedAt = Number.MIN_SAFE_INTEGER;
  let afterId = '';
  let count = 0;
  for (;;) {
    const rows = await run(exportPagePlan(dialect, since, until, afterStartedAt, afterId));
    if (rows.length === 0) break;
    let chunk = '';
    for (const row of rows) {
      const request = toExported(row);
      chunk += `${options.format === 'csv' ? csvLine(request) : jsonLine(request)}\n`;
    }
    await write(writable, chunk);
    count += rows.length;
    const last = rows[rows.length - 1] as ExportRow;
    afterStartedAt = last.started_at;
    afterId = last.id;
  }
  return count;
}

export type UsageGrouping = 'model' | 'provider' | 'tag' | 'user' | 'day';

export interface UsageTableOptions {
  since?: number;
  until?: number;
  /** IANA zone for `day` rows (default: the system's). */
  timeZone?: string;
}

export interface UsageRow {
  /** Model, provider, `key:value` tag, user or local date; `(none)` when absent. */
  group: string;
  requests: number;
  errors: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** Exact decimal USD of the priced requests. */
  costUsd: string;
  costNanoUsd: number;
  unpricedRequests: number;
  averageLatencyMs: number | null;
}

function usageRow(group: string, view: MetricsView): UsageRow {
  return {
    group,
    requests: view.requests,
    errors: view.errors,
    inputTokens: view.tokens.input,
    cachedInputTokens: view.tokens.cachedInput,
    cacheWriteInputTokens: view.tokens.cacheWrite,
    outputTokens: view.tokens.output,
    reasoningTokens: view.tokens.reasoning,
    costUsd: view.costUsd,
    costNanoUsd: view.costNanoUsd,
    unpricedRequests: view.unpricedRequests,
    averageLatencyMs: view.latency.averageMs,
  };
}

/** Usage grouped for the CLI's table, from the rollups (fast on any log size). */
export function usageTable(database: SqliteDatabase, by: UsageGrouping, options: UsageTableOptions = {}): UsageRow[] {
  return runOnSqlite(database, usageTablePlan(by, options));
}

export function* usageTablePlan(by: UsageGrouping, options: UsageTableOptions = {}): Plan<UsageRow[]> {
  let from = options.since;
  if (from === undefined) {
    const [oldest] = yield* rowsOf<{ oldest: number | null }>('SELECT min(started_at) AS oldest FROM requests');
    from = oldest?.oldest === null || oldest?.oldest === undefined ? Date.now() : Number(oldest.oldest);
  }
  const to = options.until ?? Math.max(Date.now(), from) + 1;
  const range = { from, to };
  if (by === 'day') {
    const timeZone = options.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    return (yield* timeSeriesPlan(range, 'day', timeZone))
      .filter((point) => point.requests > 0)
      .map((point) => usageRow(point.label, point));
  }
  return (yield* breakdownPlan(range, by)).map((row) => usageRow(row.label, row));
}

/** Renders usage rows as an aligned plain-text table with a total line. */
export function formatUsageTable(rows: UsageRow[], groupHeading = 'group'): string {
  const headings = [groupHeading, 'requests', 'errors', 'input', 'cached', 'cache write', 'output', 'reasoning', 'cost USD', 'unpriced'];
  const total = rows.reduce(
    (sum, row) => {
      sum.requests += row.requests;
      sum.errors += row.errors;
      sum.inputTokens += row.inputTokens;
      sum.cachedInputTokens += row.cachedInputTokens;
      sum.cacheWriteInputTokens += row.cacheWriteInputTokens;
      sum.outputTokens += row.outputTokens;
      sum.reasoningTokens += row.reasoningTokens;
      sum.costNanoUsd += row.costNanoUsd;
      sum.unpricedRequests += row.unpricedRequests;
      return sum;
    },
    { requests: 0, errors: 0, inputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0, costNanoUsd: 0, unpricedRequests: 0 },
  );
  const cells = (group: string, row: Omit<UsageRow, 'group' | 'costUsd' | 'averageLatencyMs'>): string[] => [
    group,
    row.requests.toLocaleString('en-US'),
    row.errors.toLocaleString('en-US'),
    row.inputTokens.toLocaleString('en-US'),
    row.cachedInputTokens.toLocaleString('en-US'),
    row.cacheWriteInputTokens.toLocaleString('en-US'),
    row.outputTokens.toLocaleString('en-US'),
    row.reasoningTokens.toLocaleString('en-US'),
    formatNanoUsd(row.costNanoUsd),
    row.unpricedRequests.toLocaleString('en-US'),
  ];
  const table = [headings, ...rows.map((row) => cells(row.group, row)), cells('total', total)];
  const widths = headings.map((_heading, column) => Math.max(...table.map((line) => (line[column] ?? '').length)));
  const render = (line: string[]): string =>
    line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  const separator = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(headings), separator, ...rows.map((row) => render(cells(row.group, row))), separator, render(cells('total', total))].join('\n');
}
