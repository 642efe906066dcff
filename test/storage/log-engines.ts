/**
 * The request log on both engines for storage tests: SQLite in a temporary folder, and a database
 * of one throwaway PostgreSQL (started on first use, stopped by `stop`), each with its sink,
 * its response store, the inspector's read of one request and raw SQL for the assertions.
 */
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { migratePostgres } from '../../src/main/storage/postgres/migrations.js';
import { openPostgresRequestLog } from '../../src/main/storage/postgres/request-log.js';
import { getRequest, getRequestPlan, type StoredRequestDetail } from '../../src/main/storage/request-log-queries.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import { POSTGRES_DIALECT, postgresText, runOnPostgres } from '../../src/main/storage/sql-plan.js';
import type { RequestLogSink } from '../../src/main/storage/store.js';
import { postgresStoredResponses, sqliteStoredResponses, type StoredResponses } from '../../src/main/storage/stored-responses.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { removeDirectory, temporaryDirectory } from './request-record-fixture.js';

export const ENGINE_NAMES = ['sqlite', 'postgres'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface LogEngine {
  sink: RequestLogSink;
  responses: StoredResponses;
  /** One request as the inspector reads it (bodies restored). */
  read(id: string): Promise<StoredRequestDetail | null>;
  /** A statement's rows; `?` placeholders on both engines. */
  query(sql: string, ...parameters: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** The first column of a statement's first row, as a number (a count). */
  count(sql: string, ...parameters: unknown[]): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens logs named `<prefix>_<n>` on either engine; `pool` gives a fresh, unmigrated PostgreSQL
 * database; `stop` ends the pools and the throwaway PostgreSQL.
 */
export function logEngines(prefix: string): { open(name: EngineName): Promise<LogEngine>; pool(): Promise<PostgresPool>; stop(): Promise<void> } {
  let postgres: ThrowawayPostgres | null = null;
  const pools: PostgresPool[] = [];
  const pool = async (): Promise<PostgresPool> => {
    postgres ??= await startThrowawayPostgres();
    const created = createPostgresPool(await postgres.createDatabase(`${prefix}_${pools.length}`));
    pools.push(created);
    return created;
  };
  const first = (rows: Array<Record<string, unknown>>): number => Number(Object.values(rows[0] ?? {})[0]);
  return {
    async open(name) {
      const directory = temporaryDirectory();
      if (name === 'sqlite') {
        const log = openRequestLog(directory);
        const query = async (sql: string, ...parameters: unknown[]) => log.database.prepare(sql).all(...parameters) as Array<Record<string, unknown>>;
        return {
          sink: log,
          responses: sqliteStoredResponses(log.database),
          read: async (id) => getRequest(log.database, id),
          query,
          count: async (sql, ...parameters) => first(await query(sql, ...parameters)),
          async close() {
            await log.close();
            removeDirectory(directory);
          },
        };
      }
      const database = await pool();
      await migratePostgres(database);
      const sink = await openPostgresRequestLog(directory, database);
      const query = async (sql: string, ...parameters: unknown[]) => (await database.query(postgresText(sql), parameters)).rows as Array<Record<string, unknown>>;
      return {
        sink,
        responses: postgresStoredResponses(database, 0),
        read: async (id) => runOnPostgres(database, getRequestPlan(POSTGRES_DIALECT, id)),
        query,
        count: async (sql, ...parameters) => first(await query(sql, ...parameters)),
        async close() {
          await sink.close();
          removeDirectory(directory);
        },
      };
    },
    pool,
    async stop() {
      await Promise.all(pools.map((pool) => pool.end()));
      await postgres?.stop();
    },
  };
}
