import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPriceBook } from '../../src/main/pricing/catalog.js';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { migratePostgres } from '../../src/main/storage/postgres/migrations.js';
import { writeRequestsToPostgres } from '../../src/main/storage/postgres/request-writer.js';
import { applyPostgresRetention, BEGIN_WRITE, RETENTION_LOCK_KEY } from '../../src/main/storage/postgres/retention.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { makeRecord } from './request-record-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 6, 12, 30, 0);

describe('retention on PostgreSQL', () => {
  let server: ThrowawayPostgres;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function freshPool(name: string): Promise<PostgresPool> {
    const pool = createPostgresPool(await server.createDatabase(name));
    await migratePostgres(pool);
    return pool;
  }
  const count = async (pool: PostgresPool, sql: string, ...values: unknown[]): Promise<number> => Number((await pool.query(sql, values)).rows[0].count);

  it('deletes requests older than the maximum age with their tags, attempts, bodies, unreferenced messages, emptied conversations and rollups', async () => {
    const pool = await freshPool('retention_age');
    try {
      const shared = { role: 'user', content: 'a question every turn repeats' };
      const records = [
        // 10 days old: its own message goes, the shared one stays (a recent request references it).
        makeRecord({ id: 'old-1', startedAt: NOW - 10 * DAY, conversationId: 'conv-old', tags: [{ key: 'team', value: 'red' }], requestBody: { model: 'gpt-4.1', messages: [shared, { role: 'user', content: 'only the old request says this' }] } }),
        makeRecord({ id: 'old-2', startedAt: NOW - 9 * DAY, conversationId: 'conv-both', tags: [{ key: 'team', value: 'red' }], status: 'error', httpStatus: 500 }),
        makeRecord({ id: 'new-1', startedAt: NOW - 2 * DAY, conversationId: 'conv-both', tags: [{ key: 'team', value: 'blue' }], requestBody: { model: 'gpt-4.1', messages: [shared] } }),
        makeRecord({ id: 'new-2', startedAt: NOW - HOUR, conversationId: 'conv-new' }),
      ];
      expect(await writeRequestsToPostgres(pool, records, createPriceBook(), true)).toEqual({ written: 4, failed: [] });
      const before = await pool.query("SELECT requests, errors, first_started_at FROM conversations WHERE id = 'conv-both'");
      expect(before.rows[0]).toEqual({ requests: 2, errors: 1, first_started_at: NOW - 9 * DAY });

      const result = await applyPostgresRetention(pool, { maximumAgeDays: 7 }, NOW);
      expect(result).toMatchObject({ skipped: false, requestsDeleted: 2, bodiesDeleted: 0 });
      expect(result.messagesDeleted).toBeGreaterThanOrEqual(1);
      expect(result.usedBytesAfter).toBeGreaterThan(0);

      expect((await pool.query('SELECT id FROM requests ORDER BY started_at')).rows.map((row) => row.id)).toEqual(['new-1', 'new-2']);
      expect(await count(pool, "SELECT count(*) AS count FROM request_tags WHERE value = 'red'")).toBe(0);
      expect(await count(pool, "SELECT count(*) AS count FROM request_tags WHERE value = 'blue'")).toBe(1);
      expect(await count(pool, 'SELECT count(*) AS count FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.seq = a.request_seq)')).toBe(0);
      expect(await count(pool, 'SELECT count(*) AS count FROM attempts')).toBe(2);
      expect(await count(pool, 'SELECT count(*) AS count FROM bodies b WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.seq = b.request_seq)')).toBe(0);
      expect(await count(pool, 'SELECT count(*) AS count FROM bodies')).toBe(2);
      expect(await count(pool, "SELECT count(*) AS count FROM messages WHERE content_json LIKE '%only the old request%'")).toBe(0);
      expect(await count(pool, "SELECT count(*) AS count FROM messages WHERE content_json LIKE '%every turn repeats%'")).toBe(1);
      // Every reference left points at a message that exists.
      expect(await count(pool, 'SELECT count(*) AS count FROM request_messages rm WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = rm.message_id)')).toBe(0);

      expect((await pool.query('SELECT id FROM conversations ORDER BY id')).rows.map((row) => row.id)).toEqual(['conv-both', 'conv-new']);
      const after = await pool.query("SELECT requests, errors, first_started_at FROM conversations WHERE id = 'conv-both'");
      expect(after.rows[0]).toEqual({ requests: 1, errors: 0, first_started_at: NOW - 2 * DAY });

      // Rollups of the hours deleted go; the daily rows equal the sum of the hourly rows kept.
      const cutoff = Math.floor((NOW - 7 * DAY) / HOUR) * HOUR;
      expect(await count(pool, 'SELECT count(*) AS count FROM rollup_hourly WHERE period_start < $1', cutoff)).toBe(0);
      expect(await count(pool, "SELECT coalesce(sum(requests), 0) AS count FROM rollup_hourly WHERE dimension = 'tag' AND detail = 'red'")).toBe(0);
      const hourly = await count(pool, "SELECT coalesce(sum(requests), 0) AS count FROM rollup_hourly WHERE dimension = 'total'");
      const daily = await count(pool, "SELECT coalesce(sum(requests), 0) AS count FROM rollup_daily WHERE dimension = 'total'");
      expect(hourly).toBe(2);
      expect(daily).toBe(hourly);
    } finally {
      await pool.end();
    }
  });

  it('deletes only bodies and message references older than the body age; the rows stay', async () => {
    const pool = await freshPool('retention_bodies');
    try {
      const records = [
        makeRecord({ id: 'b-old', startedAt: NOW - 5 * DAY, requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'old body text' }] } }),
        makeRecord({ id: 'b-new', startedAt: NOW - HOUR, requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'new body text' }] } }),
      ];
      await writeRequestsToPostgres(pool, records, createPriceBook(), true);
      const result = await applyPostgresRetention(pool, { bodyMaximumAgeDays: 3 }, NOW);
      expect(result).toMatchObject({ requestsDeleted: 0, bodiesDeleted: 1 });
      expect(await count(pool, 'SELECT count(*) AS count FROM requests')).toBe(2);
      expect(await count(pool, "SELECT count(*) AS count FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = 'b-old'")).toBe(0);
      expect(await count(pool, "SELECT count(*) AS count FROM request_messages rm JOIN requests r ON r.seq = rm.request_seq WHERE r.id = 'b-old'")).toBe(0);
      expect(await count(pool, "SELECT count(*) AS count FROM messages WHERE content_json LIKE '%old body text%'")).toBe(0);
      expect(await count(pool, "SELECT count(*) AS count FROM messages WHERE content_json LIKE '%new body text%'")).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('skips while another instance holds the retention lock', async () => {
    const pool = await freshPool('retention_lock');
    const other = await pool.connect();
    try {
      await writeRequestsToPostgres(pool, [makeRecord({ id: 'l-old', startedAt: NOW - 30 * DAY })], createPriceBook(), true);
      await other.query('SELECT pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect(await applyPostgresRetention(pool, { maximumAgeDays: 7 }, NOW)).toMatchObject({ skipped: true, requestsDeleted: 0 });
      expect(await count(pool, 'SELECT count(*) AS count FROM requests')).toBe(1);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      const [first, second] = await Promise.all([applyPostgresRetention(pool, { maximumAgeDays: 7 }, NOW), applyPostgresRetention(pool, { maximumAgeDays: 7 }, NOW)]);
      expect(first.requestsDeleted + second.requestsDeleted).toBe(1);
      expect(await count(pool, 'SELECT count(*) AS count FROM requests')).toBe(0);
    } finally {
      other.release();
      await pool.end();
    }
  });

  it('waits for a write in flight that references a message the deleted requests used, and keeps that message', async () => {
    const pool = await freshPool('retention_race');
    const writer = await pool.connect();
    try {
      const body = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'contested message' }] };
      await writeRequestsToPostgres(pool, [makeRecord({ id: 'r-old', startedAt: NOW - 30 * DAY, requestBody: body })], createPriceBook(), true);
      const messageId = (await pool.query("SELECT id FROM messages WHERE content_json LIKE '%contested message%'")).rows[0].id as number;
      // A write transaction in flight (as request-writer.ts opens one) that has just referenced the message.
      await writer.query(BEGIN_WRITE);
      const inserted = await writer.query("INSERT INTO requests (id, started_at, ended_at, endpoint, status, http_status, stream, priced, latency_ms, attempts) VALUES ('r-new', $1, $1, '/v1/chat/completions', 'success', 200, 0, 1, 1, 1) RETURNING seq", [NOW]);
      await writer.query('INSERT INTO request_messages (request_seq, part, position, message_id) VALUES ($1, 0, 0, $2)', [inserted.rows[0].seq, messageId]);
      const retention = applyPostgresRetention(pool, { maximumAgeDays: 7 }, NOW);
      // Retention's chunk is waiting for the write lock (bounded poll of pg_locks, no timing).
      for (let poll = 0; poll < 500; poll += 1) {
        if ((await count(pool, "SELECT count(*) AS count FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await count(pool, "SELECT count(*) AS count FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).toBe(1);
      await writer.query('COMMIT');
      // The old request's reply (referenced by nothing else) goes; the contested message stays.
      expect(await retention).toMatchObject({ requestsDeleted: 1, messagesDeleted: 1 });
      expect(await count(pool, 'SELECT count(*) AS count FROM messages WHERE id = $1', messageId)).toBe(1);
      expect(await count(pool, "SELECT count(*) AS count FROM messages WHERE content_json LIKE '%Hi there%'")).toBe(0);
    } finally {
      writer.release();
      await pool.end();
    }
  });
});
