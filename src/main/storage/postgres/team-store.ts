/**
 * The one place the store is chosen: `--database-url` or SWITCHYARD_DATABASE_URL naming
 * PostgreSQL puts the request log, gateway keys and every read of them in that database
 * (`openTeamStore`); without it the caller keeps SQLite in the data folder. Used by
 * `switchyard serve` (headless.ts) and by the state commands (export, usage,
 * gateway-keys). The desktop app never passes a URL.
 *
 * At start the database must answer and its schema be migrated (under the advisory lock,
 * so instances starting together are safe); otherwise a StorageStartError says which
 * database (password hidden) and why, and nothing keeps running.
 */
import type { PriceOverrides } from '../../pricing/catalog.js';
import type { AnalyticsClient } from '../analytics-worker.js';
import { postgresAnalytics, postgresRequestLogReader, type GatewayKeyStore, type RequestLogReader, type RequestLogSink } from '../store.js';
import { postgresStoredResponses, type StoredResponses } from '../stored-responses.js';
import { createPostgresPool, describeDatabaseUrl, isPostgresUrl, type PostgresPool } from './connection.js';
import { PostgresGatewayKeyManager } from './gateway-keys.js';
import { migratePostgres } from './migrations.js';
import { openPostgresRequestLog } from './request-log.js';

export const DATABASE_URL_VARIABLE = 'SWITCHYARD_DATABASE_URL';

/** A store that cannot be used at start: a bad URL, PostgreSQL unreachable, a failed migration. */
export class StorageStartError extends Error {
  override name = 'StorageStartError';
}

/**
 * The PostgreSQL URL from the flag (first) or the environment, or null for SQLite.
 * Throws a StorageStartError for anything that is not a postgres:// URL.
 */
export function databaseUrlFrom(flag: string | undefined, environment: NodeJS.ProcessEnv = process.env): string | null {
  const fromFlag = flag !== undefined;
  const value = (fromFlag ? flag : (environment[DATABASE_URL_VARIABLE] ?? '')).trim();
  const source = fromFlag ? '--database-url' : DATABASE_URL_VARIABLE;
  if (value === '') {
    if (fromFlag) throw new StorageStartError('--database-url needs a value: postgres://user:password@host:5432/database');
    return null;
  }
  if (!isPostgresUrl(value)) {
    throw new StorageStartError(`${source} must be a PostgreSQL URL (postgres://user:password@host:5432/database), got "${describeDatabaseUrl(value)}"`);
  }
  try {
    new URL(value);
  } catch {
    throw new StorageStartError(`${source} is not a valid URL: "${describeDatabaseUrl(value)}"`);
  }
  return value;
}

/** A pool on a database that answered and is migrated; a StorageStartError otherwise. */
export async function connectPostgres(url: string, options: { max?: number; onError?: (error: Error) => void } = {}): Promise<PostgresPool> {
  const pool = createPostgresPool(url, options);
  try {
    await pool.query('SELECT 1');
    await migratePostgres(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    const detail = (error as Error).message || String((error as { code?: string }).code ?? error);
    throw new StorageStartError(`cannot use PostgreSQL at ${describeDatabaseUrl(url)}: ${detail}`);
  }
  return pool;
}

export interface TeamStore {
  /** The database, password hidden, for messages. */
  description: string;
  pool: PostgresPool;
  requestLog: RequestLogSink;
  gatewayKeys: GatewayKeyStore;
  reader: RequestLogReader;
  analytics: AnalyticsClient;
  /** Responses answers for previous_response_id, whichever instance gave them. */
  responses: StoredResponses;
  close(): Promise<void>;
}

export interface TeamStoreOptions {
  priceOverrides?: PriceOverrides;
  storeBodies?: boolean;
  onError?: (message: string) => void;
}

/**
 * Opens everything a gateway instance keeps in PostgreSQL. `dataDirectory` holds this
 * instance's journal (replayed into PostgreSQL here, before the first request).
 */
export async function openTeamStore(url: string, dataDirectory: string, options: TeamStoreOptions = {}): Promise<TeamStore> {
  const report = options.onError ?? ((message: string) => process.stderr.write(`switchyard: ${message}\n`));
  const pool = await connectPostgres(url, { max: 20, onError: (error) => report(`PostgreSQL connection: ${error.message}`) });
  let requestLog: RequestLogSink | null = null;
  try {
    requestLog = await openPostgresRequestLog(dataDirectory, pool, {
      priceOverrides: options.priceOverrides,
      storeBodies: options.storeBodies,
      onError: (error) => report(`request log: ${error.message}`),
    });
    const gatewayKeys = await PostgresGatewayKeyManager.open(pool, { onError: report });
    const log = requestLog;
    return {
      description: describeDatabaseUrl(url),
      pool,
      requestLog: log,
      gatewayKeys,
      reader: postgresRequestLogReader(pool),
      analytics: postgresAnalytics(pool),
      responses: postgresStoredResponses(pool),
      async close() {
        await log.close();
        await gatewayKeys.close();
        await pool.end();
      },
    };
  } catch (error) {
    await requestLog?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error instanceof StorageStartError ? error : new StorageStartError(`cannot use PostgreSQL at ${describeDatabaseUrl(url)}: ${(error as Error).message}`);
  }
}
