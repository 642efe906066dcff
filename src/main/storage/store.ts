/**
 * The storage interfaces the gateway and the CLI use, whichever store holds the data:
 * SQLite in the data folder (the desktop app, a single `switchyard serve`) or a team's
 * PostgreSQL (several `serve` instances; ./postgres/). Chosen once at start from
 * SWITCHYARD_DATABASE_URL / --database-url.
 *
 * - RequestLogSink: where finished requests go (journal first, then the store).
 * - GatewayKeyStore: the keys clients send (create, list, find, revoke, verify).
 * - RequestLogReader: what `export` and `usage` read.
 */
import type { Writable } from 'node:stream';
import type { RequestObserver } from '../core/record.js';
import type { PriceOverrides } from '../pricing/catalog.js';
import type { GatewayKeyManager, GatewayKeyRecord } from '../services/key-managers.js';
import type { SqliteDatabase } from './database.js';
import { exportRequests, usageTable, type ExportOptions, type UsageGrouping, type UsageRow, type UsageTableOptions } from './export.js';
import type { SqliteGatewayKeyManager } from './gateway-keys.js';

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
  close(): Promise<void>;
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

/** A SQLite database (read-only is enough) behind the RequestLogReader interface. */
export function sqliteRequestLogReader(database: SqliteDatabase): RequestLogReader {
  return {
    exportRequests: (options, writable) => exportRequests(database, options, writable),
    usageTable: async (by, options) => usageTable(database, by, options),
    close: async () => {
      database.close();
    },
  };
}
