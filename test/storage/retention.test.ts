import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { summary } from '../../src/main/storage/analytics.js';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { applyRetention, usedBytes } from '../../src/main/storage/retention.js';
import { chatTranscript, makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 30, 12, 30);
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

function count(table: string): number {
  return database.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

/** Ten daily turns of one conversation, oldest 9 days ago, each with a tag. */
function writeTenDays(): void {
  const writer = createRequestWriter(database);
  chatTranscript(10).forEach((turn, index) => {
    writer.enqueue(
      makeRecord({
        id: `day-${index}`,
        startedAt: NOW - (9 - index) * DAY,
        conversationId: 'long-chat',
        tags: [{ key: 'team', value: 'a' }],
        requestBody: { model: 'gpt-4.1', messages: turn.messages },
        responseBody: { choices: [{ index: 0, message: turn.reply }] },
      }),
    );
  });
  writer.close();
}

describe('retention', () => {
  it('deletes requests older than N days with their tags, attempts, bodies, messages and rollups', () => {
    writeTenDays();
    const messagesBefore = count('messages');
    const result = applyRetention(database, { maximumAgeDays: 3 }, NOW);
    // Kept: started at or after the hour of NOW − 3 days, i.e. days 6..9.
    expect(result.requestsDeleted).toBe(6);
    expect(count('requests')).toBe(4);
    expect(count('request_tags')).toBe(4);
    expect(count('attempts')).toBe(4);
    expect(count('bodies')).toBe(4);
    // The kept turns still reference the early messages they resend; only replies/questions of no kept turn go.
    expect(count('messages')).toBeLessThanOrEqual(messagesBefore);
    expect(database.prepare('SELECT min(period_start) FROM rollup_hourly').pluck().get()).toBeGreaterThanOrEqual(NOW - 3 * DAY - 3_600_000);
    // The daily rollups still add up to the hourly ones (the cut day was rebuilt).
    const totals = (table: string) =>
      database.prepare(`SELECT dimension, sum(requests) AS requests, sum(cost_nano_usd) AS cost FROM ${table} GROUP BY dimension ORDER BY dimension`).all();
    expect(totals('rollup_daily')).toEqual(totals('rollup_hourly'));
    expect(summary(database, { from: 0, to: NOW + DAY }).requests).toBe(4);
    expect(database.prepare("SELECT requests, first_started_at FROM conversations WHERE id = 'long-chat'").get()).toEqual({
      requests: 4,
      first_started_at: NOW - 3 * DAY,
    });
  });

  it('drops message contents no longer referenced', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(makeRecord({ id: 'old', startedAt: NOW - 10 * DAY, requestBody: { messages: [{ role: 'user', content: 'old only' }] } }));
    writer.enqueue(makeRecord({ id: 'new', startedAt: NOW, requestBody: { messages: [{ role: 'user', content: 'new only' }] } }));
    writer.close();
    applyRetention(database, { maximumAgeDays: 5 }, NOW);
    const contents = database.prepare('SELECT content_json FROM messages').pluck().all() as string[];
    expect(contents.some((content) => content.includes('old only'))).toBe(false);
    expect(contents.some((content) => content.includes('new only'))).toBe(true);
  });

  it('deletes only bodies past their own age limit, keeping rows and costs', () => {
    writeTenDays();
    const result = applyRetention(database, { bodyMaximumAgeDays: 2 }, NOW);
    expect(result.requestsDeleted).toBe(0);
    expect(result.bodiesDeleted).toBe(7);
    expect(count('requests')).toBe(10);
    expect(count('bodies')).toBe(3);
    expect(summary(database, { from: 0, to: NOW + DAY }).costNanoUsd).toBe(10 * 2_800_000);
  });

  it('deletes the oldest requests until the database fits a maximum size, then gives pages back', () => {
    const writer = createRequestWriter(database);
    for (let index = 0; index < 3000; index += 1) {
      writer.enqueue(
        makeRecord({
          startedAt: NOW - DAY + index * 1000,
          requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: `unique prompt ${index} ${'x'.repeat(500)}` }] },
        }),
      );
    }
    writer.close();
    const before = usedBytes(database);
    const limit = Math.floor(before / 2);
    const result = applyRetention(database, { maximumSizeBytes: limit }, NOW);
    expect(result.usedBytesAfter).toBeLessThanOrEqual(limit);
    expect(result.requestsDeleted).toBeGreaterThan(0);
    expect(result.fileBytesAfter).toBeLessThan(before);
    const oldest = database.prepare('SELECT min(started_at) FROM requests').pluck().get() as number;
    const newest = database.prepare('SELECT max(started_at) FROM requests').pluck().get() as number;
    expect(newest).toBe(NOW - DAY + 2999 * 1000);
    expect(oldest).toBeGreaterThan(NOW - DAY);
  });
});
