/**
 * `switchyard export` and `switchyard usage`: read the request log of a data folder (the
 * gateway may be running; SQLite's WAL lets both read) and print it as JSON lines / CSV, or
 * as a readable usage table. Requests still only in the journal are written first.
 * With --database-url (or SWITCHYARD_DATABASE_URL) they read the log several `serve`
 * instances share in PostgreSQL instead (each instance replays its own journal there).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { databasePath, openReadOnlyDatabase, type SqliteDatabase } from './storage/database.js';
import { replayJournalsForReading } from './storage/request-log.js';
import { priceOverridesOf } from './services/settings-service.js';
import { SETTINGS_FILE_NAME, SettingsStore } from './services/settings-store.js';
import { formatUsageTable, type UsageGrouping } from './storage/export.js';
import { connectPostgres, databaseUrlFrom } from './storage/postgres/team-store.js';
import { postgresRequestLogReader, sqliteRequestLogReader, type RequestLogReader } from './storage/store.js';
import { defaultDataDir } from './paths.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Accepts an ISO date/time (`2026-11-01`, `2026-11-01T12:00Z`), epoch milliseconds, or `24h`/`7d` ago. */
export function parseTime(value: string | undefined, flag: string, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)([hd])$/.exec(value);
  if (relative) return now - Number(relative[1]) * (relative[2] === 'h' ? 3_600_000 : 86_400_000);
  if (/^\d{10,}$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new UsageError(`${flag} must be a date (2026-11-01), a date-time, epoch milliseconds or a span like 7d; got "${value}"`);
  return parsed;
}

/**
 * The log of a data folder, read-only, after writing into it the answered requests that
 * are still only in the journal (a gateway killed under load, or one running now): export
 * and usage see every answered request. A folder that cannot be written to is still read,
 * with a warning that journalled requests are missing.
 */
export function openLogForReading(dataDirFlag: string | undefined, warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`)): SqliteDatabase {
  const dataDir = resolve(dataDirFlag ?? defaultDataDir());
  const file = databasePath(dataDir);
  if (!existsSync(file)) throw new UsageError(`no request log in ${dataDir} (expected ${file}); pass --data-dir`);
  try {
    replayJournalsForReading(dataDir, { priceOverrides: priceOverridesOf(SettingsStore.read(join(dataDir, SETTINGS_FILE_NAME)).priceOverrides) });
  } catch (error) {
    warn(`switchyard: requests still in the journal of ${dataDir} could not be added to the log (${(error as Error).message}); they are missing below.`);
  }
  return openReadOnlyDatabase(file);
}

/** The log to read: the team's PostgreSQL when a URL is given, else the data folder's SQLite. */
async function openReader(dataDirFlag: string | undefined, databaseUrlFlag: string | undefined): Promise<RequestLogReader> {
  const url = databaseUrlFrom(databaseUrlFlag, process.env);
  if (!url) return sqliteRequestLogReader(openLogForReading(dataDirFlag));
  const pool = await connectPostgres(url, { max: 2 });
  const reader = postgresRequestLogReader(pool);
  return { ...reader, close: () => pool.end() };
}

const LOG_FLAGS = { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } } as const;

export async function runExport(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...LOG_FLAGS, format: { type: 'string', default: 'jsonl' } },
    strict: true,
  });
  const format = values.format;
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv, got "${format}"`);
  const since = parseTime(values.since, '--since');
  const until = parseTime(values.until, '--until');
  const reader = await openReader(values['data-dir'], values['database-url']);
  try {
    await reader.exportRequests({ format, since, until }, process.stdout);
  } finally {
    await reader.close();
  }
}

const GROUPINGS: readonly UsageGrouping[] = ['model', 'provider', 'tag', 'user', 'day'];

export async function runUsage(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...LOG_FLAGS, by: { type: 'string', default: 'model' } },
    strict: true,
  });
  const by = values.by as UsageGrouping;
  if (!GROUPINGS.includes(by)) throw new UsageError(`--by must be one of ${GROUPINGS.join(', ')}; got "${values.by}"`);
  const since = parseTime(values.since, '--since');
  const until = parseTime(values.until, '--until');
  const reader = await openReader(values['data-dir'], values['database-url']);
  try {
    const rows = await reader.usageTable(by, { since, until });
    process.stdout.write(rows.length === 0 ? 'no requests in this range\n' : formatUsageTable(rows, by) + '\n');
  } finally {
    await reader.close();
  }
}
