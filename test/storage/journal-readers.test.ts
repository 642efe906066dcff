/**
 * Commands that read the log see every answered request, including those still only in
 * the journal (a gateway killed under load, or one running now): `export` and `usage`
 * write them first, idempotently, without touching the journal files; and a live
 * gateway's writer that finds a row a reader wrote first keeps it, adding its bodies.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openLogForReading } from '../../src/main/cli-log-commands.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';
import { openDatabase } from '../../src/main/storage/database.js';
import { exportRequests, usageTable } from '../../src/main/storage/export.js';
import { JOURNAL_FILE_NAMES, openRequestLog, replayJournalsForReading } from '../../src/main/storage/request-log.js';
import { runCli } from '../end-to-end/serve-process.js';
import { makeRecord } from './request-record-fixture.js';

function record(id: string, startedAt = Date.now()): RequestRecord {
  return makeRecord({
    id,
    startedAt,
    endedAt: startedAt + 12,
    latencyMs: 12,
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    usage: { inputTokens: 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
    gatewayKeyId: null,
    requestBody: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `hello ${id}` }] },
    responseBody: { choices: [{ message: { role: 'assistant', content: 'hi' } }] },
  }) as RequestRecord;
}

const journalLine = (entry: RequestRecord): string => JSON.stringify({ ...entry, requestBody: null, upstreamRequestBody: null, responseBody: null });

const folders: string[] = [];
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'switchyard-journal-readers-'));
  folders.push(path);
  return path;
}
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A data folder as a kill -9 leaves it: `committed` in the database, `journalled` only in the journal (plus a torn line). */
async function crashedFolder(committed: string[], journalled: string[]): Promise<string> {
  const directory = folder();
  const log = openRequestLog(directory);
  for (const id of committed) log.observer.requestFinished(record(id));
  await log.committed();
  await log.close();
  const lines = [...committed.slice(-1), ...journalled].map((id) => journalLine(record(id)));
  writeFileSync(join(directory, JOURNAL_FILE_NAMES[1]), lines.join('\n') + '\n{"id":"torn",');
  return directory;
}

async function exportedIds(directory: string): Promise<string[]> {
  const database = openLogForReading(directory, () => {});
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  try {
    await exportRequests(database, { format: 'jsonl' }, sink);
  } finally {
    database.close();
  }
  return text
    .trim()
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => (JSON.parse(line) as { id: string }).id)
    .sort();
}

describe('reading the log after a crash', () => {
  it('export sees requests that were only in the journal, and replaying is idempotent and leaves the journal alone', async () => {
    const directory = await crashedFolder(['c1', 'c2'], ['j1', 'j2', 'j3']);
    const journal = join(directory, JOURNAL_FILE_NAMES[1]);
    const before = readFileSync(journal, 'utf8');
    expect(await exportedIds(directory)).toEqual(['c1', 'c2', 'j1', 'j2', 'j3']);
    // Again: nothing written twice, the journal untouched (a running gateway owns it).
    expect(replayJournalsForReading(directory)).toBe(0);
    expect(await exportedIds(directory)).toEqual(['c1', 'c2', 'j1', 'j2', 'j3']);
    expect(readFileSync(journal, 'utf8')).toBe(before);
    const database = openDatabase(directory);
    const total = database.prepare("SELECT sum(requests) FROM rollup_daily WHERE dimension = 'total'").pluck().get();
    expect(total).toBe(5);
    database.close();
    // The next gateway start finds nothing left to replay.
    const log = openRequestLog(directory);
    expect(log.replayed).toBe(0);
    await log.close();
  });

  it('usage counts them too', async () => {
    const directory = await crashedFolder(['c1'], ['j1', 'j2']);
    const database = openLogForReading(directory, () => {});
    const rows = usageTable(database, 'model');
    database.close();
    expect(rows.reduce((sum, row) => sum + row.requests, 0)).toBe(3);
  });

  it('`switchyard export` and `switchyard usage` on a crashed folder, without a server', async () => {
    const directory = await crashedFolder(['c1'], ['j1', 'j2']);
    const exported = await runCli(['export', '--data-dir', directory, '--format', 'jsonl']);
    expect(exported.code, exported.stderr).toBe(0);
    const ids = exported.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id)
      .sort();
    expect(ids).toEqual(['c1', 'j1', 'j2']);
    const usage = await runCli(['usage', '--data-dir', directory, '--by', 'model']);
    expect(usage.code, usage.stderr).toBe(0);
    expect(usage.stdout).toContain('gpt-4.1-mini');
    expect(usage.stdout).toMatch(/total\s+3\b/);
  }, 30_000);

  it('a reader replaying while a gateway runs does not break its writer: one row each, bodies and conversations kept', async () => {
    const directory = folder();
    // A slow writer: records stay journalled, not committed, long enough for readers to write them first.
    const errors: string[] = [];
    const live = openRequestLog(directory, { flushIntervalMs: 1_500, onError: (error) => errors.push(error.message) });
    const ids = Array.from({ length: 60 }, (_, index) => `live-${index}`);
    for (const id of ids.slice(0, 30)) live.observer.requestFinished(record(id));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const journalSize = (): number => JOURNAL_FILE_NAMES.reduce((sum, name) => sum + statSync(join(directory, name)).size, 0);
    const sizeBefore = journalSize();
    expect(sizeBefore).toBeGreaterThan(0);
    expect(replayJournalsForReading(directory)).toBe(30);
    expect(journalSize()).toBe(sizeBefore);
    // More traffic and more readers while the writer commits.
    for (const id of ids.slice(30)) live.observer.requestFinished(record(id));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(replayJournalsForReading(directory)).toBe(30);
    await live.committed();
    replayJournalsForReading(directory);

    const database = live.database;
    expect(database.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(60);
    expect(database.prepare('SELECT count(DISTINCT id) FROM requests').pluck().get()).toBe(60);
    // Counted once in the rollups, whoever wrote the row.
    expect(database.prepare("SELECT sum(requests) FROM rollup_daily WHERE dimension = 'total'").pluck().get()).toBe(60);
    // The writer's bodies reached the rows the readers wrote first, and their conversations.
    expect(database.prepare('SELECT count(*) FROM bodies').pluck().get()).toBe(60);
    expect(database.prepare('SELECT count(*) FROM requests WHERE conversation_id IS NULL').pluck().get()).toBe(0);
    expect(database.prepare('SELECT sum(requests) FROM conversations').pluck().get()).toBe(60);
    // The live log keeps working after all of it.
    live.observer.requestFinished(record('after'));
    await live.committed();
    expect(database.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(61);
    expect(errors).toEqual([]);
    await live.close();
  }, 30_000);
});
