/**
 * The storage interfaces the gateway and the CLI use, whichever store holds the data:
 * SQLite in the data folder (the desktop app, a single `switchyard serve`) or a team's
 * PostgreSQL (several `serve` instances; ./postgres/). Chosen once at start from
 * SWITCHYARD_DATABASE_URL / --database-url.
 *
 * - RequestLogSink: where finished requests go (journal first, then the store).
 * - GatewayKeyStore: the keys clients send (create, list, find, revoke, verify).
 * - RequestLogReader: what `export`, `usage`, the inspector, the dashboards and budgets
 *   read. Both implementations run the same query plans (sql-plan.ts), so they answer alike.
 */
import type { Writable } from 'node:stream';
import type { RequestObserver } from '../core/record.js';
import type { PriceOverrides } from '../pricing/catalog.js';
import type { GatewayKeyManager, GatewayKeyRecord } from '../services/key-managers.js';
import type { SqliteDatabase } from './database.js';
import type { RequestFilters } from '../../shared/contract.js';
import type { AnalyticsClient } from './analytics-worker.js';
import { breakdownPlan, conversationPlan, listConversationsPlan, summaryPlan, timeSeriesPlan } from './analytics.js';
import { exportRequestsWith, usageTablePlan, type ExportOptions, type UsageGrouping, type UsageRow, type UsageTableOptions } from './export.js';
import type { SqliteGatewayKeyManager } from './gateway-keys.js';
import { spendSincePlan, type SpendMatch } from './limit-spend.js';
import type { PostgresPool } from './postgres/connection.js';
import {
  getRequestPlan,
  hourlyCostByModelPlan,
  listRequestsPlan,
  requestFacetsPlan,
  type RequestFacets,
  type RequestPage,
  type StoredRequestDetail,
} from './request-log-queries.js';
import { POSTGRES_DIALECT, runOnPostgres, runOnSqlite, SQLITE_DIALECT, type Plan, type SqlDialect } from './sql-plan.js';

export interface RequestLogSink {
  observer: RequestObserver;
  /** Records written from the journal when the log opened (after a crash or kill -9). */
  replayed: number;
  setPriceOverrides(overrides: PriceOverrides): void;
  setStoreBodies(storeBodies: boolean): void;
  /** Resolves once every record handed over so far is committed. */
  committed(): Promise<void>;
  readonly pendingCount: number;
  close(): Promise<void>;
}

export interface GatewayKeyStore extends GatewayKeyManager {
  /** An id, a unique start of one (4+ characters) or a display prefix (`sy-3f9a0c`). */
  find(reference: string): Promise<GatewayKeyRecord | null>;
  /** Whether this call revoked the key (false: unknown or already revoked). */
  revokeKey(id: string): Promise<boolean>;
  close(): void | Promise<void>;
}

export interface RequestLogReader {
  exportRequests(options: ExportOptions, writable: Writable): Promise<number>;
  usageTable(by: UsageGrouping, options?: UsageTableOptions): Promise<UsageRow[]>;
  listRequests(filters: RequestFilters, limit: number, before?: number): Promise<RequestPage>;
  getRequest(id: string): Promise<StoredRequestDetail | null>;
  requestFacets(since: number): Promise<RequestFacets>;
  hourlyCostByModel(from: number, to: number): Promise<Map<number, Map<string, number>>>;
  /** Spend of the requests a limit rule matches since an instant (budgets after a restart). */
  spendSince(match: SpendMatch, since: number): Promise<number>;
  close(): Promise<void>;
}

type PlanRunner = <Result>(plan: Plan<Result>) => Promise<Result>;

/** Every read, from the plans, on one store. */
function planReader(run: PlanRunner, dialect: SqlDialect, close: () => Promise<void>): RequestLogReader {
  return {
    exportRequests: (options, writable) => exportRequestsWith(run, dialect, options, writable),
    usageTable: (by, options) => run(usageTablePlan(by, options)),
    listRequests: (filters, limit, before) => run(listRequestsPlan(dialect, filters, limit, before)),
    getRequest: (id) => run(getRequestPlan(dialect, id)),
    requestFacets: (since) => run(requestFacetsPlan(since)),
    hourlyCostByModel: (from, to) => run(hourlyCostByModelPlan(from, to)),
    spendSince: (match, since) => run(spendSincePlan(match, since)),
    close,
  };
}

/** The SQLite key manager behind the GatewayKeyStore interface (its synchronous calls, unchanged). */
export function sqliteGatewayKeyStore(manager: SqliteGatewayKeyManager, onClose: () => void = () => {}): GatewayKeyStore {
  return {
    create: (request) => manager.create(request),
    list: () => manager.list(),
    revoke: (id) => manager.revoke(id),
    verify: (token) => manager.verify(token),
    hasKeys: () => manager.hasKeys(),
    find: async (reference) => manager.find(reference),
    revokeKey: async (id) => manager.revokeSync(id),
    close: () => {
      manager.close();
      onClose();
    },
  };
}

/**
 * A SQLite database (read-only is enough) behind the RequestLogReader interface;
 * `ownsDatabase` false leaves it open on close (the request log's own connection).
 */
export function sqliteRequestLogReader(database: SqliteDatabase, ownsDatabase = true): RequestLogReader {
  return planReader(
    async (plan) => runOnSqlite(database, plan),
    SQLITE_DIALECT,
    async () => {
      if (ownsDatabase) database.close();
    },
  );
}

/** The shared log in PostgreSQL behind the RequestLogReader interface (the pool stays open: its owner ends it). */
export function postgresRequestLogReader(pool: PostgresPool): RequestLogReader {
  return planReader((plan) => runOnPostgres(pool, plan), POSTGRES_DIALECT, async () => {});
}

/**
 * The dashboards' queries on PostgreSQL, the shape of the SQLite analytics worker's
 * client: PostgreSQL runs them on its own processes, so no worker thread is needed.
 */
export function postgresAnalytics(pool: PostgresPool): AnalyticsClient {
  const run = <Result>(plan: Plan<Result>): Promise<Result> => runOnPostgres(pool, plan);
  return {
    summary: (range) => run(summaryPlan(range)),
    timeSeries: (range, bucket, timeZone) => run(timeSeriesPlan(range, bucket, timeZone)),
    breakdown: (range, by) => run(breakdownPlan(range, by)),
    listConversations: (range, limit, offset) => run(listConversationsPlan(range, limit, offset)),
    conversation: (id, maximumTurns) => run(conversationPlan(id, maximumTurns, POSTGRES_DIALECT)),
    close: async () => {},
  };
}
