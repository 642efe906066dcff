/**
 * The writer sums a batch in memory (conversation totals, rollups, message ids) before it
 * writes: whatever the batch size, the log must hold exactly what one transaction per
 * record would. Every table of a log written one record per transaction is compared with
 * logs written in one batch and in batches of 7, from records chosen to stress the sums:
 * several conversations interleaved, starts out of order, requests without a model,
 * errors, cache hits, tags, several attempts, a request logged twice, a growing history.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import type { StoredRequestRecord } from '../../src/main/storage/stored-record.js';
import { chatTranscript, makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2025, 5, 1, 10, 0, 0);

let directories: string[] = [];
let databases: SqliteDatabase[] = [];

function freshDatabase(): SqliteDatabase {
  const directory = temporaryDirectory();
  directories.push(directory);
  const database = openDatabase(directory);
  databases.push(database);
  return database;
}

beforeEach(() => {
  directories = [];
  databases = [];
});
afterEach(() => {
  for (const database of databases) database.close();
  for (const directory of directories) removeDirectory(directory);
});

/** Every row of every table, in a fixed order. */
function dump(database: SqliteDatabase): Record<string, unknown[]> {
  const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  const result: Record<string, unknown[]> = {};
  for (const table of tables) {
    const columns = (database.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((column) => `"${column.name}"`);
    result[table] = database.prepare(`SELECT * FROM ${table} ORDER BY ${columns.join(', ')}`).all();
  }
  return result;
}

/** A conversation turn: its history as the request, the next answer as the response. */
function turn(conversation: string, index: number, overrides: Partial<StoredRequestRecord>): StoredRequestRecord {
  const transcript = chatTranscript(index + 1, `System prompt of ${conversation}`);
  const { messages, reply } = transcript[index]!;
  const requestBody = { model: 'gpt-4.1', messages };
  return makeRecord({
    requestBody,
    upstreamRequestBody: { model: 'gpt-4.1-2025-04-14', messages },
    responseBody: { id: `r-${conversation}-${index}`, object: 'chat.completion', choices: [{ index: 0, message: reply, finish_reason: 'stop' }] },
    ...overrides,
  });
}

/** Records stressing what the writer sums per batch; the same list (same ids) on every call. */
function stressRecords(): StoredRequestRecord[] {
  const records: StoredRequestRecord[] = [];
  let id = 0;
  const next = (overrides: Partial<StoredRequestRecord>): StoredRequestRecord => {
    id += 1;
    return { ...overrides, id: `stress-${id}` } as StoredRequestRecord;
  };
  for (let index = 0; index < 12; index += 1) {
    // three interleaved conversations, one of them named by the client
    records.push(next(turn('a', index, { startedAt: BASE + index * 60_000, tags: [{ key: 'team', value: 'red' }] })));
    records.push(next(turn('b', index, { startedAt: BASE + index * 60_000 + 5, gatewayKeyId: 'key-2', user: 'ann' })));
    records.push(
      next(
        turn('c', index, {
          conversationId: 'named',
          startedAt: BASE + HOUR + index * 1000,
          status: index % 4 === 3 ? 'error' : 'success',
          httpStatus: index % 4 === 3 ? 502 : 200,
          errorType: index % 4 === 3 ? 'upstream_error' : null,
          cacheHit: index % 5 === 2,
          resolvedModel: index % 3 === 0 ? 'claude-sonnet-4' : 'gpt-4.1',
          provider: index % 3 === 0 ? 'anthropic' : 'openai',
          attemptsDetail:
            index % 4 === 3
              ? [
                  { provider: 'openai', model: 'gpt-4.1', startedAt: BASE, endedAt: BASE + 5, latencyMs: 5, httpStatus: 500, status: 'error', errorType: 'upstream_error', errorMessage: 'boom' },
                  { provider: 'anthropic', model: 'claude-sonnet-4', startedAt: BASE + 5, endedAt: BASE + 9, latencyMs: 4, httpStatus: 502, status: 'error', errorType: 'upstream_error', errorMessage: 'bang' },
                ]
              : undefined,
        }),
      ),
    );
  }
  // a conversation whose requests arrive out of start order, some without a model
  const model = (name: string | null) => ({ requestedModel: name, resolvedModel: name });
  // (in batches of 4 the second batch's only request naming a model at or after the batch's earlier starts is older than the stored last start)
  const order: Array<[number, string | null]> = [[120, 'x'], [100, 'a'], [50, 'b'], [200, 'd'], [150, 'c'], [300, null], [190, null], [250, 'e'], [200, null]];
  for (const [offset, name] of order) {
    records.push(next({ ...makeRecord({ conversationId: 'unordered', startedAt: BASE + offset, ...model(name), tags: [{ key: 'team', value: 'blue' }, { key: 'team', value: 'blue' }] }) }));
  }
  // logged twice (a journal replay raced the writer): counted once
  records.push(next(turn('a', 3, { startedAt: BASE + 2 * HOUR })));
  records.push({ ...records[records.length - 1]!, latencyMs: 999 });
  // no conversation at all, no bodies
  records.push(next({ ...makeRecord({ requestBody: null, responseBody: null, startedAt: BASE + 3 * HOUR }) }));
  return records;
}

function write(records: StoredRequestRecord[], batchSize: number): Record<string, unknown[]> {
  const database = freshDatabase();
  const writer = createRequestWriter(database, { flushIntervalMs: 60_000, maxBatchSize: batchSize });
  for (let start = 0; start < records.length; start += batchSize) {
    for (const record of records.slice(start, start + batchSize)) writer.enqueue(record);
    writer.flush();
  }
  writer.close();
  return dump(database);
}

describe('request writer batching', () => {
  it('a batch leaves every table as one transaction per record would', () => {
    const records = stressRecords();
    const oneByOne = write(records, 1);
    expect(oneByOne.requests).toHaveLength(records.length - 1);
    expect(write(records, records.length)).toEqual(oneByOne);
    expect(write(records, 7)).toEqual(oneByOne);
    expect(write(records, 2)).toEqual(oneByOne);
  });

  it('a message stored by an earlier batch is linked again, and stored anew once retention (on another connection or the writer\'s) deleted it', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    const other = openDatabase(directory);
    databases.push(database, other);
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000 });
    const ask = (content: string) => ({ model: 'gpt-4.1', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content }] });
    const dangling = () => database.prepare('SELECT count(*) FROM request_messages rm LEFT JOIN messages m ON m.id = rm.message_id WHERE m.id IS NULL').pluck().get();
    const purge = (connection: SqliteDatabase) => connection.exec('DELETE FROM request_messages; DELETE FROM messages');
    writer.enqueue(makeRecord({ requestBody: ask('a') }));
    writer.flush();
    // kept across batches while nothing else writes: the same messages are linked, not stored again
    writer.enqueue(makeRecord({ requestBody: ask('a') }));
    writer.flush();
    expect(database.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(3);
    // retention on another connection
    purge(other);
    writer.enqueue(makeRecord({ requestBody: ask('a') }));
    writer.flush();
    expect(dangling()).toBe(0);
    // and on the writer's own connection
    purge(database);
    writer.enqueue(makeRecord({ requestBody: ask('a') }));
    writer.flush();
    expect(dangling()).toBe(0);
    expect(database.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(3);
    writer.close();
  });

  it("a conversation's last model is that of its latest request naming one, across batches and out of order", () => {
    const records = stressRecords();
    const tables = write(records, 4);
    const unordered = (tables.conversations as Array<Record<string, unknown>>).find((row) => row.id === 'unordered');
    // starts 120 x, 100 a, 50 b, 200 d, 150 c, 300 -, 190 -, 250 e, 200 -: the last start is 300 (no model),
    // and the latest request naming a model at or after every earlier start is 200 d.
    expect(unordered).toMatchObject({ first_started_at: BASE + 50, last_started_at: BASE + 300, requests: 9, last_model: 'd' });
    const named = (tables.conversations as Array<Record<string, unknown>>).find((row) => row.id === 'named');
    expect(named).toMatchObject({ requests: 12, errors: 3, last_model: 'gpt-4.1', title: 'Question number 1: what is 1 squared?' });
  });
});

describe('request writer batching, rollup groups', () => {
  it("requests whose keys only look alike when joined (a user naming a tag) are summed apart", () => {
    // Without lengths in the group's identity, "u" with tag a="" and the user "u\0\0tag\0a" joined to the same text.
    const records = [
      { ...makeRecord({ startedAt: BASE, user: 'u', tags: [{ key: 'a', value: '' }], requestBody: null, responseBody: null }), id: 'joined-1' },
      { ...makeRecord({ startedAt: BASE + 1, user: 'u\u0000\u0000tag\u0000a', tags: [], requestBody: null, responseBody: null }), id: 'joined-2' },
    ] as StoredRequestRecord[];
    const oneByOne = write(records, 1);
    const userRows = (oneByOne.rollup_hourly as Array<Record<string, unknown>>).filter((row) => row.dimension === 'user');
    expect(userRows.map((row) => [row.value, row.requests])).toEqual([['u', 1], ['u\u0000\u0000tag\u0000a', 1]]);
    expect(write(records, 2)).toEqual(oneByOne);
  });
});
