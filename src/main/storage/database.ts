/**
 * Opens the gateway's SQLite file in the data directory: WAL, synchronous=NORMAL (a
 * committed transaction survives a killed process; only an OS crash can lose the last
 * ones), incremental auto-vacuum so retention can hand pages back, then applies pending
 * migrations. Also opens the read-only connections used by the analytics worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement<unknown[], unknown>;

export const DATABASE_FILE_NAME = 'switchyard.db';

/** WAL pages after which a commit checkpoints (see openDatabase). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export function databasePath(dataDirectory: string): string {
  return path.join(dataDirectory, DATABASE_FILE_NAME);
}

export interface OpenDatabaseOptions {
  /** Defaults to `switchyard.db` inside `dataDirectory`. */
  fileName?: string;
  /** Page cache size in KiB (default 16 MiB; the request writer's thread asks for 4 MiB). */
  cacheSizeKibibytes?: number;
}

/** Applies every migration past the database's user_version, each in its own transaction. Returns the new version. */
export function migrate(database: SqliteDatabase, scripts: readonly string[] = migrations): number {
  const current = database.pragma('user_version', { simple: true }) as number;
  if (current > scripts.length) {
    throw new Error(`database schema version ${current} is newer than this build understands (${scripts.length})`);
  }
  for (let version = current; version < scripts.length; version += 1) {
    const script = scripts[version] as string;
    database.transaction(() => {
      database.exec(script);
      database.pragma(`user_version = ${version + 1}`);
    })();
  }
  return scripts.length;
}

/**
 * better-sqlite3 is not ABI-stable: the desktop app loads a build made for Electron, named
 * by SWITCHYARD_SQLITE_BINDING (worker threads inherit it), while tests and `switchyard
 * serve` use node_modules' Node build.
 */
function nativeBindingOption(): { nativeBinding?: string } {
  const binding = process.env.SWITCHYARD_SQLITE_BINDING;
  return binding ? { nativeBinding: binding } : {};
}

/** Opens (creating if needed) the database in `dataDirectory` and migrates it. */
export function openDatabase(dataDirectory: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  fs.mkdirSync(dataDirectory, { recursive: true });
  const file = path.join(dataDirectory, options.fileName ?? DATABASE_FILE_NAME);
  const database = new Database(file, nativeBindingOption());
  // auto_vacuum only takes effect before the first table exists.
  const tableCount = database.prepare("SELECT count(*) AS count FROM sqlite_master WHERE type = 'table'").get() as { count: number };
  if (tableCount.count === 0) database.pragma('auto_vacuum = INCREMENTAL');
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('temp_store = MEMORY');
  // Checkpoint every 10,000 WAL pages (~40 MB) rather than SQLite's 1,000: a page the request
  // writer changes in every batch (the right-hand edge of each table and index, a busy
  // conversation's leaf) is copied into the database once per checkpoint, however many
  // commits rewrote it, so fewer checkpoints copy fewer pages in all (writer CPU ~5-7 us per
  // record less in alternating runs). The WAL file keeps its largest size until the last
  // connection closes; a kill -9 loses nothing either way (committed frames are in the WAL).
  database.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  // 16 MiB: enough for the indexes the writer touches; the desktop app must stay light.
  database.pragma(`cache_size = -${options.cacheSizeKibibytes ?? 16384}`);
  migrate(database);
  return database;
}

/** A read-only connection for queries (e.g. in the analytics worker). The file must already exist and be migrated. */
export function openReadOnlyDatabase(file: string): SqliteDatabase {
  const database = new Database(file, { readonly: true, fileMustExist: true, ...nativeBindingOption() });
  database.pragma('busy_timeout = 5000');
  database.pragma('cache_size = -32768');
  return database;
}
