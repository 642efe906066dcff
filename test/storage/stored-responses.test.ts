/**
 * The Responses store on both engines (SQLite's request log, and a throwaway PostgreSQL where
 * its binaries are installed): a logged Responses answer is found by its response id, a
 * deletion is recorded (deleted_responses, SQLite migration 4 / PostgreSQL migration 3) without
 * touching the log row, and a second deletion keeps the first time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { migratePostgres } from '../../src/main/storage/postgres/migrations.js';
import { openPostgresRequestLog } from '../../src/main/storage/postgres/request-log.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import { postgresStoredResponses, sqliteStoredResponses, type StoredResponses } from '../../src/main/storage/stored-responses.js';
import type { RequestLogSink } from '../../src/main/storage/store.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

let postgres: ThrowawayPostgres | null = null;
const pools: PostgresPool[] = [];

interface Engine {
  sink: RequestLogSink;
  responses: StoredResponses;
  rowCount(): Promise<number>;
  close(): Promise<void>;
}

const engines: Record<'sqlite' | 'postgres', () => Promise<Engine>> = {
  async sqlite() {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    return {
      sink: log,
      responses: sqliteStoredResponses(log.database),
      rowCount: async () => (log.database.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }).n,
      async close() {
        await log.close();
        removeDirectory(directory);
      },
    };
  },
  async postgres() {
    postgres ??= await startThrowawayPostgres();
    const pool = createPostgresPool(await postgres.createDatabase('stored_responses'));
    pools.push(pool);
    await migratePostgres(pool);
    const directory = temporaryDirectory();
    const sink = await openPostgresRequestLog(directory, pool);
    return {
      sink,
      responses: postgresStoredResponses(pool, 0),
      rowCount: async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM requests')).rows[0]!.n),
      async close() {
        await sink.close();
        removeDirectory(directory);
      },
    };
  },
};

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await postgres?.stop();
});

const engineNames = ['sqlite', 'postgres'] as const;

describe.each(engineNames)('stored responses on %s', (name) => {
  it('finds a logged response by id, records its deletion once, and keeps the log row', async () => {
    const engine = await engines[name]();
    try {
      const record = makeRecord({
        endpoint: '/v1/responses',
        responseId: 'resp_stored_1',
        requestBody: { model: 'gpt-4.1', input: 'Hello' },
        responseBody: { id: 'resp_stored_1', object: 'response', output: [] },
      });
      engine.sink.observer.requestFinished(record);
      await engine.sink.committed();
      const found = await engine.responses.find('resp_stored_1');
      expect(found).toMatchObject({ responseId: 'resp_stored_1', requestBody: { input: 'Hello' }, deletedAt: null, gatewayKeyId: 'key-1' });
      await engine.responses.delete('resp_stored_1', 1_000);
      await engine.responses.delete('resp_stored_1', 2_000);
      expect(await engine.responses.find('resp_stored_1')).toMatchObject({ responseId: 'resp_stored_1', deletedAt: 1_000, requestBody: { input: 'Hello' } });
      expect(await engine.rowCount()).toBe(1);
      expect(await engine.responses.find('resp_never')).toBeNull();
    } finally {
      await engine.close();
    }
  }, 60_000);
});
