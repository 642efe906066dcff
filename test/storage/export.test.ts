import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { exportRequests, formatUsageTable, usageTable } from '../../src/main/storage/export.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const T0 = Date.UTC(2025, 5, 1, 12);
let directory: string;
let database: SqliteDatabase;

beforeEach(() => {
  directory = temporaryDirectory();
  database = openDatabase(directory);
  const writer = createRequestWriter(database);
  writer.enqueue(
    makeRecord({
      id: 'a',
      startedAt: T0,
      user: 'alice',
      tags: [{ key: 'team', value: 'platform' }, { key: 'feature', value: 'code-review' }],
      usage: { inputTokens: 1234, cachedInputTokens: 1000, cacheWriteInputTokens: 0, outputTokens: 77, reasoningTokens: 7 },
    }),
  );
  writer.enqueue(makeRecord({ id: 'b', startedAt: T0 + 1000, provider: 'ollama', requestedModel: 'llama3.2', resolvedModel: 'llama3.2', errorMessage: 'said "no", twice' }));
  writer.enqueue(makeRecord({ id: 'c', startedAt: T0 + 86_400_000, provider: 'anthropic', resolvedModel: 'claude-haiku-4-5', requestedModel: 'claude-haiku-4-5' }));
  writer.close();
});
afterEach(() => {
  database.close();
  removeDirectory(directory);
});

async function collect(format: 'jsonl' | 'csv', since?: number, until?: number): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exportRequests(database, { format, ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) }, sink);
  sink.end();
  return Buffer.concat(chunks).toString('utf8');
}

describe('exportRequests', () => {
  it('writes one camelCase JSON object per request with an exact USD cost', async () => {
    const text = await collect('jsonl');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    // gpt-4.1: 234 × 2000 + 1000 × 500 + 77 × 8000 = 468,000 + 500,000 + 616,000
    expect(first).toMatchObject({
      id: 'a',
      startedAt: new Date(T0).toISOString(),
      requestedModel: 'gpt-4.1',
      provider: 'openai',
      inputTokens: 1234,
      cachedInputTokens: 1000,
      outputTokens: 77,
      reasoningTokens: 7,
      costNanoUsd: 1_584_000,
      costUsd: 0.001584,
      priced: true,
      user: 'alice',
      tags: [
        { key: 'team', value: 'platform' },
        { key: 'feature', value: 'code-review' },
      ].sort((left, right) => left.key.localeCompare(right.key)),
    });
    expect(lines[0]).toContain('"costUsd":0.001584,');
    const unpriced = JSON.parse(lines[1] as string) as Record<string, unknown>;
    expect(unpriced).toMatchObject({ id: 'b', priced: false, costUsd: null });
  });

  it('filters by since / until', async () => {
    const lines = (await collect('jsonl', T0 + 1, T0 + 86_400_000 + 1)).trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['b', 'c']);
  });

  it('writes CSV with a header, quoting and tags as key:value pairs', async () => {
    const lines = (await collect('csv')).trimEnd().split('\n');
    const header = (lines[0] as string).split(',');
    expect(header.slice(0, 3)).toEqual(['id', 'startedAt', 'endedAt']);
    expect(header).toContain('costUsd');
    const first = (lines[1] as string).split(',');
    expect(first[header.indexOf('costUsd')]).toBe('0.001584');
    expect(first[header.indexOf('tags')]).toBe('feature:code-review; team:platform');
    expect(lines[2]).toContain('"said ""no"", twice"');
    expect(lines).toHaveLength(4);
  });

  it('pages through more rows than one page', async () => {
    const writer = createRequestWriter(database);
    for (let index = 0; index < 2500; index += 1) writer.enqueue(makeRecord({ startedAt: T0 + 5 }));
    writer.close();
    expect((await collect('jsonl')).trimEnd().split('\n')).toHaveLength(2503);
  });
});

describe('usageTable', () => {
  it('groups by model, provider, tag, user and local day, counting unpriced requests', () => {
    const byModel = usageTable(database, 'model');
    expect(byModel.map((row) => [row.group, row.requests, row.costUsd, row.unpricedRequests])).toEqual([
      ['gpt-4.1 (openai)', 1, '0.001584', 0],
      ['claude-haiku-4-5 (anthropic)', 1, '0.0015', 0],
      ['llama3.2 (ollama)', 1, '0', 1],
    ]);
    expect(usageTable(database, 'provider').map((row) => row.group)).toEqual(['openai', 'anthropic', 'ollama']);
    expect(usageTable(database, 'tag').map((row) => row.group).sort()).toEqual(['feature:code-review', 'team:platform']);
    expect(usageTable(database, 'user').map((row) => [row.group, row.requests])).toEqual([
      ['alice', 1],
      ['(none)', 2],
    ]);
    expect(usageTable(database, 'day', { timeZone: 'Asia/Tokyo' }).map((row) => [row.group, row.requests])).toEqual([
      ['2025-06-01', 2],
      ['2025-06-02', 1],
    ]);
    const table = formatUsageTable(byModel, 'model');
    expect(table.split('\n')[0]).toMatch(/^model\s+requests\s+errors/);
    expect(table).toContain('0.003084');
  });
});
