/**
 * `switchyard export` and `switchyard usage`: read the request log of a data folder (the
 * gateway may be running; SQLite's WAL lets both read) and print it as JSON lines / CSV, or
 * as a readable usage table. Requests still only in the journal are written first.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { databasePath, openReadOnlyDatabase, type SqliteDatabase } from './storage/database.js';
import { replayJournalsForReading } from './storage/request-log.js';
import { priceOverridesOf } from './services/settings-service.js';
import { SETTINGS_FILE_NAME, SettingsStore } from './services/settings-store.js';
import { exportRequests, formatUsageTable, usageTable, type UsageGrouping } from './storage/export.js';
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

export async function runExport(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, format: { type: 'string', default: 'jsonl' }, since: { type: 'string' }, until: { type: 'string' } },
    strict: true,
  });
  const format = values.format;
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv, got "${format}"`);
  const since = parseTime(values.since, '--since');
  const until = parseTime(values.until, '--until');
  const database = openLogForReading(values['data-dir']);
  try {
    await exportRequests(database, { format, since, until }, process.stdout);
  } finally {
    database.close();
  }
}

const GROUPINGS: readonly UsageGrouping[] = ['model', 'provider', 'tag', 'user', 'day'];

export function runUsage(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, by: { type: 'string', default: 'model' }, since: { type: 'string' }, until: { type: 'string' } },
    strict: true,
  });
  const by = values.by as UsageGrouping;
  if (!GROUPINGS.includes(by)) throw new UsageError(`--by must be one of ${GROUPINGS.join(', ')}; got "${values.by}"`);
  const since = parseTime(values.since, '--since');
  const until = parseTime(values.until, '--until');
  const database = openLogForReading(values['data-dir']);
  try {
    const rows = usageTable(database, by, { since, until });
    process.stdout.write(rows.length === 0 ? 'no requests in this range\n' : formatUsageTable(rows, by) + '\n');
  } finally {
    database.close();
  }
}
