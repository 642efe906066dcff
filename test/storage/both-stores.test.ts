/**
 * One suite, both stores: the request log's sink, every read behind RequestLogReader
 * (export, usage, the inspector's list and detail, facets, cost by hour, budget spend),
 * the dashboards' analytics and conversations, and gateway keys — on SQLite in a data
 * folder and on a throwaway PostgreSQL (one server for the file). The same records go
 * into each; the answers are checked here and, at the end, compared between the engines.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalytics } from '../../src/main/storage/analytics.js';
import type { AnalyticsClient } from '../../src/main/storage/analytics-worker.js';
import { SqliteGatewayKeyManager } from '../../src/main/storage/gateway-keys.js';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { PostgresGatewayKeyManager } from '../../src/main/storage/postgres/gateway-keys.js';
import { migratePostgres } from '../../src/main/storage/postgres/migrations.js';
import { openPostgresRequestLog } from '../../src/main/storage/postgres/request-log.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import {
  postgresAnalytics,
  postgresRequestLogReader,
  sqliteGatewayKeyStore,
  sqliteRequestLogReader,
  type GatewayKeyStore,
  type RequestLogReader,
  type RequestLogSink,
} from '../../src/main/storage/store.js';
import type { StoredRequestRecord } from '../../src/main/storage/stored-record.js';
import { createPriceBook } from '../../src/main/pricing/catalog.js';
import { costOfRecord } from '../../src/main/storage/record-cost.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 5, 1, 0, 0, 0);

/** Three days of traffic: models, providers, users, tags, an error, a cache hit, one two-turn conversation, partial hours. */
function dataset(): StoredRequestRecord[] {
  const records: StoredRequestRecord[] = [];
  for (let index = 0; index < 60; index += 1) {
    const startedAt = T0 + Math.floor(index / 20) * DAY + (index % 20) * HOUR + (index % 7) * 61_000;
    const anthropic = index % 3 === 0;
    records.push(
      makeRecord({
        id: `both-${String(index).padStart(3, '0')}`,
        startedAt,
        latencyMs: 100 + index * 37,
        provider: anthropic ? 'anthropic' : 'openai',
        requestedModel: anthropic ? 'claude-haiku-4-5' : 'gpt-4.1',
        resolvedModel: anthropic ? 'claude-haiku-4-5' : 'gpt-4.1',
        user: index % 4 === 0 ? 'alice' : index % 4 === 1 ? 'bob' : null,
        tags: index % 5 === 0 ? [{ key: 'team', value: 'Platform' }] : index % 5 === 1 ? [{ key: 'team', value: 'web' }, { key: 'tool', value: 'aider' }] : [],
        status: index === 13 ? 'error' : 'success',
        httpStatus: index === 13 ? 502 : 200,
        errorMessage: index === 13 ? 'upstream said NO' : null,
        cacheHit: index === 21,
        timeToFirstTokenMs: index % 2 === 0 ? 50 + index : null,
        usage: { inputTokens: 1000 + index, cachedInputTokens: index % 3 === 1 ? 200 : 0, cacheWriteInputTokens: 0, outputTokens: 100 + index, reasoningTokens: index % 6 },
        requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: `question ${index % 10}` }] },
      }),
    );
  }
  // A conversation of two turns (the second resends the first and its reply).
  const first = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+2?' }];
  const reply = { role: 'assistant', content: '4' };
  // The second turn streamed: its upstream body is the client's with stream_options added (stored as a marker with them).
  const secondTurn = { model: 'gpt-4.1', stream: true, messages: [...first, reply, { role: 'user', content: 'And 3+3?' }] };
  records.push(
    makeRecord({
      id: 'both-conversation-1',
      startedAt: T0 + 2 * DAY + 21 * HOUR,
      requestBody: { model: 'gpt-4.1', messages: first },
      responseBody: { id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: reply, finish_reason: 'stop' }] },
    }),
    makeRecord({
      id: 'both-conversation-2',
      startedAt: T0 + 2 * DAY + 21 * HOUR + 30_000,
      stream: true,
      requestBody: secondTurn,
      upstreamRequestBody: { ...secondTurn, stream_options: { include_usage: true } },
      responseBody: { id: 'c2', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: '6' }, finish_reason: 'stop' }] },
    }),
  );
  return records;
}

interface Engine {
  sink: RequestLogSink;
  reader: RequestLogReader;
  analytics: Pick<AnalyticsClient, 'summary' | 'timeSeries' | 'breakdown' | 'listConversations' | 'conversation'>;
  keys: GatewayKeyStore;
  close(): Promise<void>;
}

let postgres: ThrowawayPostgres | null = null;
const pools: PostgresPool[] = [];

const engines: Record<'sqlite' | 'postgres', () => Promise<Engine>> = {
  async sqlite() {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    const keys = sqliteGatewayKeyStore(new SqliteGatewayKeyManager(log.database, { refreshIntervalMs: 0, flushIntervalMs: 0 }));
    const analytics = createAnalytics(log.database);
    return {
      sink: log,
      reader: sqliteRequestLogReader(log.database, false),
      analytics: {
        summary: async (range) => analytics.summary(range),
        timeSeries: async (range, bucket, zone) => analytics.timeSeries(range, bucket, zone),
        breakdown: async (range, by) => analytics.breakdown(range, by),
        listConversations: async (range, limit, offset) => analytics.listConversations(range, limit, offset),
        conversation: async (id, turns) => analytics.conversation(id, turns),
      },
      keys,
      async close() {
        await keys.close();
        await log.close();
        removeDirectory(directory);
      },
    };
  },
  async postgres() {
    postgres ??= await startThrowawayPostgres();
    const pool = createPostgresPool(await postgres.createDatabase('both_stores'));
    pools.push(pool);
    await migratePostgres(pool);
    const directory = temporaryDirectory();
    const sink = await openPostgresRequestLog(directory, pool);
    const keys = await PostgresGatewayKeyManager.open(pool, { flushIntervalMs: 0, hasKeysRefreshMs: 0 });
    return {
      sink,
      reader: postgresRequestLogReader(pool),
      analytics: postgresAnalytics(pool),
      keys,
      async close() {
        await keys.close();
        await sink.close();
        removeDirectory(directory);
      },
    };
  },
};

/** Each engine's answers to the same questions, compared at the end. */
const answers = new Map<string, unknown>();

async function exportText(reader: RequestLogReader, format: 'jsonl' | 'csv', since?: number, until?: number): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await reader.exportRequests({ format, since, until }, sink);
  sink.end();
  return Buffer.concat(chunks).toString('utf8');
}

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await postgres?.stop();
});

const engineNames = ['sqlite', 'postgres'] as const;

describe.each(engineNames)('the %s store', (name) => {
  let engine: Engine;
  const records = dataset();
  beforeAll(async () => {
    engine = await engines[name]();
    for (const record of records) engine.sink.observer.requestFinished(record);
    await engine.sink.committed();
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('exports every request oldest first, with tags and exact costs, in JSON Lines and CSV; since/until bound it', async () => {
    const lines = (await exportText(engine.reader, 'jsonl')).trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; tags: unknown; costNanoUsd: number; user: string | null });
    expect(lines.map((line) => line.id)).toEqual([...records].sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id)).map((record) => record.id));
    expect(lines.find((line) => line.id === 'both-001')!.tags).toEqual([{ key: 'team', value: 'web' }, { key: 'tool', value: 'aider' }]);
    expect(lines.find((line) => line.id === 'both-002')!.tags).toEqual([]);
    expect(lines.find((line) => line.id === 'both-000')!.user).toBe('alice');
    const csv = (await exportText(engine.reader, 'csv', T0 + DAY, T0 + 2 * DAY)).trimEnd().split('\n');
    expect(csv[0]).toMatch(/^id,startedAt,/);
    expect(csv).toHaveLength(1 + 20);
    answers.set(`${name}:export`, lines);
  });

  it('usage by model, provider, tag, user and day', async () => {
    const byModel = await engine.reader.usageTable('model');
    expect(byModel.map((row) => [row.group, row.requests]).sort()).toEqual([['claude-haiku-4-5 (anthropic)', 20], ['gpt-4.1 (openai)', 42]]);
    const byTag = await engine.reader.usageTable('tag');
    expect(byTag.map((row) => [row.group, row.requests]).sort()).toEqual([['team:Platform', 12], ['team:web', 12], ['tool:aider', 12]]);
    const byUser = await engine.reader.usageTable('user');
    expect(byUser.map((row) => [row.group, row.requests]).sort()).toEqual([['(none)', 32], ['alice', 15], ['bob', 15]]);
    const byDay = await engine.reader.usageTable('day', { since: T0, until: T0 + 3 * DAY, timeZone: 'UTC' });
    expect(byDay.map((row) => [row.group, row.requests])).toEqual([['2025-06-01', 20], ['2025-06-02', 20], ['2025-06-03', 22]]);
    answers.set(`${name}:usage`, [byModel, byTag, byUser, byDay, await engine.reader.usageTable('provider')]);
  });

  it('the inspector: filtered pages newest first, a case-insensitive search, one request with its bodies restored, facets', async () => {
    const page = await engine.reader.listRequests({ provider: ['anthropic'] }, 5);
    expect(page.items).toHaveLength(5);
    expect(page.hasMore).toBe(true);
    expect(page.items.every((item) => item.provider === 'anthropic')).toBe(true);
    const older = await engine.reader.listRequests({ provider: ['anthropic'] }, 50, page.items[4]!.startedAt);
    expect(older.items).toHaveLength(15);
    expect((await engine.reader.listRequests({ tag: ['team:platform'] }, 50)).items).toHaveLength(0);
    expect((await engine.reader.listRequests({ tag: ['team:Platform'] }, 50)).items).toHaveLength(12);
    const searched = await engine.reader.listRequests({ text: 'said no' }, 50);
    expect(searched.items.map((item) => item.id)).toEqual(['both-013']);
    const detail = await engine.reader.getRequest('both-conversation-2');
    expect(detail?.requestBody).toEqual(records.find((record) => record.id === 'both-conversation-2')!.requestBody);
    expect(detail?.upstreamRequestBody).toEqual(records.find((record) => record.id === 'both-conversation-2')!.upstreamRequestBody);
    expect(detail?.attempts).toHaveLength(1);
    expect(await engine.reader.getRequest('nope')).toBeNull();
    const facets = await engine.reader.requestFacets(T0);
    expect(facets.providers).toEqual(['anthropic', 'openai']);
    expect(facets.tags).toEqual(['team:Platform', 'team:web', 'tool:aider']);
    answers.set(`${name}:inspector`, [page, older, detail, facets]);
  });

  it('dashboards: summary, hourly series, breakdowns and cost by hour over ranges with partial hours', async () => {
    const range = { from: T0 + 30 * 60_000, to: T0 + 2 * DAY + 20 * HOUR + 17 * 60_000 };
    const summary = await engine.analytics.summary(range);
    const inRange = records.filter((record) => record.startedAt >= range.from && record.startedAt < range.to);
    expect(summary.requests).toBe(inRange.length);
    expect(summary.errors).toBe(1);
    expect(summary.cacheHits).toBe(1);
    const series = await engine.analytics.timeSeries({ from: T0, to: T0 + DAY }, 'hour', 'UTC');
    expect(series).toHaveLength(24);
    expect(series.reduce((sum, point) => sum + point.requests, 0)).toBe(20);
    const byKey = await engine.analytics.breakdown(range, 'user');
    expect(byKey.reduce((sum, row) => sum + row.requests, 0)).toBe(inRange.length);
    const hourly = await engine.reader.hourlyCostByModel(range.from, range.to);
    const total = [...hourly.values()].flatMap((models) => [...models.values()]).reduce((sum, cost) => sum + cost, 0);
    expect(total).toBe(summary.costNanoUsd);
    answers.set(`${name}:analytics`, [summary, series, byKey, await engine.analytics.breakdown(range, 'tag'), [...hourly].map(([hour, models]) => [hour, [...models]])]);
  });

  it('budget spend by tag, user and key since an instant', async () => {
    const since = T0 + DAY;
    const book = createPriceBook();
    const expected = (match: (record: StoredRequestRecord) => boolean): number =>
      records.filter((record) => record.startedAt >= since && match(record)).reduce((sum, record) => sum + costOfRecord(record, book).costNanoUsd, 0);
    const spentByUser = await engine.reader.spendSince({ key: null, tag: null, user: 'alice' }, since);
    expect(spentByUser).toBeGreaterThan(0);
    expect(spentByUser).toBe(expected((record) => record.user === 'alice'));
    const spentByTag = await engine.reader.spendSince({ key: null, tag: { key: 'team', value: 'Platform' }, user: null }, since);
    expect(spentByTag).toBe(expected((record) => record.tags.some((tag) => tag.key === 'team' && tag.value === 'Platform')));
    expect(await engine.reader.spendSince({ key: null, tag: null, user: 'nobody' }, since)).toBe(0);
    answers.set(`${name}:spend`, [spentByUser, spentByTag]);
  });

  it('conversations: the two turns grouped, each showing only what it added', async () => {
    // Every request is in exactly one conversation; the two-turn chat is one of them.
    const list = await engine.analytics.listConversations({ from: T0, to: T0 + 3 * DAY }, 100, 0);
    expect(list.conversations.reduce((sum, conversation) => sum + conversation.requests, 0)).toBe(records.length);
    const id = (await engine.reader.getRequest('both-conversation-1'))!.summary.conversationId!;
    expect(list.conversations.find((conversation) => conversation.id === id)?.requests).toBe(2);
    const detail = await engine.analytics.conversation(id);
    expect(detail?.turns.map((turn) => turn.requestId)).toEqual(['both-conversation-1', 'both-conversation-2']);
    expect(detail?.turns[1]!.newMessages).toEqual([{ role: 'user', content: 'And 3+3?' }]);
    expect(detail?.turns[1]!.responseMessages).toEqual([{ role: 'assistant', content: '6' }]);
    answers.set(`${name}:conversations`, [list, detail]);
  });

  it('gateway keys: created, verified, found by prefix, listed, revoked and then refused', async () => {
    const { key, record } = await engine.keys.create({ name: 'both', tags: [{ key: 'team', value: 'web' }], allowedModels: ['gpt-4.1'] });
    expect(await engine.keys.verify(key)).toMatchObject({ id: record.id, name: 'both', tags: [{ key: 'team', value: 'web' }], allowedModels: ['gpt-4.1'] });
    expect(await engine.keys.verify(`${key.slice(0, -1)}x`)).toBeNull();
    expect((await engine.keys.find(record.prefix))?.id).toBe(record.id);
    expect((await engine.keys.list()).map((entry) => entry.name)).toContain('both');
    expect(engine.keys.hasKeys()).toBe(true);
    expect(await engine.keys.revokeKey(record.id)).toBe(true);
    expect(await engine.keys.revokeKey(record.id)).toBe(false);
    expect(await engine.keys.verify(key)).toBeNull();
  });
});

describe('SQLite and PostgreSQL', () => {
  it('answer every question above identically', () => {
    for (const question of ['export', 'usage', 'inspector', 'analytics', 'spend', 'conversations']) {
      expect(answers.get(`sqlite:${question}`), question).toBeDefined();
      expect(answers.get(`postgres:${question}`), question).toEqual(answers.get(`sqlite:${question}`));
    }
  });
});
