/**
 * Analytics benchmark: fills a fresh database with N logged requests through the request
 * writer (default 1,000,000, spread over 90 days), then prints
 *  1. bulk write throughput (batches of 4,096 records, one transaction each);
 *  2. each dashboard query's time (p50 / max over several runs) on the main thread and
 *     through the analytics worker;
 *  3. a stand-in gateway (an HTTP server on 127.0.0.1 that logs every request through the
 *     writer) driven at a fixed request rate by a client in the same process: its
 *     latency and the main thread's event-loop delay at rest, while the worker runs
 *     dashboard queries continuously, and, for contrast, while the same queries run on
 *     the main thread; with the writer's batch sizes and how long each batch held the
 *     event loop.
 *
 * Request ids are time-ordered (UUIDv7-like): random UUIDs work the same but make the
 * bulk fill ~30 % slower (each batch touches more pages of the id index).
 *
 * Run: npx tsx bench/analytics-bench.ts [rows] [--keep]
 * (--keep leaves the database in the temporary directory for inspection.)
 *
 * With --postgres the same rows go into PostgreSQL through the team writer (batches of
 * 4,096, one transaction each, rollups maintained by the writer) and the same dashboard
 * queries are timed there (1 and 2 only): on SWITCHYARD_DATABASE_URL when set (its tables
 * must be empty), else on a throwaway server started here (the test helper; PostgreSQL's
 * binaries must be installed).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createAnalytics, type TimeRange } from '../src/main/storage/analytics.js';
import { createPriceBook } from '../src/main/pricing/catalog.js';
import { createPostgresPool } from '../src/main/storage/postgres/connection.js';
import { migratePostgres } from '../src/main/storage/postgres/migrations.js';
import { writeRequestsToPostgres } from '../src/main/storage/postgres/request-writer.js';
import { postgresAnalytics } from '../src/main/storage/store.js';
import { createAnalyticsClient, type AnalyticsClient } from '../src/main/storage/analytics-worker.js';
import { databasePath, openDatabase } from '../src/main/storage/database.js';
import { createRequestWriter } from '../src/main/storage/request-writer.js';
import type { StoredRequestRecord } from '../src/main/storage/stored-record.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPAN_DAYS = 90;
const RUNS = 7;
const TIME_ZONE = 'America/New_York';
/** The stand-in gateway's load: a busy desktop gateway (real use is usually far below). */
const REQUESTS_PER_SECOND = 200;

const argumentsList = process.argv.slice(2);
const rowCount = Number(argumentsList.find((argument) => /^\d+$/.test(argument)) ?? 1_000_000);
const keep = argumentsList.includes('--keep');
const onPostgres = argumentsList.includes('--postgres');

// Deterministic pseudo-random numbers so runs are comparable.
let seed = 12_345;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const MODELS = [
  ['openai', 'gpt-4.1', 0.2],
  ['openai', 'gpt-4.1-mini', 0.2],
  ['openai', 'gpt-4o-mini', 0.05],
  ['openai', 'o4-mini', 0.05],
  ['anthropic', 'claude-sonnet-4-5-20250929', 0.15],
  ['anthropic', 'claude-haiku-4-5', 0.1],
  ['gemini', 'gemini-2.5-flash', 0.1],
  ['gemini', 'gemini-2.5-pro', 0.03],
  ['xai', 'grok-3-mini', 0.04],
  ['ollama', 'llama3.2:3b', 0.05],
  ['lmstudio', 'qwen3-8b', 0.03],
] as const;
const KEYS = Array.from({ length: 8 }, (_unused, index) => `key-${index}`);
const USERS = Array.from({ length: 50 }, (_unused, index) => `user-${index}`);
const TEAMS = ['platform', 'search', 'growth', 'data', 'mobile'];
const FEATURES = ['code-review', 'chat', 'summarise', 'classify', 'agent', 'embed', 'translate', 'extract'];

function pickModel(): readonly [string, string] {
  let roll = random();
  for (const [provider, model, weight] of MODELS) {
    roll -= weight;
    if (roll <= 0) return [provider, model];
  }
  return [MODELS[0][0], MODELS[0][1]];
}

function percentile(values: number[], quantile: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] ?? 0;
}

function format(milliseconds: number): string {
  return milliseconds < 10 ? milliseconds.toFixed(2) : milliseconds.toFixed(1);
}

const now = Date.now();
const start = now - SPAN_DAYS * DAY;
const conversationPool = Math.max(10, Math.floor(rowCount / 20));
let longestConversation = 'conversation-0';

/** A UUIDv7-like id: 48 bits of milliseconds, then random bits. */
function timeOrderedId(epochMs: number): string {
  const time = epochMs.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}${randomUUID().slice(13)}`;
}

function makeRecord(index: number): StoredRequestRecord {
  const [provider, model] = pickModel();
  const startedAt = start + Math.floor((index / rowCount) * SPAN_DAYS * DAY);
  const latencyMs = Math.floor(200 + random() * random() * 8000);
  const failed = random() < 0.03;
  const inConversation = random() < 0.3;
  const conversationNumber = Math.floor(random() * random() * conversationPool);
  const conversationId = inConversation ? `conversation-${conversationNumber}` : null;
  const input = Math.floor(50 + random() * 6000);
  const cached = provider === 'ollama' || provider === 'lmstudio' ? 0 : Math.floor(input * random() * 0.6);
  const reasoning = model.startsWith('o4') || model.startsWith('grok') ? Math.floor(random() * 800) : 0;
  const output = failed ? 0 : Math.floor(10 + random() * 900) + reasoning;
  const tags: Array<{ key: string; value: string }> = [];
  if (random() < 0.6) tags.push({ key: 'team', value: pick(TEAMS) });
  if (random() < 0.4) tags.push({ key: 'feature', value: pick(FEATURES) });
  const question = { role: 'user', content: `Question ${index}: summarise item ${Math.floor(random() * 1e6)}` };
  const reply = { role: 'assistant', content: `Summary ${index}` };
  return {
    id: timeOrderedId(startedAt),
    startedAt,
    endedAt: startedAt + latencyMs,
    endpoint: '/v1/chat/completions',
    requestedModel: model,
    resolvedModel: model,
    provider,
    status: failed ? 'error' : 'success',
    httpStatus: failed ? 502 : 200,
    errorType: failed ? 'upstream_error' : null,
    errorMessage: failed ? 'upstream returned 502' : null,
    stream: random() < 0.5,
    usage: failed
      ? null
      : { inputTokens: input, cachedInputTokens: cached, cacheWriteInputTokens: 0, outputTokens: output, reasoningTokens: reasoning },
    timeToFirstTokenMs: Math.floor(latencyMs / 4),
    latencyMs,
    attempts: 1,
    finishReason: failed ? null : 'stop',
    gatewayKeyId: pick(KEYS),
    user: random() < 0.8 ? pick(USERS) : null,
    conversationId,
    tags,
    requestBody: { model, messages: [{ role: 'system', content: 'You are a helpful assistant.' }, question] },
    upstreamRequestBody: null,
    responseBody: failed ? null : { id: `chatcmpl-${index}`, object: 'chat.completion', choices: [{ index: 0, message: reply, finish_reason: 'stop' }] },
    warnings: [],
  };
}

// 2. Dashboard queries. Ranges end "now" (not on an hour) so raw edge rows are read too.
const ranges: Record<string, TimeRange> = {
  '24h': { from: now - DAY, to: now },
  '7d': { from: now - 7 * DAY, to: now },
  '30d': { from: now - 30 * DAY, to: now },
  '90d': { from: start, to: now + 1 },
};
type Query = [string, (analytics: ReturnType<typeof createAnalytics> | AnalyticsClient) => unknown];

function dashboardQueries(longestTurns: number): Query[] {
  return [
    ['summary 24h', (analytics) => analytics.summary(ranges['24h'] as TimeRange)],
    ['summary 30d', (analytics) => analytics.summary(ranges['30d'] as TimeRange)],
    ['summary 90d (all rows)', (analytics) => analytics.summary(ranges['90d'] as TimeRange)],
    ['timeSeries 7d by hour (New York)', (analytics) => analytics.timeSeries(ranges['7d'] as TimeRange, 'hour', TIME_ZONE)],
    ['timeSeries 90d by day (New York)', (analytics) => analytics.timeSeries(ranges['90d'] as TimeRange, 'day', TIME_ZONE)],
    ['breakdown 30d by model', (analytics) => analytics.breakdown(ranges['30d'] as TimeRange, 'model')],
    ['breakdown 30d by provider', (analytics) => analytics.breakdown(ranges['30d'] as TimeRange, 'provider')],
    ['breakdown 30d by tag', (analytics) => analytics.breakdown(ranges['30d'] as TimeRange, 'tag')],
    ['breakdown 30d by key', (analytics) => analytics.breakdown(ranges['30d'] as TimeRange, 'key')],
    ['breakdown 90d by user', (analytics) => analytics.breakdown(ranges['90d'] as TimeRange, 'user')],
    ['listConversations 30d (50)', (analytics) => analytics.listConversations(ranges['30d'] as TimeRange, 50, 0)],
    [`conversation (longest, ${longestTurns} turns)`, (analytics) => analytics.conversation(longestConversation)],
  ];
}

async function main(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
  const database = openDatabase(directory);
  console.log(`Switchyard analytics benchmark: ${rowCount.toLocaleString('en-US')} requests over ${SPAN_DAYS} days`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), data in ${directory}\n`);

  // 1. Fill through the writer in large batches (one transaction each).
  const fillBatchSize = 4096;
  const writer = createRequestWriter(database, { flushIntervalMs: 60_000, maxBatchSize: fillBatchSize });
  const fillStart = performance.now();
  let lastReport = fillStart;
  for (let index = 0; index < rowCount; index += 1) {
    writer.enqueue(makeRecord(index));
    if (writer.pendingCount >= fillBatchSize || index === rowCount - 1) {
      writer.flush();
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`  … ${(index + 1).toLocaleString('en-US')} rows in ${((lastReport - fillStart) / 1000).toFixed(0)} s`);
      }
    }
  }
  writer.close();
  const fillSeconds = (performance.now() - fillStart) / 1000;
  database.pragma('wal_checkpoint(TRUNCATE)');
  const fileMegabytes = fs.statSync(databasePath(directory)).size / 1024 / 1024;
  const rollupRows = database.prepare('SELECT count(*) FROM rollup_hourly').pluck().get() as number;
  longestConversation =
    (database.prepare('SELECT id FROM conversations ORDER BY requests DESC LIMIT 1').pluck().get() as string | undefined) ?? longestConversation;
  const longestTurns = database.prepare('SELECT requests FROM conversations WHERE id = ?').pluck().get(longestConversation) as number;
  console.log('1. Writing');
  console.log(
    `   ${rowCount.toLocaleString('en-US')} rows in ${fillSeconds.toFixed(1)} s = ${Math.round(rowCount / fillSeconds).toLocaleString('en-US')} rows/s (bodies and messages stored)`,
  );
  console.log(`   database ${fileMegabytes.toFixed(0)} MB, ${rollupRows.toLocaleString('en-US')} rollup rows\n`);

  const queries = dashboardQueries(longestTurns);
  const analytics = createAnalytics(database);
  const client = createAnalyticsClient(databasePath(directory));
  await client.summary(ranges['24h'] as TimeRange); // start-up
  console.log(`2. Dashboard queries, ${RUNS} runs each (ms)`);
  console.log(`   ${'query'.padEnd(42)} ${'main p50'.padStart(9)} ${'main max'.padStart(9)} ${'worker p50'.padStart(11)} ${'worker max'.padStart(11)}`);
  for (const [name, run] of queries) {
    const direct: number[] = [];
    const viaWorker: number[] = [];
    for (let attempt = 0; attempt < RUNS; attempt += 1) {
      let begin = performance.now();
      run(analytics);
      direct.push(performance.now() - begin);
      begin = performance.now();
      await run(client);
      viaWorker.push(performance.now() - begin);
    }
    console.log(
      `   ${name.padEnd(42)} ${format(percentile(direct, 0.5)).padStart(9)} ${format(Math.max(...direct)).padStart(9)} ${format(percentile(viaWorker, 0.5)).padStart(11)} ${format(Math.max(...viaWorker)).padStart(11)}`,
    );
  }

  // 3. A stand-in gateway: logs every request through the writer, answered at once.
  let batchSizes: number[] = [];
  let batchTimes: number[] = [];
  const gatewayWriter = createRequestWriter(database, {
    onBatchWritten: (records, milliseconds) => {
      batchSizes.push(records);
      batchTimes.push(milliseconds);
    },
  });
  let served = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
      const record = makeRecord(served);
      served += 1;
      gatewayWriter.enqueue({ ...record, startedAt: Date.now(), endedAt: Date.now() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  function oneRequest(): Promise<number> {
    const begin = performance.now();
    return new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(performance.now() - begin));
      });
      request.on('error', reject);
      request.end('{}');
    });
  }

  async function measurePhase(label: string, durationMs: number, background: (() => Promise<void>) | null): Promise<void> {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const latencies: number[] = [];
    batchSizes = [];
    batchTimes = [];
    let running = true;
    let queryCount = 0;
    const backgroundLoop = (async () => {
      if (!background) return;
      while (running) {
        await background();
        queryCount += 1;
      }
    })();
    delay.enable();
    // Open loop: requests are sent on a fixed schedule, whether or not earlier ones returned.
    const begin = performance.now();
    const inFlight: Array<Promise<void>> = [];
    let sent = 0;
    while (performance.now() - begin < durationMs) {
      const due = Math.floor(((performance.now() - begin) / 1000) * REQUESTS_PER_SECOND);
      for (; sent < due; sent += 1) inFlight.push(oneRequest().then((latency) => void latencies.push(latency)));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(inFlight);
    delay.disable();
    running = false;
    await backgroundLoop;
    console.log(
      `   ${label.padEnd(34)} ${String(latencies.length).padStart(8)} ${format(percentile(latencies, 0.5)).padStart(7)} ${format(percentile(latencies, 0.99)).padStart(7)} ${format(Math.max(...latencies)).padStart(7)} ${format(delay.percentile(99) / 1e6).padStart(9)} ${format(delay.max / 1e6).padStart(9)} ${String(queryCount).padStart(8)} ${format(percentile(batchSizes, 0.5)).padStart(7)} ${format(percentile(batchTimes, 0.5)).padStart(8)} ${format(batchTimes.length > 0 ? Math.max(...batchTimes) : 0).padStart(8)}`,
    );
  }

  let queryIndex = 0;
  const nextQuery = (target: ReturnType<typeof createAnalytics> | AnalyticsClient) => {
    const query = queries[queryIndex % queries.length] as Query;
    queryIndex += 1;
    return query[1](target);
  };
  console.log(`\n3. Stand-in gateway at ${REQUESTS_PER_SECOND} requests/s (open loop, 5 s per phase; ms)`);
  console.log(
    `   ${''.padEnd(34)} ${'requests'.padStart(8)} ${'latency'.padStart(7)} ${''.padStart(7)} ${''.padStart(7)} ${'event loop'.padStart(9)} ${''.padStart(9)} ${'queries'.padStart(8)} ${'batch'.padStart(7)} ${'batch ms'.padStart(8)} ${''.padStart(8)}`,
  );
  console.log(
    `   ${'phase'.padEnd(34)} ${'served'.padStart(8)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)} ${'p99'.padStart(9)} ${'max'.padStart(9)} ${'run'.padStart(8)} ${'p50'.padStart(7)} ${'p50'.padStart(8)} ${'max'.padStart(8)}`,
  );
  await measurePhase('warm-up', 1000, null);
  await measurePhase('no dashboard queries', 5000, null);
  await measurePhase('dashboard queries in the worker', 5000, async () => {
    await nextQuery(client);
  });
  await measurePhase('same queries on the main thread', 5000, async () => {
    nextQuery(analytics);
    await new Promise((resolve) => setImmediate(resolve));
  });

  server.close();
  agent.destroy();
  gatewayWriter.close();
  await client.close();
  database.close();
  if (keep) console.log(`\nkept ${directory}`);
  else fs.rmSync(directory, { recursive: true, force: true });
}

/** 1 and 2 on PostgreSQL: the team writer fills it, the same plans answer the dashboards. */
async function postgresMain(): Promise<void> {
  const given = process.env.SWITCHYARD_DATABASE_URL;
  const throwaway = given ? null : await (await import('../test/helpers/throwaway-postgres.js')).startThrowawayPostgres();
  const url = given ?? throwaway!.url;
  const pool = createPostgresPool(url, { max: 4 });
  try {
    await migratePostgres(pool);
    const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
    console.log(`Switchyard analytics benchmark on PostgreSQL ${version}: ${rowCount.toLocaleString('en-US')} requests over ${SPAN_DAYS} days`);
    console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})${throwaway ? ', a throwaway server (fsync off)' : ''}\n`);
    const priceBook = createPriceBook();
    const fillBatchSize = 4096;
    const fillStart = performance.now();
    let lastReport = fillStart;
    for (let first = 0; first < rowCount; first += fillBatchSize) {
      const batch: StoredRequestRecord[] = [];
      for (let index = first; index < Math.min(rowCount, first + fillBatchSize); index += 1) batch.push(makeRecord(index));
      const result = await writeRequestsToPostgres(pool, batch, priceBook, true);
      if (result.failed.length > 0) throw new Error(`rows refused: ${result.failed[0]!.error.message}`);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`  … ${(first + batch.length).toLocaleString('en-US')} rows in ${((lastReport - fillStart) / 1000).toFixed(0)} s`);
      }
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    await pool.query('VACUUM ANALYZE');
    const size = (await pool.query<{ size: number }>('SELECT pg_database_size(current_database()) AS size')).rows[0]!.size / 1024 / 1024;
    const rollupRows = (await pool.query<{ count: number }>('SELECT count(*) AS count FROM rollup_hourly')).rows[0]!.count;
    const longest = (await pool.query<{ id: string; requests: number }>('SELECT id, requests FROM conversations ORDER BY requests DESC LIMIT 1')).rows[0];
    longestConversation = longest?.id ?? longestConversation;
    console.log('1. Writing');
    console.log(
      `   ${rowCount.toLocaleString('en-US')} rows in ${fillSeconds.toFixed(1)} s = ${Math.round(rowCount / fillSeconds).toLocaleString('en-US')} rows/s (bodies and messages stored)`,
    );
    console.log(`   database ${size.toFixed(0)} MB, ${rollupRows.toLocaleString('en-US')} rollup rows\n`);

    const analytics = postgresAnalytics(pool);
    await analytics.summary(ranges['24h'] as TimeRange); // connections up, plans cached
    console.log(`2. Dashboard queries, ${RUNS} runs each (ms, from the gateway's process, PostgreSQL on this machine)`);
    console.log(`   ${'query'.padEnd(42)} ${'p50'.padStart(9)} ${'max'.padStart(9)}`);
    for (const [name, run] of dashboardQueries(longest?.requests ?? 0)) {
      const times: number[] = [];
      for (let attempt = 0; attempt < RUNS; attempt += 1) {
        const begin = performance.now();
        await run(analytics);
        times.push(performance.now() - begin);
      }
      console.log(`   ${name.padEnd(42)} ${format(percentile(times, 0.5)).padStart(9)} ${format(Math.max(...times)).padStart(9)}`);
    }
  } finally {
    await pool.end();
    await throwaway?.stop();
  }
}

if (onPostgres) await postgresMain();
else await main();
