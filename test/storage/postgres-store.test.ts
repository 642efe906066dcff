import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPriceBook } from '../../src/main/pricing/catalog.js';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { PostgresGatewayKeyManager } from '../../src/main/storage/postgres/gateway-keys.js';
import { migratePostgres, postgresMigrations } from '../../src/main/storage/postgres/migrations.js';
import { openPostgresRequestLog } from '../../src/main/storage/postgres/request-log.js';
import { writeRequestsToPostgres } from '../../src/main/storage/postgres/request-writer.js';
import { journalEntry } from '../../src/main/storage/request-log.js';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';
import { rowsOf, rowsOfEach, runOnPostgres, type Plan } from '../../src/main/storage/sql-plan.js';

describe('PostgreSQL store', () => {
  let server: ThrowawayPostgres;
  let pool: PostgresPool;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    pool = createPostgresPool(server.url);
    await migratePostgres(pool);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await server?.stop();
  });

  it('three migrators starting at once on a fresh database apply each migration exactly once', async () => {
    const url = await server.createDatabase('concurrent_migrations');
    const pools = [0, 1, 2].map(() => createPostgresPool(url, { max: 1 }));
    try {
      const versions = await Promise.all(pools.map((each) => migratePostgres(each)));
      expect(versions).toEqual([postgresMigrations.length, postgresMigrations.length, postgresMigrations.length]);
      const { rows } = await pools[0]!.query('SELECT version FROM switchyard_schema');
      expect(rows).toEqual([{ version: postgresMigrations.length }]);
      const tables = await pools[0]!.query("SELECT count(*) AS count FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('requests', 'gateway_keys', 'rollup_hourly')");
      expect(tables.rows[0].count).toBe(3);
    } finally {
      await Promise.all(pools.map((each) => each.end()));
    }
  });

  it('a plan step of several statements is sent together, each answered with its own rows in order; a failing one rejects and the connection stays usable', async () => {
    const single = createPostgresPool(server.url, { max: 1 });
    function* numbers(extra: string | null): Plan<number[]> {
      const results = yield* rowsOfEach([
        { sql: 'SELECT CAST(? AS INTEGER) AS n', parameters: [1] },
        { sql: 'SELECT CAST(? AS INTEGER) AS n UNION ALL SELECT CAST(? AS INTEGER)', parameters: [2, 3] },
        ...(extra ? [{ sql: extra, parameters: [] }] : []),
      ]);
      const [last] = yield* rowsOf<{ n: number }>('SELECT CAST(? AS INTEGER) AS n', 4);
      return [...results.flatMap((rows) => rows.map((row) => Number(row.n))), Number(last!.n)];
    }
    try {
      expect(await runOnPostgres(single, numbers(null))).toEqual([1, 2, 3, 4]);
      await expect(runOnPostgres(single, numbers('SELECT 1 / 0 AS n'))).rejects.toThrow(/division by zero/);
      expect(await runOnPostgres(single, numbers(null))).toEqual([1, 2, 3, 4]);
      const client = await single.connect();
      try {
        expect((client as unknown as { pipeline: boolean }).pipeline).toBe(false);
        expect((await client.query("SELECT current_setting('transaction_isolation') AS level")).rows[0].level).toBe('read committed');
      } finally {
        client.release();
      }
    } finally {
      await single.end();
    }
  });

  it('writes requests, tags, attempts, content-addressed messages and rollups; a second write of the same id counts once', async () => {
    const records = [1, 2, 3].map((index) => makeRecord({ id: `pg-write-${index}`, tags: [{ key: 'team', value: 'red' }], requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'shared question' }] } }));
    const priceBook = createPriceBook();
    expect(await writeRequestsToPostgres(pool, records, priceBook, true)).toEqual({ written: 3, failed: [] });
    await writeRequestsToPostgres(pool, [records[0]!], priceBook, true);
    const count = async (sql: string) => (await pool.query(sql)).rows[0].count as number;
    expect(await count("SELECT count(*) AS count FROM requests WHERE id LIKE 'pg-write-%'")).toBe(3);
    expect(await count("SELECT count(*) AS count FROM request_tags WHERE key = 'team'")).toBe(3);
    expect(await count('SELECT count(*) AS count FROM attempts')).toBeGreaterThanOrEqual(3);
    expect(await count(`SELECT count(*) AS count FROM messages WHERE content_json LIKE '%shared question%'`)).toBe(1);
    const rollup = await pool.query("SELECT requests, cost_nano_usd FROM rollup_hourly WHERE dimension = 'tag' AND value = 'team' AND detail = 'red'");
    expect(rollup.rows[0].requests).toBe(3);
    const costs = await pool.query("SELECT sum(cost_nano_usd) AS sum FROM requests WHERE id LIKE 'pg-write-%'");
    expect(rollup.rows[0].cost_nano_usd).toBe(costs.rows[0].sum);
  });

  it('a key created through one manager is accepted by another at once, and refused by it once revoked', async () => {
    const first = await PostgresGatewayKeyManager.open(pool, { flushIntervalMs: 0, hasKeysRefreshMs: 0 });
    const second = await PostgresGatewayKeyManager.open(pool, { flushIntervalMs: 0, hasKeysRefreshMs: 0 });
    try {
      const { key, record } = await first.create({ name: 'shared', tags: [{ key: 'tool', value: 'aider' }] });
      expect(await second.verify(key)).toMatchObject({ id: record.id, tags: [{ key: 'tool', value: 'aider' }] });
      expect(await second.verify(`${key}x`)).toBeNull();
      expect((await second.find(record.prefix))?.id).toBe(record.id);
      expect(await first.revokeKey(record.id)).toBe(true);
      expect(await second.verify(key)).toBeNull();
      const stored = await pool.query('SELECT * FROM gateway_keys WHERE id = $1', [record.id]);
      expect(JSON.stringify(stored.rows)).not.toContain(key);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('replays journal lines left by a killed instance into PostgreSQL when the log opens', async () => {
    const directory = temporaryDirectory();
    try {
      const lost = [1, 2].map((index) => makeRecord({ id: `pg-journal-${index}` }));
      for (const record of lost) appendFileSync(join(directory, 'request-journal-a.jsonl'), journalEntry(record));
      const log = await openPostgresRequestLog(directory, pool);
      expect(log.replayed).toBe(2);
      log.observer.requestFinished(makeRecord({ id: 'pg-journal-3' }));
      await log.committed();
      await log.close();
      const { rows } = await pool.query("SELECT count(*) AS count FROM requests WHERE id LIKE 'pg-journal-%'");
      expect(rows[0].count).toBe(3);
    } finally {
      removeDirectory(directory);
    }
  });
});
