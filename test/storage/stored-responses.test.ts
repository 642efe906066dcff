/**
 * The Responses store on both engines (SQLite's request log, and a throwaway PostgreSQL where
 * its binaries are installed): a logged Responses answer is found by its response id, a
 * deletion is recorded (deleted_responses, SQLite migration 4 / PostgreSQL migration 3) without
 * touching the log row, and a second deletion keeps the first time. A chain of responses is
 * walked back through each request's previous_response_id in one statement (`walk`), and nothing
 * is stored per turn for it. The context column of SQLite migration 5 / PostgreSQL migration 6
 * (an earlier build's whole-conversation copy per turn) is written no more and not read.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withPreviousResponses } from '../../src/main/gateway/formats/openai-responses/previous-response.js';
import type { ResponsesRequestWire } from '../../src/main/gateway/formats/openai-responses/schema.js';
import { migrate } from '../../src/main/storage/database.js';
import { migrations } from '../../src/main/storage/migrations.js';
import { migratePostgres, postgresMigrations } from '../../src/main/storage/postgres/migrations.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import { applyRetention } from '../../src/main/storage/retention.js';
import { postgresStoredResponses, responseChainPlan, sqliteStoredResponses, type StoredResponses } from '../../src/main/storage/stored-responses.js';
import { BODY_LINKS, restoredBodiesPlan } from '../../src/main/storage/request-log-queries.js';
import { ENGINE_NAMES, logEngines } from './log-engines.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const engines = logEngines('stored_responses');
afterAll(() => engines.stop());

describe.each(ENGINE_NAMES)('stored responses on %s', (name) => {
  it('finds a logged response by id, records its deletion once, and keeps the log row', async () => {
    const engine = await engines.open(name);
    try {
      const record = makeRecord({
        endpoint: '/v1/responses',
        responseId: 'resp_stored_1',
        requestBody: { model: 'gpt-4.1', input: 'Hello' },
        responseBody: { id: 'resp_stored_1', object: 'response', output: [] },
      });
      engine.sink.observer.requestFinished(record);
      await engine.sink.committed();
      const found = await engine.responses.find('resp_stored_1');
      expect(found).toMatchObject({ responseId: 'resp_stored_1', requestBody: { input: 'Hello' }, deletedAt: null, gatewayKeyId: 'key-1' });
      await engine.responses.delete('resp_stored_1', 1_000);
      await engine.responses.delete('resp_stored_1', 2_000);
      expect(await engine.responses.find('resp_stored_1')).toMatchObject({ responseId: 'resp_stored_1', deletedAt: 1_000, requestBody: { input: 'Hello' } });
      expect(await engine.count('SELECT count(*) FROM requests')).toBe(1);
      expect(await engine.responses.find('resp_never')).toBeNull();
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('walks a chain back through each request’s previous_response_id, newest first, stopping where a continuation must', async () => {
    const engine = await engines.open(name);
    try {
      const turn = (id: string, previous: string | null, extra: Record<string, unknown> = {}) =>
        makeRecord({
          endpoint: '/v1/responses',
          responseId: id,
          requestBody: { model: 'gpt-4.1', input: `in ${id}`, ...(previous ? { previous_response_id: previous } : {}) },
          responseBody: { id, object: 'response', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `out ${id}` }] }] },
          ...extra,
        });
      // a ← b ← c ← d; e continues one only OpenAI knows; f continues a deleted one; g a failed one; h another key's; i one kept without bodies.
      for (const record of [
        turn('resp_a', null),
        turn('resp_b', 'resp_a'),
        turn('resp_c', 'resp_b', { requestBody: { model: 'gpt-4.1', input: [{ type: 'message', role: 'user', content: 'c', api_key: 'sk-never-stored-0123456789' }], previous_response_id: 'resp_b' } }),
        turn('resp_d', 'resp_c'),
        turn('resp_e', 'resp_openai_only'),
        turn('resp_deleted', 'resp_a'),
        turn('resp_f', 'resp_deleted'),
        turn('resp_failed', null, { status: 'error' }),
        turn('resp_g', 'resp_failed'),
        turn('resp_other', null, { gatewayKeyId: 'key-2' }),
        turn('resp_h', 'resp_other'),
        turn('resp_bare', null, { requestBody: null, responseBody: null }),
        turn('resp_i', 'resp_bare'),
      ]) {
        engine.sink.observer.requestFinished(record);
      }
      await engine.sink.committed();
      await engine.responses.delete('resp_deleted', 5_000);
      const ids = (steps: Awaited<ReturnType<StoredResponses['walk']>>) => steps.map((step) => [step.responseId, step.found !== null]);

      const chain = await engine.responses.walk('resp_d', 100);
      expect(ids(chain)).toEqual([['resp_d', true], ['resp_c', true], ['resp_b', true], ['resp_a', true]]);
      expect(chain.map((step) => step.found?.requestBody?.input)).toEqual(['in resp_d', [{ type: 'message', role: 'user', content: 'c', api_key: '[redacted]' }], 'in resp_b', 'in resp_a']);
      expect(chain[3]!.found).toMatchObject({ responseBody: { output: [{ content: [{ text: 'out resp_a' }] }] }, gatewayKeyId: 'key-1', deletedAt: null, failed: false });
      // At most `limit` steps.
      expect(ids(await engine.responses.walk('resp_d', 2))).toEqual([['resp_d', true], ['resp_c', true]]);
      // An id the log never held: the last step, found null.
      expect(ids(await engine.responses.walk('resp_e', 100))).toEqual([['resp_e', true], ['resp_openai_only', false]]);
      expect(ids(await engine.responses.walk('resp_never', 100))).toEqual([['resp_never', false]]);
      // Deleted, failed, another key's, without bodies: the walk reads that step and goes no further back (or stops with it for the caller to refuse).
      const deleted = await engine.responses.walk('resp_f', 100);
      expect(ids(deleted)).toEqual([['resp_f', true], ['resp_deleted', true]]);
      expect(deleted[1]!.found?.deletedAt).toBe(5_000);
      const failed = await engine.responses.walk('resp_g', 100);
      expect(ids(failed)).toEqual([['resp_g', true], ['resp_failed', true]]);
      expect(failed[1]!.found?.failed).toBe(true);
      expect((await engine.responses.walk('resp_h', 100))[1]!.found?.gatewayKeyId).toBe('key-2');
      expect((await engine.responses.walk('resp_i', 100))[1]!.found).toMatchObject({ requestBody: null, responseBody: null });
      // Nothing per turn beyond the turn's own bodies: no context column written, no context message links.
      expect(await engine.count('SELECT count(*) FROM request_messages WHERE part = ?', 3)).toBe(0);
      // A caller's walk stops at another key's response (read, for the caller to refuse; nothing before it).
      const mine = await engine.responses.walk('resp_h', 100, 'key-1');
      expect(ids(mine)).toEqual([['resp_h', true], ['resp_other', true]]);
      const another = turn('resp_j', 'resp_h', { gatewayKeyId: 'key-2' });
      engine.sink.observer.requestFinished(another);
      await engine.sink.committed();
      expect(ids(await engine.responses.walk('resp_j', 100, 'key-1'))).toEqual([['resp_j', true]]);
      // Texts JSON cannot carry to every engine's JSON type (a NUL, a lone surrogate) do not stop a walk: it reads no JSON.
      engine.sink.observer.requestFinished(turn('resp_odd', 'resp_d', { requestBody: { model: 'gpt-4.1', input: 'nul \u0000 and lone \ud800', previous_response_id: 'resp_d', metadata: { note: '\u0000' } } }));
      engine.sink.observer.requestFinished(turn('resp_after_odd', 'resp_odd'));
      await engine.sink.committed();
      expect(ids(await engine.responses.walk('resp_after_odd', 100))).toEqual([['resp_after_odd', true], ['resp_odd', true], ['resp_d', true], ['resp_c', true], ['resp_b', true], ['resp_a', true]]);
    } finally {
      await engine.close();
    }
  }, 60_000);
});

describe('SQLite migration 5', () => {
  it('adds the context column (written by no later build) to a log at version 4, whose responses still read back', async () => {
    const directory = temporaryDirectory();
    // A log as version 4 left it: a raw database given the first four migrations only.
    const database = new Database(join(directory, 'version-4.db'));
    try {
      expect(migrate(database, migrations.slice(0, 4))).toBe(4);
      expect((database.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('bodies') as string[])).not.toContain('context_json');
      database
        .prepare(
          `INSERT INTO requests (id, started_at, ended_at, endpoint, status, http_status, stream, priced, latency_ms, attempts, gateway_key_id, response_id)
           VALUES ('request-old', 1000, 1400, '/v1/responses', 'success', 200, 0, 1, 400, 1, 'key-1', 'resp_old')`,
        )
        .run();
      database.prepare("INSERT INTO bodies (request_seq, request_json, upstream_request_json, response_json) VALUES (1, ?, NULL, ?)").run(JSON.stringify({ model: 'gpt-4.1', input: 'Old' }), JSON.stringify({ id: 'resp_old', output: [] }));
      expect(migrate(database)).toBe(migrations.length);
      expect((database.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('bodies') as string[])).toContain('context_json');
      expect(await sqliteStoredResponses(database).find('resp_old')).toMatchObject({ responseId: 'resp_old', requestBody: { input: 'Old' }, failed: false });
    } finally {
      database.close();
      removeDirectory(directory);
    }
  });
});

describe('PostgreSQL migration 6', () => {
  it('adds the context column (written by no later build) to a log at version 5, whose responses still read back', async () => {
    const pool = await engines.pool();
    // A log as version 5 left it.
    expect(await migratePostgres(pool, postgresMigrations.slice(0, 5))).toBe(5);
    const { rows } = await pool.query<{ seq: string }>(
      `INSERT INTO requests (id, started_at, ended_at, endpoint, status, http_status, stream, priced, latency_ms, attempts, gateway_key_id, response_id)
       VALUES ('request-old', 1000, 1400, '/v1/responses', 'success', 200, 0, 1, 400, 1, 'key-1', 'resp_old') RETURNING seq`,
    );
    await pool.query('INSERT INTO bodies (request_seq, request_json, upstream_request_json, response_json) VALUES ($1, $2, NULL, $3)', [
      rows[0]!.seq,
      JSON.stringify({ model: 'gpt-4.1', input: 'Old' }),
      JSON.stringify({ id: 'resp_old', output: [] }),
    ]);
    expect(await migratePostgres(pool)).toBe(postgresMigrations.length);
    const columns = await pool.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'bodies'");
    expect(columns.rows.map((row) => row.column_name)).toContain('context_json');
    expect(await postgresStoredResponses(pool, 0).find('resp_old')).toMatchObject({ responseId: 'resp_old', requestBody: { input: 'Old' }, failed: false });
  }, 60_000);
});

describe('retention and a chain (SQLite)', () => {
  it('an earlier response purged: continuing a later one is refused as a walk refused it (the purged id is one the log does not hold)', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const now = Date.now();
      log.observer.requestFinished(
        makeRecord({ startedAt: now - 3 * 86_400_000, endpoint: '/v1/responses', responseId: 'resp_purged', requestBody: { input: 'Old question' }, responseBody: { id: 'resp_purged', output: [] } }),
      );
      log.observer.requestFinished(
        makeRecord({ startedAt: now, endpoint: '/v1/responses', responseId: 'resp_kept', requestBody: { input: 'New question', previous_response_id: 'resp_purged' }, responseBody: { id: 'resp_kept', output: [] } }),
      );
      await log.committed();
      expect(applyRetention(log.database, { maximumAgeDays: 1 }, now).requestsDeleted).toBe(1);
      const store = sqliteStoredResponses(log.database);
      expect(await store.find('resp_purged')).toBeNull();
      // Left for OpenAI; any other upstream answers not found.
      const resolved = await withPreviousResponses({ model: 'claude-sonnet-4-5', input: 'Go on', previous_response_id: 'resp_kept' } as ResponsesRequestWire, store, null);
      expect(resolved.wire.previous_response_id).toBe('resp_kept');
      expect(resolved.passthroughOnly?.message).toBe("Previous response with id 'resp_purged' not found.");
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});

describe('a response logged with a context by an earlier build', () => {
  it('is walked like any other (its context_json is not read), and retention still removes its context links with it', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const now = Date.now();
      log.observer.requestFinished(makeRecord({ startedAt: now - 3 * 86_400_000, endpoint: '/v1/responses', responseId: 'resp_one', requestBody: { input: 'One' }, responseBody: { id: 'resp_one', output: [] } }));
      log.observer.requestFinished(makeRecord({ startedAt: now - 3 * 86_400_000, endpoint: '/v1/responses', responseId: 'resp_two', requestBody: { input: 'Two', previous_response_id: 'resp_one' }, responseBody: { id: 'resp_two', output: [] } }));
      await log.committed();
      // What that build wrote for resp_two: its whole conversation as message links (part 3) and a context text.
      const seq = (log.database.prepare("SELECT seq FROM requests WHERE response_id = 'resp_two'").pluck().get() as number);
      log.database.prepare("INSERT INTO messages (hash, role, content_json) VALUES (x'00112233445566778899aabbccddeeff', 'user', '{\"content\":\"stale\"}')").run();
      log.database.prepare("INSERT INTO request_messages (request_seq, part, position, message_id) SELECT ?, 3, 0, id FROM messages WHERE content_json LIKE '%stale%'").run(seq);
      log.database.prepare('UPDATE bodies SET context_json = ? WHERE request_seq = ?').run(JSON.stringify({ items: [{ $message: '00112233445566778899aabbccddeeff' }], chain: ['resp_one'] }), seq);
      const resolved = await withPreviousResponses({ model: 'gpt-4.1', input: 'Three', previous_response_id: 'resp_two' } as ResponsesRequestWire, sqliteStoredResponses(log.database), null);
      expect(resolved.wire.input).toEqual([
        { type: 'message', role: 'user', content: 'One' },
        { type: 'message', role: 'user', content: 'Two' },
        { type: 'message', role: 'user', content: 'Three' },
      ]);
      expect(applyRetention(log.database, { maximumAgeDays: 1 }, now).requestsDeleted).toBe(2);
      expect(log.database.prepare('SELECT count(*) FROM request_messages').pluck().get()).toBe(0);
      expect(log.database.prepare("SELECT count(*) FROM messages WHERE content_json LIKE '%stale%'").pluck().get()).toBe(0);
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});

describe('walks over rows of an earlier build, and cycles (SQLite)', () => {
  function chainTurn(id: string, previous: string | null, startedAt: number) {
    return makeRecord({
      startedAt,
      endpoint: '/v1/responses',
      responseId: id,
      requestBody: { model: 'gpt-4.1', input: `in ${id}`, ...(previous ? { previous_response_id: previous } : {}) },
      responseBody: { id, object: 'response', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `out ${id}` }] }] },
    });
  }

  it('a response logged before the continued id had its column is walked on from its body', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const now = Date.now();
      for (const [index, id] of ['resp_1', 'resp_2', 'resp_3', 'resp_4'].entries()) log.observer.requestFinished(chainTurn(id, index === 0 ? null : `resp_${index}`, now + index));
      await log.committed();
      // resp_2 and resp_3 as an earlier build logged them: the id only in their bodies.
      log.database.prepare("UPDATE requests SET previous_response_id = NULL WHERE response_id IN ('resp_2', 'resp_3')").run();
      const store = sqliteStoredResponses(log.database);
      const walks: string[] = [];
      const counted = { ...store, walk: (id: string, limit: number, key?: string | null) => (walks.push(id), store.walk(id, limit, key)) };
      const resolved = await withPreviousResponses({ model: 'gpt-4.1', input: 'five', previous_response_id: 'resp_4' } as ResponsesRequestWire, counted, null);
      expect((resolved.wire.input as Array<{ content: unknown }>).map((item) => (typeof item.content === 'string' ? item.content : (item.content as Array<{ text: string }>)[0]!.text))).toEqual([
        'in resp_1', 'out resp_1', 'in resp_2', 'out resp_2', 'in resp_3', 'out resp_3', 'in resp_4', 'out resp_4', 'five',
      ]);
      // One walk to resp_3 (its column empty), one from resp_2 (the same), one from resp_1.
      expect(walks).toEqual(['resp_4', 'resp_2', 'resp_1']);
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });

  it('a chain that comes back to itself is refused, its repeated step read without bodies', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const now = Date.now();
      // An upstream that gave an id twice: resp_self continues itself; resp_x and resp_y each other.
      log.observer.requestFinished(chainTurn('resp_self', 'resp_self', now));
      log.observer.requestFinished(chainTurn('resp_x', 'resp_y', now + 1));
      log.observer.requestFinished(chainTurn('resp_y', 'resp_x', now + 2));
      await log.committed();
      const store = sqliteStoredResponses(log.database);
      const steps = await store.walk('resp_self', 10_001);
      expect(steps.map((step) => [step.responseId, step.found?.requestBody ?? null])).toEqual([['resp_self', { model: 'gpt-4.1', input: 'in resp_self', previous_response_id: 'resp_self' }], ['resp_self', null]]);
      for (const id of ['resp_self', 'resp_x']) {
        const error = await withPreviousResponses({ model: 'gpt-4.1', input: 'go', previous_response_id: id } as ResponsesRequestWire, store, null).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ status: 400, code: 'invalid_previous_response' });
      }
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});

describe('the plans behind a long conversation', () => {
  /** Every SQL text a plan yields, driven without a database (each statement answers no rows). */
  function textsOf(plan: Generator<ReadonlyArray<{ sql: string; parameters: readonly unknown[] }>, unknown, Array<Array<Record<string, unknown>>>>): Array<{ sql: string; parameters: readonly unknown[] }> {
    const seen: Array<{ sql: string; parameters: readonly unknown[] }> = [];
    let step = plan.next();
    while (!step.done) {
      seen.push(...step.value);
      step = plan.next(step.value.map(() => []));
    }
    return seen;
  }

  it('make a few SQL texts whatever the number of turns and messages (the statement caches keep them all)', () => {
    const texts = new Set<string>();
    for (let turns = 1; turns <= 300; turns += 1) {
      const walk = textsOf(responseChainPlan(`resp_${turns}`, turns, 'key-1'));
      // One statement: the recursive walk (no rows here, so no bodies or messages to read).
      expect(walk).toHaveLength(1);
      expect(walk[0]!.parameters).toEqual([`resp_${turns}`, turns, 'key-1', 'key-1']);
      texts.add(walk[0]!.sql);
      const body = JSON.stringify({ messages: Array.from({ length: turns }, (_, index) => ({ $message: index.toString(16).padStart(64, '0') })) });
      const restore = textsOf(restoredBodiesPlan([{ seq: turns, text: body, part: 'request', links: BODY_LINKS.request }]));
      // The body's links and their messages, in one step.
      expect(restore).toHaveLength(2);
      for (const statement of restore) texts.add(statement.sql);
    }
    // One walk, and the two statements of one request's links: the same texts whatever the lengths.
    expect(texts.size).toBe(3);
  });
});

describe('an object of the client’s shaped like a message reference', () => {
  it('is read back as it was sent, not swapped for the stored message with that hash (another key’s included)', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const secret = { role: 'user', content: 'another key’s secret question' };
      log.observer.requestFinished(makeRecord({ gatewayKeyId: 'key-other', requestBody: { model: 'gpt-4.1', messages: [secret] } }));
      await log.committed();
      const hash = Buffer.from((log.database.prepare('SELECT hash FROM messages WHERE content_json LIKE ?').get('%secret question%') as { hash: Uint8Array }).hash).toString('hex');
      const probe = { $message: hash };
      log.observer.requestFinished(
        makeRecord({ endpoint: '/v1/responses', responseId: 'resp_probe', requestBody: { model: 'gpt-4.1', input: [probe], metadata: { note: probe } }, responseBody: { id: 'resp_probe', output: [probe] } }),
      );
      await log.committed();
      const found = await sqliteStoredResponses(log.database).find('resp_probe');
      expect(found?.requestBody).toEqual({ model: 'gpt-4.1', input: [probe], metadata: { note: probe } });
      expect(found?.responseBody).toEqual({ id: 'resp_probe', output: [probe] });
      expect(JSON.stringify(found)).not.toContain('secret question');
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});
