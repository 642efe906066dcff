/**
 * The Responses store on both engines (SQLite's request log, and a throwaway PostgreSQL where
 * its binaries are installed): a logged Responses answer is found by its response id, a
 * deletion is recorded (deleted_responses, SQLite migration 4 / PostgreSQL migration 3) without
 * touching the log row, and a second deletion keeps the first time. A continued response's
 * context (SQLite migration 5 / PostgreSQL migration 6) is stored with its items as
 * content-addressed messages (referenced as part 3, so retention keeps them) and read back with
 * the response; the chain check (`links`) reads the earlier responses' rows in one statement. Both
 * migrations upgrade a log of the version before, whose responses then have no context.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withPreviousResponses } from '../../src/main/gateway/formats/openai-responses/previous-response.js';
import type { ResponsesRequestWire } from '../../src/main/gateway/formats/openai-responses/schema.js';
import { migrate } from '../../src/main/storage/database.js';
import { migrations } from '../../src/main/storage/migrations.js';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { migratePostgres, postgresMigrations } from '../../src/main/storage/postgres/migrations.js';
import { openPostgresRequestLog } from '../../src/main/storage/postgres/request-log.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import { applyRetention } from '../../src/main/storage/retention.js';
import { chainLinksPlan, postgresStoredResponses, sqliteStoredResponses, storedResponsePlan, type StoredResponses } from '../../src/main/storage/stored-responses.js';
import { restoredBodiesPlan } from '../../src/main/storage/request-log-queries.js';
import type { RequestLogSink } from '../../src/main/storage/store.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

let postgres: ThrowawayPostgres | null = null;
const pools: PostgresPool[] = [];

interface Engine {
  sink: RequestLogSink;
  responses: StoredResponses;
  rowCount(): Promise<number>;
  /** Message references of one part, over the whole log. */
  references(part: number): Promise<number>;
  close(): Promise<void>;
}

const engines: Record<'sqlite' | 'postgres', () => Promise<Engine>> = {
  async sqlite() {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    return {
      sink: log,
      responses: sqliteStoredResponses(log.database),
      rowCount: async () => (log.database.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }).n,
      references: async (part) => (log.database.prepare('SELECT count(*) AS n FROM request_messages WHERE part = ?').get(part) as { n: number }).n,
      async close() {
        await log.close();
        removeDirectory(directory);
      },
    };
  },
  async postgres() {
    postgres ??= await startThrowawayPostgres();
    const pool = createPostgresPool(await postgres.createDatabase(`stored_responses_${pools.length}`));
    pools.push(pool);
    await migratePostgres(pool);
    const directory = temporaryDirectory();
    const sink = await openPostgresRequestLog(directory, pool);
    return {
      sink,
      responses: postgresStoredResponses(pool, 0),
      rowCount: async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM requests')).rows[0]!.n),
      references: async (part) => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM request_messages WHERE part = $1', [part])).rows[0]!.n),
      async close() {
        await sink.close();
        removeDirectory(directory);
      },
    };
  },
};

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await postgres?.stop();
});

const engineNames = ['sqlite', 'postgres'] as const;

describe.each(engineNames)('stored responses on %s', (name) => {
  it('finds a logged response by id, records its deletion once, and keeps the log row', async () => {
    const engine = await engines[name]();
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
      expect(await engine.rowCount()).toBe(1);
      expect(await engine.responses.find('resp_never')).toBeNull();
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('keeps a continued response’s context (items as messages, part 3) and checks a chain in one read', async () => {
    const engine = await engines[name]();
    try {
      const first = makeRecord({
        endpoint: '/v1/responses',
        responseId: 'resp_chain_1',
        requestBody: { model: 'gpt-4.1', input: 'One' },
        responseBody: { id: 'resp_chain_1', object: 'response', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Uno' }] }] },
      });
      const items = [
        { type: 'message', role: 'user', content: 'One' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Uno' }] },
        { type: 'message', role: 'user', content: 'Two', api_key: 'sk-never-stored-0123456789' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Dos' }] },
      ];
      const second = makeRecord({
        endpoint: '/v1/responses',
        responseId: 'resp_chain_2',
        requestBody: { model: 'gpt-4.1', input: 'Two', previous_response_id: 'resp_chain_1' },
        responseBody: { id: 'resp_chain_2', object: 'response', output: [items[3]] },
        responseContext: { items, chain: ['resp_chain_1'] },
      });
      engine.sink.observer.requestFinished(first);
      engine.sink.observer.requestFinished(second);
      await engine.sink.committed();
      expect((await engine.responses.find('resp_chain_1'))?.context).toBeNull();
      // GET and DELETE read no context; a continuation asks for it.
      expect((await engine.responses.find('resp_chain_2'))?.context).toBeNull();
      const found = await engine.responses.find('resp_chain_2', { withContext: true });
      // Secrets are redacted in the context as in every body.
      expect(found?.context).toEqual({ items: [items[0], items[1], { ...items[2], api_key: '[redacted]' }, items[3]], chain: ['resp_chain_1'] });
      expect(await engine.references(3)).toBe(4);

      await engine.responses.delete('resp_chain_1', 5_000);
      const links = await engine.responses.links(['resp_chain_1', 'resp_chain_2', 'resp_gone']);
      expect(Object.fromEntries(links)).toEqual({
        resp_chain_1: { gatewayKeyId: 'key-1', deletedAt: 5_000, hasBodies: true },
        resp_chain_2: { gatewayKeyId: 'key-1', deletedAt: null, hasBodies: true },
      });
    } finally {
      await engine.close();
    }
  }, 60_000);
});

describe('SQLite migration 5', () => {
  it('adds the context column to a log at version 4, whose responses read back with no context (walked, as before)', async () => {
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
      expect(await sqliteStoredResponses(database).find('resp_old')).toMatchObject({ responseId: 'resp_old', requestBody: { input: 'Old' }, context: null, failed: false });
    } finally {
      database.close();
      removeDirectory(directory);
    }
  });
});

describe('PostgreSQL migration 6', () => {
  it('adds the context column to a log at version 5, whose responses read back with no context (walked, as before)', async () => {
    postgres ??= await startThrowawayPostgres();
    const pool = createPostgresPool(await postgres.createDatabase('stored_responses_upgrade'));
    pools.push(pool);
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
    expect(await postgresStoredResponses(pool, 0).find('resp_old')).toMatchObject({ responseId: 'resp_old', requestBody: { input: 'Old' }, context: null, failed: false });
  }, 60_000);
});

describe('retention and stored contexts (SQLite)', () => {
  it('an earlier response purged: the later one’s context keeps its items, and continuing it is refused as a walk refused it', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const now = Date.now();
      const items = [
        { type: 'message', role: 'user', content: 'Old question' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Old answer' }] },
        { type: 'message', role: 'user', content: 'New question' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'New answer' }] },
      ];
      log.observer.requestFinished(
        makeRecord({ startedAt: now - 3 * 86_400_000, endpoint: '/v1/responses', responseId: 'resp_purged', requestBody: { input: 'Old question' }, responseBody: { id: 'resp_purged', output: [items[1]] } }),
      );
      log.observer.requestFinished(
        makeRecord({
          startedAt: now,
          endpoint: '/v1/responses',
          responseId: 'resp_kept',
          requestBody: { input: 'New question', previous_response_id: 'resp_purged' },
          responseBody: { id: 'resp_kept', output: [items[3]] },
          responseContext: { items, chain: ['resp_purged'] },
        }),
      );
      await log.committed();
      const result = applyRetention(log.database, { maximumAgeDays: 1 }, now);
      expect(result.requestsDeleted).toBe(1);
      const store = sqliteStoredResponses(log.database);
      expect(await store.find('resp_purged')).toBeNull();
      // The items the purged response shared with the kept one's context are still there (referenced as part 3).
      expect((await store.find('resp_kept', { withContext: true }))?.context?.items).toEqual(items);
      expect((await store.links(['resp_purged'])).size).toBe(0);
      // As a walk through the chain would: the purged id is one the log does not hold (left for OpenAI; any other upstream answers not found).
      const resolved = await withPreviousResponses({ model: 'claude-sonnet-4-5', input: 'Go on', previous_response_id: 'resp_kept' } as ResponsesRequestWire, store, null);
      expect(resolved.wire.previous_response_id).toBe('resp_kept');
      expect(resolved.passthroughOnly?.message).toBe("Previous response with id 'resp_purged' not found.");
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});

describe('retention purging responses whose contexts share items (SQLite)', () => {
  it('a → b (context) → c (context), a and b purged: the items c shares with b’s context stay, the ones only b referenced go', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const now = Date.now();
      const old = now - 3 * 86_400_000;
      const message = (role: string, text: string) => ({ type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });
      const [a1, a2, b1, b2, c1, c2] = [message('user', 'One'), message('assistant', 'Uno'), message('user', 'Two'), message('assistant', 'Dos'), message('user', 'Three'), message('assistant', 'Tres')];
      // Only b's context holds this one (a message its client later edited out of the conversation c continues).
      const onlyB = message('user', 'Only in b');
      log.observer.requestFinished(makeRecord({ startedAt: old, endpoint: '/v1/responses', responseId: 'resp_a', requestBody: { input: 'One' }, responseBody: { id: 'resp_a', output: [a2] } }));
      log.observer.requestFinished(
        makeRecord({ startedAt: old + 1, endpoint: '/v1/responses', responseId: 'resp_b', requestBody: { input: 'Two', previous_response_id: 'resp_a' }, responseBody: { id: 'resp_b', output: [b2] }, responseContext: { items: [a1, a2, onlyB, b1, b2], chain: ['resp_a'] } }),
      );
      log.observer.requestFinished(
        makeRecord({ startedAt: now, endpoint: '/v1/responses', responseId: 'resp_c', requestBody: { input: 'Three', previous_response_id: 'resp_b' }, responseBody: { id: 'resp_c', output: [c2] }, responseContext: { items: [a1, a2, b1, b2, c1, c2], chain: ['resp_a', 'resp_b'] } }),
      );
      await log.committed();
      const count = (sql: string): number => (log.database.prepare(sql).get() as { n: number }).n;
      const contextMessages = "SELECT count(DISTINCT message_id) AS n FROM request_messages WHERE part = 3";
      expect(count(contextMessages)).toBe(7);
      const result = applyRetention(log.database, { maximumAgeDays: 1 }, now);
      expect(result.requestsDeleted).toBe(2);
      // c's six items are all still there; the one only b's context referenced is gone, and nothing is left unreferenced.
      expect(count(contextMessages)).toBe(6);
      expect(count('SELECT count(*) AS n FROM request_messages WHERE part = 3')).toBe(6);
      expect(count("SELECT count(*) AS n FROM messages WHERE id NOT IN (SELECT message_id FROM request_messages)")).toBe(0);
      expect(count("SELECT count(*) AS n FROM messages WHERE content_json LIKE '%Only in b%'")).toBe(0);
      const store = sqliteStoredResponses(log.database);
      expect(await store.find('resp_b')).toBeNull();
      expect((await store.find('resp_c', { withContext: true }))?.context).toEqual({ items: [a1, a2, b1, b2, c1, c2], chain: ['resp_a', 'resp_b'] });
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

  it('make a few SQL texts whatever the number of turns and items (the statement caches keep them all), padded with NULL', () => {
    const texts = new Set<string>();
    for (let turns = 1; turns <= 300; turns += 1) {
      const ids = Array.from({ length: turns }, (_, index) => `resp_${index}`);
      const [links] = textsOf(chainLinksPlan(ids));
      texts.add(links!.sql);
      expect(links!.parameters.slice(0, turns)).toEqual(ids);
      expect(links!.parameters.slice(turns).every((parameter) => parameter === null)).toBe(true);
      const context = JSON.stringify({ items: ids.map((_, index) => ({ $message: index.toString(16).padStart(64, '0') })), chain: ids });
      const [hashes] = textsOf(restoredBodiesPlan([{ text: context, part: 'context' }]));
      texts.add(hashes!.sql);
    }
    // Lists of 1, 2, 4 … 512 for each of the two plans; one text per length would be 600.
    expect(texts.size).toBeLessThanOrEqual(20);
  });
});

describe('a stored context not whole', () => {
  it('an item whose message the log no longer holds makes the context absent (the chain is walked), never an item sent upstream', () => {
    const hash = 'ab'.repeat(32);
    const plan = storedResponsePlan('resp_partial', { withContext: true });
    const answers: Array<Array<Array<Record<string, unknown>>>> = [
      [[{ seq: 7, status: 'success', requested_model: 'gpt-4.1', resolved_model: null, started_at: 1, gateway_key_id: null, conversation_id: null }]],
      [[{ request_json: JSON.stringify({ input: 'Two' }), response_json: JSON.stringify({ id: 'resp_partial', output: [] }), context_json: JSON.stringify({ items: [{ $message: hash }, { type: 'message', role: 'user', content: 'Two' }], chain: ['resp_one'] }) }]],
      // The messages statement finds nothing: that item comes back as { $missing: hash }.
      [[]],
      [[]],
    ];
    let step = plan.next();
    while (!step.done) step = plan.next(answers.shift()!);
    expect(answers).toEqual([]);
    expect(step.value).toMatchObject({ responseId: 'resp_partial', requestBody: { input: 'Two' }, context: null });
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
      const found = await sqliteStoredResponses(log.database).find('resp_probe', { withContext: true });
      expect(found?.requestBody).toEqual({ model: 'gpt-4.1', input: [probe], metadata: { note: probe } });
      expect(found?.responseBody).toEqual({ id: 'resp_probe', output: [probe] });
      expect(JSON.stringify(found)).not.toContain('secret question');
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});
