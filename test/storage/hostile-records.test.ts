/**
 * The log's hand-off cannot be broken by what a record holds: a body nested too deeply for
 * structured clone, a value with no copy, a raw usage too deep to serialise, a body the
 * writer's own processing chokes on. Each such record is stored with the offending bodies
 * cut and a warning saying so; no other record is lost and nothing throws.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/storage/database.js';
import { journalEntry, openRequestLog } from '../../src/main/storage/request-log.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { recordWithoutBodies } from '../../src/main/storage/stored-record.js';
import { makeRecord } from './request-record-fixture.js';

/** An array nested `depth` levels deep, built without recursion. */
function deepValue(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

const folders: string[] = [];
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'switchyard-hostile-records-'));
  folders.push(path);
  return path;
}
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

interface Row {
  id: string;
  warnings_json: string | null;
  request_json: string | null;
  response_json: string | null;
  input_tokens: number;
}

function rows(database: ReturnType<typeof openDatabase>): Map<string, Row> {
  const all = database
    .prepare('SELECT r.id, r.warnings_json, r.input_tokens, b.request_json, b.response_json FROM requests r LEFT JOIN bodies b ON b.request_seq = r.seq')
    .all() as Row[];
  return new Map(all.map((row) => [row.id, row]));
}

describe('the request log hand-off', () => {
  it('stores records that cannot be cloned with their bodies cut and a note, and loses no other', async () => {
    const directory = folder();
    const log = openRequestLog(directory, { flushIntervalMs: 5 });
    const ordinary = Array.from({ length: 40 }, () => makeRecord({ startedAt: Date.now() }));
    const deepResponse = makeRecord({ startedAt: Date.now(), responseBody: { extra: deepValue(20_000) } });
    const deepRequest = makeRecord({ startedAt: Date.now(), requestBody: { messages: [{ role: 'user', content: 'x' }], metadata: deepValue(50_000) } });
    const uncloneable = makeRecord({ startedAt: Date.now(), responseBody: { callback: () => 1 } });
    const deepUsage = makeRecord({ startedAt: Date.now(), usage: { inputTokens: 7, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 1, reasoningTokens: 0, raw: deepValue(20_000) } });
    const hostile = [deepResponse, deepRequest, uncloneable, deepUsage];
    // Hostile records in the middle of one turn's batch, and one alone in a later turn.
    for (const record of [...ordinary.slice(0, 20), ...hostile.slice(0, 3), ...ordinary.slice(20)]) {
      expect(() => log.observer.requestFinished(record)).not.toThrow();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => log.observer.requestFinished(deepUsage)).not.toThrow();
    await log.committed();
    const stored = rows(log.database);
    for (const record of [...ordinary, ...hostile]) expect(stored.has(record.id), record.id).toBe(true);
    expect(stored.size).toBe(ordinary.length + hostile.length);
    for (const record of ordinary) {
      expect(stored.get(record.id)!.warnings_json).toBeNull();
      expect(stored.get(record.id)!.request_json).toContain('"model":"gpt-4.1"');
    }
    // Only the body that could not cross is cut: the deep response's request body is kept.
    expect(stored.get(deepResponse.id)!.warnings_json).toContain('The response body was not stored');
    expect(stored.get(deepResponse.id)!.request_json).toContain('"model":"gpt-4.1"');
    expect(stored.get(deepResponse.id)!.response_json).toBeNull();
    expect(stored.get(deepRequest.id)!.warnings_json).toContain('The request body was not stored');
    expect(stored.get(uncloneable.id)!.warnings_json).toContain('not stored');
    // The raw usage went, the counts stayed.
    expect(stored.get(deepUsage.id)!.warnings_json).toContain('not stored');
    expect(stored.get(deepUsage.id)!.input_tokens).toBe(7);
    await log.close();
  });

  it('journals any record without throwing', () => {
    const record = makeRecord({ usage: { inputTokens: 1, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 1, reasoningTokens: 0, raw: deepValue(200_000) } });
    const line = journalEntry(record);
    expect(line.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(line) as { id: string; usage: { inputTokens: number; raw?: unknown }; warnings: Array<{ message: string }> };
    expect(parsed.id).toBe(record.id);
    expect(parsed.usage.inputTokens).toBe(1);
    expect(parsed.usage.raw).toBeUndefined();
    expect(parsed.warnings.at(-1)!.message).toContain('not stored');
    // An ordinary record's line is the record without bodies, unchanged.
    const plain = makeRecord();
    expect(JSON.parse(journalEntry(plain))).toEqual(JSON.parse(JSON.stringify({ ...plain, requestBody: null, upstreamRequestBody: null, responseBody: null })));
  });

  it('the writer logs a record its body processing chokes on, without that body (the others kept)', () => {
    const directory = folder();
    const database = openDatabase(directory);
    const errors: Error[] = [];
    const writer = createRequestWriter(database, { flushIntervalMs: 0, onError: (error) => errors.push(error) });
    const choking = makeRecord({
      requestBody: {
        get messages(): unknown {
          throw new RangeError('Maximum call stack size exceeded');
        },
      },
    });
    const others = [makeRecord(), makeRecord()];
    writer.enqueue(others[0]!);
    writer.enqueue(choking);
    writer.enqueue(others[1]!);
    expect(writer.flush()).toBe(3);
    expect(errors).toEqual([]);
    const stored = rows(database);
    // Only the body the writer chokes on is cut; the answer is stored as usual.
    expect(stored.get(choking.id)!.warnings_json).toContain('The request body was not stored: they are nested too deeply');
    expect(stored.get(choking.id)!.response_json).toContain('"choices"');
    for (const record of others) expect(stored.get(record.id)!.request_json).toContain('"model":"gpt-4.1"');
    writer.close();
    database.close();
  });

  it('recordWithoutBodies keeps every fact as plain data', () => {
    const record = makeRecord({ tags: [{ key: 'team', value: 'core' }], warnings: [{ type: 'unsupported-parameter', parameter: 'seed', message: 'dropped' }] });
    const safe = recordWithoutBodies(record, 'test');
    expect(safe).toMatchObject({ id: record.id, usage: record.usage, tags: record.tags, requestBody: null, responseBody: null, upstreamRequestBody: null });
    expect(safe.warnings).toEqual([record.warnings[0], { type: 'other', message: 'The request and response bodies were not stored: test.' }]);
    expect(() => structuredClone(safe)).not.toThrow();
  });
});
