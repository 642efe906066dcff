/**
 * The writer thread's rebuild of a record (recordFromWire) and the writer's shortcuts for it:
 * a body sent upstream as the client wrote it is parsed and addressed once, and the log holds
 * exactly what it holds for the same record handed over as separate objects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { journalJson, journalLine } from '../../src/main/storage/journal-pair.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { appendedMembers, handedRecord, recordFromWire, type StoredRequestRecord } from '../../src/main/storage/stored-record.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const directories: string[] = [];
const databases: SqliteDatabase[] = [];
afterEach(() => {
  for (const database of databases.splice(0)) database.close();
  for (const directory of directories.splice(0)) removeDirectory(directory);
});

/** Every table but the request rows' ids and sequence numbers, which differ between two logs' copies of a record. */
function logOf(records: StoredRequestRecord[]): unknown {
  const directory = temporaryDirectory();
  directories.push(directory);
  const database = openDatabase(directory);
  databases.push(database);
  const writer = createRequestWriter(database, { flushIntervalMs: 0 });
  for (const record of records) writer.enqueue(record);
  writer.flush();
  return {
    bodies: database.prepare('SELECT request_json, upstream_request_json, response_json FROM bodies ORDER BY request_seq').all(),
    links: database.prepare('SELECT r.id, part, position, hex(m.hash) AS hash, m.content_json FROM request_messages JOIN messages m ON m.id = message_id JOIN requests r ON r.seq = request_seq ORDER BY r.id, part, position').all(),
    conversations: database.prepare('SELECT id, requests, title FROM conversations ORDER BY id').all(),
  };
}

/** A copy of `text` that is another string object (as two texts received apart are). */
function distinctCopy(text: string): string {
  return JSON.stringify(JSON.parse(text));
}

describe('records rebuilt from the wire', () => {
  const requestBody = { model: 'gpt-4.1-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], api_key: 'sk-secret-in-body' };
  const responseBody = { id: 'r1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }] };

  it('parses an upstream body equal to the client body once, and stores what separate objects store', () => {
    const record = makeRecord({ id: 'same', requestBody, upstreamRequestBody: structuredClone(requestBody), responseBody });
    const text = JSON.stringify(requestBody);
    const handed = handedRecord(record, journalLine(record).line, { requestBody: text, upstreamRequestBody: distinctCopy(text), responseBody: JSON.stringify(responseBody) });
    // The text crosses once: postMessage would copy an equal second string in full.
    expect(handed.requestBody).toBe(text);
    expect(handed.upstreamRequestBody).toBeNull();
    const rebuilt = recordFromWire(structuredClone(handed));
    expect(rebuilt.upstreamRequestBody).toBe(rebuilt.requestBody);
    expect(rebuilt.requestBody).toEqual(requestBody);
    const stored = logOf([rebuilt]);
    expect(stored).toEqual(logOf([record]));
    expect(JSON.stringify(stored)).not.toContain('sk-secret-in-body');
    expect((stored as { links: unknown[] }).links).toHaveLength(3); // two request messages and the answer (the upstream body is the request's)
  });

  it("rebuilds the same record from the journal line's JSON without its newline (what the request log hands over)", () => {
    const record = makeRecord({ id: 'no-newline', requestBody, upstreamRequestBody: requestBody, responseBody, tags: [{ key: 'team', value: 'blue' }] });
    const { json, whole } = journalJson(record);
    expect(whole).toBe(true);
    expect(json + '\n').toBe(journalLine(record).line);
    expect(json).not.toContain('\n');
    const texts = { requestBody: JSON.stringify(requestBody), upstreamRequestBody: JSON.stringify(requestBody), responseBody: JSON.stringify(responseBody) };
    expect(recordFromWire(handedRecord(record, json, texts))).toEqual(recordFromWire(handedRecord(record, journalLine(record).line, texts)));
    expect(logOf([recordFromWire(handedRecord(record, json, texts))])).toEqual(logOf([record]));
  });

  it('parses an upstream body that differs from the client body on its own', () => {
    const upstreamRequestBody = { ...requestBody, model: 'gpt-4.1-mini-2025-04-14' };
    const record = makeRecord({ id: 'different', requestBody, upstreamRequestBody, responseBody });
    const rebuilt = recordFromWire(handedRecord(record, journalLine(record).line, { requestBody: JSON.stringify(requestBody), upstreamRequestBody: JSON.stringify(upstreamRequestBody) }));
    expect(rebuilt.upstreamRequestBody).not.toBe(rebuilt.requestBody);
    expect(rebuilt.upstreamRequestBody).toEqual(upstreamRequestBody);
    expect(rebuilt.responseBody).toEqual(responseBody);
    const stored = logOf([rebuilt]) as { bodies: Array<{ upstream_request_json: string }> };
    expect(stored).toEqual(logOf([record]));
    expect(JSON.parse(stored.bodies[0]!.upstream_request_json).model).toBe('gpt-4.1-mini-2025-04-14');
  });

  it("crosses an OpenAI stream's upstream body (the client's text with stream_options appended) as the appended members, rebuilds it sharing the request's members, and stores it as a marker", () => {
    const text = JSON.stringify(requestBody);
    const upstreamText = `${text.slice(0, -1)},"stream_options":{"include_usage":true}}`;
    const record = makeRecord({ id: 'stream', stream: true, requestBody, upstreamRequestBody: { ...requestBody, stream_options: { include_usage: true } }, responseBody });
    const handed = handedRecord(record, journalLine(record).line, { requestBody: text, upstreamRequestBody: upstreamText, responseBody: JSON.stringify(responseBody) });
    expect(handed.upstreamRequestBody).toBe(',"stream_options":{"include_usage":true}');
    const rebuilt = recordFromWire(structuredClone(handed));
    // The upstream body as JSON.parse of the text sent reads it, members in the same order.
    expect(JSON.stringify(rebuilt.upstreamRequestBody)).toBe(upstreamText);
    expect((rebuilt.upstreamRequestBody as { messages: unknown }).messages).toBe((rebuilt.requestBody as { messages: unknown }).messages);
    const stored = logOf([rebuilt]) as { bodies: Array<{ upstream_request_json: string }>; links: unknown[] };
    expect(stored).toEqual(logOf([record]));
    expect(stored.bodies[0]!.upstream_request_json).toBe('{"$sameAs":"request","$with":{"stream_options":{"include_usage":true}}}');
    expect(stored.links).toHaveLength(3); // the request's two messages and the answer: no upstream copy of them
    expect(JSON.stringify(stored)).not.toContain('sk-secret-in-body');
  });

  it('finds appended members only where the upstream text is the request text with members before its closing brace', () => {
    expect(appendedMembers('{"a":1}', '{"a":1,"b":2}')).toBe(',"b":2');
    expect(appendedMembers('{ "a": [1, {"c": "}"}] }\n', '{ "a": [1, {"c": "}"}],"b":{"d":true}}')).toBe(',"b":{"d":true}');
    // The request's last number continued, not a member added.
    expect(appendedMembers('{"a":1}', '{"a":10,"b":2}')).toBeNull();
    expect(appendedMembers('{"a":1}', '{"a":1}')).toBeNull();
    expect(appendedMembers('{"a":1}', '{"a":2,"b":2}')).toBeNull();
    expect(appendedMembers('{}', '{"b":2}')).toBeNull();
    expect(appendedMembers('{"a":"x"}', '{"a":"x","b":2} ')).toBeNull();
  });

  it('takes records as they crossed and rebuilds them when their batch is written; one whose bodies will not parse is stored from its journal line, reported, and costs no other', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    databases.push(database);
    const errors: string[] = [];
    const flushed: boolean[] = [];
    const writer = createRequestWriter(database, { flushIntervalMs: 0, onError: (error) => errors.push(error.message), onFlushed: (complete) => flushed.push(complete) });
    const good = makeRecord({ id: 'good', requestBody, upstreamRequestBody: requestBody, responseBody });
    const broken = makeRecord({ id: 'broken', requestedModel: 'gpt-broken', tags: [{ key: 'team', value: 'blue' }] });
    writer.enqueue(handedRecord(good, journalLine(good).line, { requestBody: JSON.stringify(requestBody), upstreamRequestBody: JSON.stringify(requestBody), responseBody: JSON.stringify(responseBody) }));
    // V8's message for this text quotes it around the fault: `"{"a": sk-secret-in…"`.
    writer.enqueue(handedRecord(broken, journalLine(broken).line, { requestBody: '{"a": sk-secret-in-broken-body-0123456789}' }));
    writer.enqueue(makeRecord({ id: 'plain' }));
    expect(database.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(0);
    writer.flush();
    expect(database.prepare('SELECT id FROM requests ORDER BY seq').pluck().all()).toEqual(['good', 'broken', 'plain']);
    // The broken record's facts are kept, its bodies cut with a warning that says so.
    const row = database.prepare("SELECT requested_model, warnings_json FROM requests WHERE id = 'broken'").get() as { requested_model: string; warnings_json: string };
    expect(row.requested_model).toBe('gpt-broken');
    expect(database.prepare("SELECT value FROM request_tags JOIN requests ON seq = request_seq WHERE id = 'broken'").pluck().all()).toEqual(['blue']);
    expect((JSON.parse(row.warnings_json) as Array<{ message: string }>).at(-1)?.message).toMatch(/bodies were not stored/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^a request record's bodies could not be read \(SyntaxError\); request broken stored without them$/);
    expect(flushed).toEqual([true]);
    const body = database.prepare("SELECT request_json FROM bodies JOIN requests ON seq = request_seq WHERE id = 'good'").pluck().get() as string;
    expect(JSON.parse(body).api_key).toBe('[redacted]');
    // Nothing of the unreadable body reached the log or the report.
    const everything = JSON.stringify(database.prepare('SELECT * FROM requests').all()) + JSON.stringify(database.prepare('SELECT * FROM bodies').all()) + errors.join('');
    expect(everything).not.toContain('sk-secret-in');
  });
});

