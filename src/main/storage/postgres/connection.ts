/**
 * Connections to a team's PostgreSQL (SWITCHYARD_DATABASE_URL=postgres://… or
 * --database-url). One pool per process; 64-bit integers (times in ms, nano-dollar costs,
 * token counts) come back as JavaScript numbers, as they do from SQLite: every value the
 * gateway stores stays far below 2^53.
 */
import { createRequire } from 'node:module';
import type pgModule from 'pg';
import type * as pg from 'pg';

/**
 * pg, loaded on the first pool: a `serve` on SQLite never needs it, and loading it costs
 * about 90 ms of CPU before the gateway listens (issue 11).
 */
let pgModuleLoaded: typeof pgModule | null = null;
function pgLibrary(): typeof pgModule {
  pgModuleLoaded ??= createRequire(import.meta.url)('pg') as typeof pgModule;
  return pgModuleLoaded;
}

export type PostgresPool = pg.Pool;
export type PostgresClient = pg.PoolClient;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => (value === null ? null : Number(value));
    return pgLibrary().types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Whether a database URL names PostgreSQL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string | undefined | null): url is string {
  return typeof url === 'string' && /^postgres(ql)?:\/\//i.test(url.trim());
}

/** The URL without its password, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

export interface PoolOptions {
  /** Connections at most (default 10). */
  max?: number;
  /** Told about errors of idle connections (a restarted server), which would otherwise crash the process. */
  onError?: (error: Error) => void;
}

export function createPostgresPool(url: string, options: PoolOptions = {}): PostgresPool {
  if (!isPostgresUrl(url)) throw new Error(`not a PostgreSQL URL: ${describeDatabaseUrl(url)} (expected postgres://user:password@host:port/database)`);
  const pool = new (pgLibrary().Pool)({ connectionString: url, max: options.max ?? 10, types, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/**
 * Runs `work` in one transaction on one connection; retried (up to 3 times) when PostgreSQL
 * reports a deadlock or serialisation failure. `begin` replaces the plain BEGIN (one round
 * trip for BEGIN and, say, an advisory lock: several statements without parameters).
 */
export async function inTransaction<T>(pool: PostgresPool, work: (client: PostgresClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: string }).code;
      // A deadlock or serialisation failure leaves the connection sound; anything else may not.
      const retry = attempt < 3 && (code === '40P01' || code === '40001');
      if (!retry) failure = error as Error;
      if (retry) continue;
      throw error;
    } finally {
      client.release(failure);
    }
  }
}
