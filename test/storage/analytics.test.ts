import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { breakdown, conversation, listConversations, summary, timeSeries } from '../../src/main/storage/analytics.js';
import { createAnalyticsClient } from '../../src/main/storage/analytics-worker.js';
import { databasePath, openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import type { StoredRequestRecord } from '../../src/main/storage/stored-record.js';
import { chatTranscript, makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const HOUR = 3_600_000;
let directory: string;
let database: SqliteDatabase;

beforeEach(() => {
  directory = temporaryDirectory();
  database = openDatabase(directory);
});
afterEach(() => {
  database.close();
  removeDirectory(directory);
});

function write(records: StoredRequestRecord[]): void {
  const writer = createRequestWriter(database, { flushIntervalMs: 60_000 });
  for (const record of records) writer.enqueue(record);
  writer.close();
}

const T0 = Date.UTC(2025, 5, 1, 10, 0, 0);

describe('summary and breakdowns', () => {
  beforeEach(() => {
    write([
      // gpt-4.1: 1000 in, 100 out = 2,000,000 + 800,000 nano
      makeRecord({ startedAt: T0 + 5 * 60_000, latencyMs: 100, tags: [{ key: 'team', value: 'platform' }], user: 'alice' }),
      makeRecord({ startedAt: T0 + 2 * HOUR, latencyMs: 300, tags: [{ key: 'team', value: 'platform' }, { key: 'feature', value: 'review' }], user: 'bob' }),
      // An unpriced local model with tokens.
      makeRecord({ startedAt: T0 + 2 * HOUR + 1, provider: 'ollama', requestedModel: 'llama3.2', resolvedModel: 'llama3.2', latencyMs: 2000, user: 'alice', gatewayKeyId: 'key-2' }),
      // An upstream error without usage.
      makeRecord({ startedAt: T0 + 3 * HOUR, status: 'error', httpStatus: 500, usage: null, responseBody: null, latencyMs: 50, tags: [{ key: 'team', value: 'search' }] }),
      // A response-cache hit.
      makeRecord({ startedAt: T0 + 3 * HOUR + 10, cacheHit: true, attempts: 0, latencyMs: 5 }),
      // Claude with cache read/write: 2600 in (2000 read, 500 write), 300 out.
      makeRecord({
        startedAt: T0 + 4 * HOUR + 30 * 60_000,
        provider: 'anthropic',
        requestedModel: 'claude-sonnet-4-5',
        resolvedModel: 'claude-sonnet-4-5-20250929',
        usage: { inputTokens: 2600, cachedInputTokens: 2000, cacheWriteInputTokens: 500, outputTokens: 300, reasoningTokens: 0 },
        latencyMs: 1200,
        timeToFirstTokenMs: 400,
        stream: true,
      }),
    ]);
  });

  it('summarises requests, tokens, cost, unpriced, latency, errors and cache', () => {
    const result = summary(database, { from: T0, to: T0 + 24 * HOUR });
    expect(result.requests).toBe(6);
    expect(result.errors).toBe(1);
    expect(result.errorRate).toBeCloseTo(1 / 6);
    // Billed tokens: 3 × gpt/ollama (1000/100) + claude (2600/300); the cache hit and the error add none.
    expect(result.tokens).toEqual({ input: 5600, cachedInput: 2000, cacheWrite: 500, output: 600, reasoning: 0, total: 6200 });
    const claude = 100 * 3000 + 2000 * 300 + 500 * 3750 + 300 * 15000;
    expect(result.costNanoUsd).toBe(2 * 2_800_000 + claude);
    expect(result.costUsd).toBe('0.012875');
    expect(result.unpricedRequests).toBe(1);
    expect(result.cacheHits).toBe(1);
    expect(result.cacheSavingsNanoUsd).toBe(2_800_000);
    expect(result.cacheReadSavingsNanoUsd).toBe(2000 * 2700);
    expect(result.latency.averageMs).toBe(Math.round((100 + 300 + 2000 + 50 + 5 + 1200) / 6));
    expect(result.latency.maxMs).toBe(2000);
    expect(result.latency.p95Ms).toBeGreaterThanOrEqual(1500);
    expect(result.latency.p95Ms).toBeLessThanOrEqual(2000);
    expect(result.timeToFirstTokenAverageMs).toBe(400);
  });

  it('breaks down by model, provider, tag, key and user', () => {
    const range = { from: T0, to: T0 + 24 * HOUR };
    const byModel = breakdown(database, range, 'model');
    expect(byModel.map((row) => [row.label, row.requests, row.unpricedRequests])).toEqual([
      ['claude-sonnet-4-5-20250929 (anthropic)', 1, 0],
      ['gpt-4.1 (openai)', 4, 0],
      ['llama3.2 (ollama)', 1, 1],
    ]);
    const byProvider = breakdown(database, range, 'provider');
    expect(byProvider.map((row) => [row.value, row.requests])).toEqual([
      ['anthropic', 1],
      ['openai', 4],
      ['ollama', 1],
    ]);
    const byTag = breakdown(database, range, 'tag');
    expect(byTag.map((row) => [row.label, row.requests, row.costNanoUsd])).toEqual([
      ['team:platform', 2, 5_600_000],
      ['feature:review', 1, 2_800_000],
      ['team:search', 1, 0],
    ]);
    expect(breakdown(database, range, 'key').map((row) => [row.value, row.requests])).toEqual([
      ['key-1', 5],
      ['key-2', 1],
    ]);
    const byUser = breakdown(database, range, 'user');
    expect(byUser.map((row) => [row.label, row.requests])).toEqual([
      ['(none)', 3],
      ['alice', 2],
      ['bob', 1],
    ]);
    expect(byUser[0]?.value).toBeNull();
  });

  it('counts partial hours at the range edges from raw rows, exactly', () => {
    // From 10:05 (inclusive) to 13:00:00.010 (exclusive): the first row, the hour of 12:00, and the cache hit at 13:00:00.010 excluded.
    const result = summary(database, { from: T0 + 5 * 60_000, to: T0 + 3 * HOUR + 10 });
    expect(result.requests).toBe(4);
    expect(summary(database, { from: T0 + 5 * 60_000 + 1, to: T0 + 3 * HOUR + 11 }).requests).toBe(4);
    expect(summary(database, { from: T0, to: T0 }).requests).toBe(0);
  });
});

describe('rollups agree with raw rows', () => {
  it('for random ranges over random traffic', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const models = [
      ['openai', 'gpt-4.1-mini'],
      ['anthropic', 'claude-haiku-4-5'],
      ['gemini', 'gemini-2.5-flash'],
      ['ollama', 'llama3.2'],
    ] as const;
    const records: StoredRequestRecord[] = [];
    for (let index = 0; index < 2000; index += 1) {
      const [provider, model] = models[Math.floor(random() * models.length)] as (typeof models)[number];
      const input = Math.floor(random() * 5000);
      records.push(
        makeRecord({
          startedAt: T0 + Math.floor(random() * 80 * HOUR),
          provider,
          requestedModel: model,
          resolvedModel: model,
          status: random() < 0.1 ? 'error' : 'success',
          usage: { inputTokens: input, cachedInputTokens: Math.floor(input * random() * 0.5), cacheWriteInputTokens: 0, outputTokens: Math.floor(random() * 800), reasoningTokens: 0 },
          latencyMs: Math.floor(random() * 4000),
          user: `user-${Math.floor(random() * 5)}`,
          tags: random() < 0.5 ? [{ key: 'team', value: `t${Math.floor(random() * 3)}` }] : [],
        }),
      );
    }
    write(records);
    const totals = (table: string) =>
      database.prepare(`SELECT dimension, value, detail, sum(requests) AS requests, sum(cost_nano_usd) AS cost, sum(latency_bucket_05) AS bucket FROM ${table} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`).all();
    expect(totals('rollup_daily')).toEqual(totals('rollup_hourly'));
    for (let trial = 0; trial < 30; trial += 1) {
      const from = T0 + Math.floor(random() * 30 * HOUR) - HOUR;
      const to = from + Math.floor(random() * (trial % 3 === 0 ? 2 : 70) * HOUR);
      const expected = database
        .prepare(
          `SELECT count(*) AS requests, coalesce(sum(cost_nano_usd), 0) AS cost, coalesce(sum(input_tokens), 0) AS input,
                  coalesce(sum(priced = 0), 0) AS unpriced, coalesce(sum(status = 'error'), 0) AS errors, coalesce(max(latency_ms), 0) AS maximum
           FROM requests WHERE started_at >= ? AND started_at < ?`,
        )
        .get(from, to) as Record<string, number>;
      const result = summary(database, { from, to });
      expect([result.requests, result.costNanoUsd, result.tokens.input, result.unpricedRequests, result.errors, result.latency.maxMs ?? 0]).toEqual([
        expected.requests,
        expected.cost,
        expected.input,
        expected.unpriced,
        expected.errors,
        expected.maximum,
      ]);
      const byTag = breakdown(database, { from, to }, 'tag');
      const expectedTags = database
        .prepare(
          `SELECT t.key || ':' || t.value AS label, count(*) AS requests FROM requests r JOIN request_tags t ON t.request_seq = r.seq
           WHERE r.started_at >= ? AND r.started_at < ? GROUP BY label ORDER BY label`,
        )
        .all(from, to);
      expect(byTag.map((row) => ({ label: row.label, requests: row.requests })).sort((a, b) => a.label.localeCompare(b.label))).toEqual(expectedTags);
    }
  });
});

describe('time series in the user time zone', () => {
  it('buckets days in America/New_York across the November DST change', () => {
    write([
      makeRecord({ startedAt: Date.UTC(2025, 10, 1, 12) }), // Nov 1 08:00 EDT
      makeRecord({ startedAt: Date.UTC(2025, 10, 2, 3, 30) }), // Nov 1 23:30 EDT
      makeRecord({ startedAt: Date.UTC(2025, 10, 2, 5, 30) }), // Nov 2 01:30 EDT
      makeRecord({ startedAt: Date.UTC(2025, 10, 2, 6, 30) }), // Nov 2 01:30 EST (second time)
      makeRecord({ startedAt: Date.UTC(2025, 10, 3, 4, 30) }), // Nov 2 23:30 EST (Nov 3 in UTC)
      makeRecord({ startedAt: Date.UTC(2025, 10, 3, 5, 30) }), // Nov 3 00:30 EST
    ]);
    const from = Date.UTC(2025, 10, 1, 4); // Nov 1 00:00 EDT
    const to = Date.UTC(2025, 10, 4, 5); // Nov 4 00:00 EST
    const days = timeSeries(database, { from, to }, 'day', 'America/New_York');
    expect(days.map((point) => [point.label, point.bucketStart, point.requests])).toEqual([
      ['2025-11-01', Date.UTC(2025, 10, 1, 4), 2],
      ['2025-11-02', Date.UTC(2025, 10, 2, 4), 3],
      ['2025-11-03', Date.UTC(2025, 10, 3, 5), 1],
    ]);
    const utcDays = timeSeries(database, { from: Date.UTC(2025, 10, 1), to: Date.UTC(2025, 10, 4) }, 'day', 'UTC');
    expect(utcDays.map((point) => [point.label, point.requests])).toEqual([
      ['2025-11-01', 1],
      ['2025-11-02', 3],
      ['2025-11-03', 2],
    ]);
  });

  it('keeps the two local 01:00 hours of a fall-back night apart', () => {
    write([makeRecord({ startedAt: Date.UTC(2025, 10, 2, 5, 10) }), makeRecord({ startedAt: Date.UTC(2025, 10, 2, 6, 10) })]);
    const hours = timeSeries(database, { from: Date.UTC(2025, 10, 2, 4), to: Date.UTC(2025, 10, 2, 8) }, 'hour', 'America/New_York');
    expect(hours.map((point) => [point.label, point.requests])).toEqual([
      ['2025-11-02T00:00-04:00', 0],
      ['2025-11-02T01:00-04:00', 1],
      ['2025-11-02T01:00-05:00', 1],
      ['2025-11-02T02:00-05:00', 0],
    ]);
  });

  it('gives the March spring-forward day 23 hourly buckets and skips 02:00', () => {
    const from = Date.UTC(2025, 2, 9, 5); // Mar 9 00:00 EST
    const to = Date.UTC(2025, 2, 10, 4); // Mar 10 00:00 EDT
    write([makeRecord({ startedAt: Date.UTC(2025, 2, 9, 7, 15) })]); // 03:15 EDT
    const hours = timeSeries(database, { from, to }, 'hour', 'America/New_York');
    expect(hours).toHaveLength(23);
    expect(hours.map((point) => point.label)).not.toContain('2025-03-09T02:00-05:00');
    expect(hours.find((point) => point.requests === 1)?.label).toBe('2025-03-09T03:00-04:00');
    const days = timeSeries(database, { from, to }, 'day', 'America/New_York');
    expect(days.map((point) => [point.label, point.requests])).toEqual([['2025-03-09', 1]]);
  });

  it('rejects an unknown time zone', () => {
    expect(() => timeSeries(database, { from: T0, to: T0 + HOUR }, 'hour', 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('conversations', () => {
  it('lists conversations and returns one in order with each turn cost and new messages', () => {
    const transcript = chatTranscript(3);
    write(
      transcript.map((turn, index) =>
        makeRecord({
          id: `turn-${index + 1}`,
          startedAt: T0 + index * 60_000,
          conversationId: 'chat-1',
          usage: { inputTokens: 100 * (index + 1), cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 10, reasoningTokens: 0 },
          requestBody: { model: 'gpt-4.1', messages: turn.messages },
          responseBody: { choices: [{ index: 0, message: turn.reply }] },
        }),
      ),
    );
    write([makeRecord({ startedAt: T0 + HOUR, conversationId: 'chat-2' })]);
    const list = listConversations(database, { from: T0, to: T0 + 2 * HOUR }, 1, 0);
    expect(list.hasMore).toBe(true);
    expect(list.conversations.map((item) => item.id)).toEqual(['chat-2']);
    const second = listConversations(database, { from: T0, to: T0 + 2 * HOUR }, 1, 1);
    expect(second.conversations[0]).toMatchObject({ id: 'chat-1', requests: 3, title: 'Question number 1: what is 1 squared?' });
    expect(second.hasMore).toBe(false);

    const detail = conversation(database, 'chat-1');
    expect(detail?.turns.map((turn) => turn.requestId)).toEqual(['turn-1', 'turn-2', 'turn-3']);
    expect(detail?.turns.map((turn) => turn.costNanoUsd)).toEqual([100 * 2000 + 80_000, 200 * 2000 + 80_000, 300 * 2000 + 80_000]);
    expect(detail?.costNanoUsd).toBe(600 * 2000 + 3 * 80_000);
    expect(detail?.turns[0]?.newMessages).toEqual(transcript[0]?.messages);
    expect(detail?.turns[1]?.newMessages).toEqual([{ role: 'user', content: 'Question number 2: what is 2 squared?' }]);
    expect(detail?.turns[2]?.responseMessages).toEqual([{ role: 'assistant', content: '9' }]);
    expect(conversation(database, 'missing')).toBeNull();
  });
});

describe('analytics worker', () => {
  it('answers the same queries off the main thread', async () => {
    write([makeRecord({ startedAt: T0 }), makeRecord({ startedAt: T0 + HOUR, tags: [{ key: 'team', value: 'a' }] })]);
    const client = createAnalyticsClient(databasePath(directory));
    try {
      const range = { from: T0, to: T0 + 2 * HOUR };
      expect(await client.summary(range)).toEqual(summary(database, range));
      expect(await client.breakdown(range, 'tag')).toEqual(breakdown(database, range, 'tag'));
      expect(await client.timeSeries(range, 'hour', 'Europe/Paris')).toEqual(timeSeries(database, range, 'hour', 'Europe/Paris'));
      await expect(client.timeSeries(range, 'hour', 'Mars/Olympus')).rejects.toThrow();
      expect(await client.listConversations(range, 10, 0)).toEqual(listConversations(database, range, 10, 0));
      expect((await client.listConversations(range, 10, 0)).conversations).toHaveLength(1);
    } finally {
      await client.close();
    }
    await expect(client.summary({ from: 0, to: 1 })).rejects.toThrow(/closed/);
  });
});
