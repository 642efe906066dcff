import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPriceBook } from '../../src/main/pricing/catalog.js';
import { restoreAddressed, UPSTREAM_SAME_AS_REQUEST, upstreamMarker } from '../../src/main/storage/content-addressing.js';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { getRequest } from '../../src/main/storage/request-log-queries.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { chatTranscript, makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

let directory: string;
let database: SqliteDatabase;

beforeEach(() => {
  directory = temporaryDirectory();
  database = openDatabase(directory);
});
afterEach(() => {
  vi.useRealTimers();
  database.close();
  removeDirectory(directory);
});

function count(table: string): number {
  return database.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

describe('request writer queue', () => {
  it('enqueue only queues; the timer writes the batch after the interval', async () => {
    const writer = createRequestWriter(database, { flushIntervalMs: 30 });
    writer.enqueue(makeRecord());
    writer.enqueue(makeRecord());
    expect(writer.pendingCount).toBe(2);
    expect(count('requests')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(writer.pendingCount).toBe(0);
    expect(count('requests')).toBe(2);
    writer.close();
  });

  it('a full batch is written on the next turn of the event loop, not inside enqueue', async () => {
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000, maxBatchSize: 256 });
    for (let index = 0; index < 600; index += 1) writer.enqueue(makeRecord());
    expect(count('requests')).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(count('requests')).toBe(600);
    writer.close();
  });

  it('writes one transaction per batch of maxBatchSize', () => {
    let transactions = 0;
    const counting = new Proxy(database, {
      get(target, property) {
        if (property === 'transaction') {
          return (body: (...parameters: never[]) => unknown) => {
            const transaction = target.transaction(body);
            return (...parameters: never[]) => {
              transactions += 1;
              return transaction(...parameters);
            };
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...parameters: unknown[]) => unknown).bind(target) : value;
      },
    });
    const writer = createRequestWriter(counting, { flushIntervalMs: 60_000, maxBatchSize: 100 });
    for (let index = 0; index < 250; index += 1) writer.enqueue(makeRecord());
    expect(writer.flush()).toBe(250);
    expect(transactions).toBe(3);
    expect(count('requests')).toBe(250);
    writer.close();
  });

  it('pauses between records, its transaction open, once the work since the flush began (or the last pause) reaches afterMs', async () => {
    // The pause sees the transaction open: what was written before it is there, uncommitted to other connections.
    const reader = openDatabase(directory);
    const seen: Array<{ own: number; others: number }> = [];
    const often = createRequestWriter(database, {
      flushIntervalMs: 60_000,
      maxBatchSize: 4,
      pause: { afterMs: 0, run: () => seen.push({ own: count('requests'), others: reader.prepare('SELECT count(*) FROM requests').pluck().get() as number }) },
    });
    for (let index = 0; index < 6; index += 1) often.enqueue(makeRecord());
    expect(often.flush()).toBe(6);
    // Every record, and each between two records of a batch (rebuilding a batch pauses too, before each record).
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen.some((moment) => moment.own > moment.others)).toBe(true);
    expect(count('requests')).toBe(6);
    reader.close();

    // The time counts from the flush's start, not from the writer's creation nor the process's:
    // 50 records take far less than 200 ms, and the process is older than that.
    let pauses = 0;
    const seldom = createRequestWriter(database, { flushIntervalMs: 60_000, pause: { afterMs: 200, run: () => (pauses += 1) } });
    while (performance.now() < 500) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (let index = 0; index < 50; index += 1) seldom.enqueue(makeRecord());
    expect(seldom.flush()).toBe(50);
    expect(pauses).toBe(0);
    expect(count('requests')).toBe(56);
  });

  it('flush() and close() write synchronously; later records are reported and dropped', () => {
    const errors: string[] = [];
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000, onError: (error) => errors.push(error.message) });
    writer.enqueue(makeRecord());
    expect(writer.flush()).toBe(1);
    writer.enqueue(makeRecord());
    writer.close();
    expect(count('requests')).toBe(2);
    writer.enqueue(makeRecord());
    expect(errors).toEqual(['request writer is closed']);
    expect(count('requests')).toBe(2);
  });

  it('committed() resolves once queued records are in the database', async () => {
    const writer = createRequestWriter(database, { flushIntervalMs: 10 });
    writer.enqueue(makeRecord());
    await writer.committed();
    expect(count('requests')).toBe(1);
    await writer.committed();
    writer.close();
  });

  it('a record that cannot be written is dropped without losing the rest of its batch', () => {
    const failures: unknown[] = [];
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000, onError: (_error, record) => failures.push(record) });
    const bad = makeRecord({ endpoint: null as unknown as string });
    writer.enqueue(makeRecord());
    writer.enqueue(bad);
    writer.enqueue(makeRecord());
    expect(writer.flush()).toBe(2);
    expect(failures).toEqual([bad]);
    expect(count('requests')).toBe(2);
    // Rollups agree with the rows that were written.
    expect(database.prepare("SELECT sum(requests) FROM rollup_hourly WHERE dimension = 'total'").pluck().get()).toBe(2);
    writer.close();
  });

  it('ignores a record logged twice, keeping rollups exact', () => {
    const writer = createRequestWriter(database);
    const record = makeRecord();
    writer.enqueue(record);
    writer.enqueue(record);
    writer.close();
    expect(count('requests')).toBe(1);
    expect(database.prepare("SELECT requests FROM rollup_hourly WHERE dimension = 'total'").pluck().get()).toBe(1);
  });
});

describe('what the writer stores', () => {
  it('stores every field, cost in nano-dollars, tags and one synthesised attempt', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(
      makeRecord({
        id: 'r1',
        usage: { inputTokens: 10_000, cachedInputTokens: 4_000, cacheWriteInputTokens: 0, outputTokens: 500, reasoningTokens: 100, raw: { prompt_tokens: 10_000 } },
        tags: [{ key: 'team', value: 'platform' }, { key: 'team', value: 'platform' }, { key: 'feature', value: 'review' }],
        user: 'alice',
        stream: true,
        timeToFirstTokenMs: 120,
        warnings: [{ type: 'unsupported-parameter', parameter: 'seed', message: 'dropped' }],
      }),
    );
    writer.close();
    const row = database.prepare('SELECT * FROM requests WHERE id = ?').get('r1') as Record<string, unknown>;
    expect(row).toMatchObject({
      endpoint: '/v1/chat/completions',
      provider: 'openai',
      stream: 1,
      input_tokens: 10_000,
      cached_input_tokens: 4_000,
      output_tokens: 500,
      reasoning_tokens: 100,
      cost_nano_usd: 18_000_000,
      priced: 1,
      usage_estimated: 0,
      cache_read_savings_nano_usd: 6_000_000,
      time_to_first_token_ms: 120,
      user: 'alice',
      usage_raw_json: '{"prompt_tokens":10000}',
    });
    expect(JSON.parse(row.warnings_json as string)).toEqual([{ type: 'unsupported-parameter', parameter: 'seed', message: 'dropped' }]);
    expect(database.prepare('SELECT key, value FROM request_tags ORDER BY key').all()).toEqual([
      { key: 'feature', value: 'review' },
      { key: 'team', value: 'platform' },
    ]);
    expect(database.prepare('SELECT attempt_index, provider, model, http_status, status FROM attempts').all()).toEqual([
      { attempt_index: 0, provider: 'openai', model: 'gpt-4.1', http_status: 200, status: 'success' },
    ]);
  });

  it('stores one row per attempt when details are given', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(
      makeRecord({
        attempts: 2,
        attemptsDetail: [
          { provider: 'anthropic', model: 'claude-sonnet-4-5', httpStatus: 529, status: 'error', errorType: 'overloaded_error', latencyMs: 90 },
          { provider: 'openai', model: 'gpt-4.1', httpStatus: 200, status: 'success', latencyMs: 300 },
        ],
      }),
    );
    writer.close();
    expect(database.prepare('SELECT attempt_index, provider, http_status FROM attempts ORDER BY attempt_index').all()).toEqual([
      { attempt_index: 0, provider: 'anthropic', http_status: 529 },
      { attempt_index: 1, provider: 'openai', http_status: 200 },
    ]);
  });

  it('marks a model without a price as unpriced rather than free', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(makeRecord({ id: 'local', provider: 'ollama', requestedModel: 'llama3.2', resolvedModel: 'llama3.2' }));
    writer.enqueue(makeRecord({ id: 'free', provider: 'lmstudio', requestedModel: 'qwen3', resolvedModel: 'qwen3' }));
    writer.close();
    expect(database.prepare("SELECT priced, cost_nano_usd FROM requests WHERE id = 'local'").get()).toEqual({ priced: 0, cost_nano_usd: 0 });
    const overridden = createRequestWriter(database, { priceBook: createPriceBook({ 'ollama/*': { input: 0, output: 0 } }) });
    overridden.enqueue(makeRecord({ id: 'local-2', provider: 'ollama', requestedModel: 'llama3.2', resolvedModel: 'llama3.2' }));
    overridden.close();
    expect(database.prepare("SELECT priced, cost_nano_usd FROM requests WHERE id = 'local-2'").get()).toEqual({ priced: 1, cost_nano_usd: 0 });
  });

  it('estimates usage when the upstream reported none, and marks it estimated', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(
      makeRecord({
        id: 'estimated',
        usage: null,
        requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'x'.repeat(400) }] },
        responseBody: { choices: [{ index: 0, message: { role: 'assistant', content: 'y'.repeat(80) } }] },
      }),
    );
    writer.enqueue(makeRecord({ id: 'refused', usage: null, status: 'error', httpStatus: 401, attempts: 0, responseBody: { error: { message: 'no key' } } }));
    writer.close();
    // 400 chars → 100 tokens + 4 per message + 3 reply priming; 80 chars → 20 tokens.
    expect(database.prepare("SELECT input_tokens, output_tokens, usage_estimated, cost_nano_usd FROM requests WHERE id = 'estimated'").get()).toEqual({
      input_tokens: 107,
      output_tokens: 20,
      usage_estimated: 1,
      cost_nano_usd: 107 * 2000 + 20 * 8000,
    });
    expect(database.prepare("SELECT input_tokens, usage_estimated, priced, cost_nano_usd FROM requests WHERE id = 'refused'").get()).toEqual({
      input_tokens: 0,
      usage_estimated: 0,
      priced: 1,
      cost_nano_usd: 0,
    });
  });

  it('a response-cache hit costs nothing and records what it saved', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(makeRecord({ id: 'hit', cacheHit: true, attempts: 0 }));
    writer.close();
    expect(database.prepare("SELECT cache_hit, cost_nano_usd, cache_savings_nano_usd FROM requests WHERE id = 'hit'").get()).toEqual({
      cache_hit: 1,
      cost_nano_usd: 0,
      cache_savings_nano_usd: 1000 * 2000 + 100 * 8000,
    });
    expect(count('attempts')).toBe(0);
  });

  it('redacts credential-named fields in stored bodies', () => {
    const writer = createRequestWriter(database);
    writer.enqueue(
      makeRecord({
        id: 'secret',
        requestBody: { model: 'gpt-4.1', messages: [], headers: { Authorization: 'Bearer sk-live', 'x-api-key': 'k', other: 'fine' } },
        upstreamRequestBody: { model: 'gpt-4.1', extra: { 'X-Goog-Api-Key': 'g', 'x-provider-api-key': 'p' } },
      }),
    );
    writer.close();
    const bodies = database.prepare("SELECT request_json, upstream_request_json FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = 'secret'").get() as Record<string, string>;
    expect(bodies.request_json).not.toContain('sk-live');
    expect(JSON.parse(bodies.request_json as string).headers).toEqual({ Authorization: '[redacted]', 'x-api-key': '[redacted]', other: 'fine' });
    expect(JSON.parse(bodies.upstream_request_json as string).extra).toEqual({ 'X-Goog-Api-Key': '[redacted]', 'x-provider-api-key': '[redacted]' });
  });

  it('stores no bodies or message contents when storeBodies is false', () => {
    const writer = createRequestWriter(database, { storeBodies: false });
    writer.enqueue(makeRecord({ conversationId: 'c1' }));
    writer.close();
    expect(count('requests')).toBe(1);
    expect(count('bodies')).toBe(0);
    expect(count('messages')).toBe(0);
    expect(count('request_messages')).toBe(0);
    expect(database.prepare("SELECT title FROM conversations WHERE id = 'c1'").pluck().get()).toBeNull();
  });
});

describe('conversation grouping', () => {
  it('derives a conversation id from the opening messages when the gateway gave none', () => {
    const writer = createRequestWriter(database);
    for (const [index, turn] of chatTranscript(3).entries()) {
      writer.enqueue(makeRecord({ id: `t${index}`, requestBody: { model: 'gpt-4.1', messages: turn.messages } }));
    }
    writer.enqueue(makeRecord({ id: 'other-user', user: 'bob', requestBody: { model: 'gpt-4.1', messages: chatTranscript(1)[0]?.messages } }));
    writer.enqueue(makeRecord({ id: 'explicit', conversationId: 'mine', requestBody: { model: 'gpt-4.1', messages: chatTranscript(1)[0]?.messages } }));
    writer.enqueue(makeRecord({ id: 'embedding', endpoint: '/v1/embeddings', requestBody: { model: 'text-embedding-3-small', input: 'x' } }));
    writer.close();
    const rows = database.prepare('SELECT id, conversation_id FROM requests ORDER BY seq').all() as Array<{ id: string; conversation_id: string | null }>;
    const byId = new Map(rows.map((row) => [row.id, row.conversation_id]));
    expect(byId.get('t0')).toMatch(/^c_/);
    expect(byId.get('t1')).toBe(byId.get('t0'));
    expect(byId.get('t2')).toBe(byId.get('t0'));
    expect(byId.get('other-user')).not.toBe(byId.get('t0'));
    expect(byId.get('explicit')).toBe('mine');
    expect(byId.get('embedding')).toBeNull();
  });
});

describe('content-addressed messages', () => {
  it('a 20-turn conversation stores each distinct message once', () => {
    const writer = createRequestWriter(database);
    const transcript = chatTranscript(20);
    transcript.forEach((turn, index) => {
      writer.enqueue(
        makeRecord({
          id: `turn-${index + 1}`,
          startedAt: Date.UTC(2025, 5, 1, 12, index),
          conversationId: 'chat',
          requestBody: { model: 'gpt-4.1', messages: turn.messages },
          upstreamRequestBody: { model: 'gpt-4.1', messages: turn.messages },
          responseBody: { id: `x${index}`, choices: [{ index: 0, message: turn.reply, finish_reason: 'stop' }] },
        }),
      );
    });
    writer.close();
    const sentMessages = transcript.reduce((sum, turn) => sum + turn.messages.length, 0);
    expect(sentMessages).toBe(420); // turn k resends 2k messages
    // 1 system prompt + 20 questions + 20 replies, whatever the number of turns resent.
    expect(count('messages')).toBe(41);
    // Each stored body is small: the message list is a list of 32-character references.
    const lastBody = database.prepare("SELECT request_json FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = 'turn-20'").pluck().get() as string;
    expect(lastBody.length).toBeLessThan(40 * 50);
    // The body can be put back together exactly.
    const lookup = database.prepare('SELECT content_json FROM messages WHERE hash = ?').pluck();
    const restored = restoreAddressed(JSON.parse(lastBody), 'request', (hash) => JSON.parse(lookup.get(Buffer.from(hash, 'hex')) as string));
    expect(restored).toEqual({ model: 'gpt-4.1', messages: transcript[19]?.messages });
    const conversation = database.prepare("SELECT requests, title FROM conversations WHERE id = 'chat'").get();
    expect(conversation).toEqual({ requests: 20, title: 'Question number 1: what is 1 squared?' });
  });
  it('an upstream body equal to the client body is stored once and read back as both; a different one is stored as it is', () => {
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000 });
    const body = { model: 'gpt-4.1', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'same' }] };
    const changed = { ...body, model: 'gpt-4.1-2025-04-14' };
    writer.enqueue(makeRecord({ id: 'same-object', requestBody: body, upstreamRequestBody: body }));
    writer.enqueue(makeRecord({ id: 'equal-copy', requestBody: body, upstreamRequestBody: structuredClone(body) }));
    writer.enqueue(makeRecord({ id: 'different', requestBody: body, upstreamRequestBody: changed }));
    writer.enqueue(makeRecord({ id: 'no-upstream', requestBody: body, upstreamRequestBody: null }));
    writer.close();
    const stored = (id: string) =>
      database.prepare('SELECT b.upstream_request_json FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = ?').pluck().get(id) as string | null;
    const parts = (id: string) =>
      database.prepare('SELECT rm.part FROM request_messages rm JOIN requests r ON r.seq = rm.request_seq WHERE r.id = ? ORDER BY rm.part, rm.position').pluck().all(id);
    expect(stored('same-object')).toBe(UPSTREAM_SAME_AS_REQUEST);
    expect(stored('equal-copy')).toBe(UPSTREAM_SAME_AS_REQUEST);
    expect(JSON.parse(stored('different') as string).model).toBe('gpt-4.1-2025-04-14');
    expect(stored('no-upstream')).toBeNull();
    // The request's links stand for the upstream copy's (retention keeps the same messages); the answer's stay.
    const answer = parts('no-upstream').filter((part) => part === 2);
    expect(answer.length).toBeGreaterThan(0);
    expect(parts('same-object')).toEqual([0, 0, ...answer]);
    expect(parts('different')).toEqual([0, 0, 1, 1, ...answer]);
    for (const id of ['same-object', 'equal-copy']) {
      const detail = getRequest(database, id);
      expect(detail?.requestBody).toEqual(body);
      expect(detail?.upstreamRequestBody).toEqual(body);
      expect(detail?.upstreamRequestBody).not.toBe(detail?.requestBody);
    }
    expect(getRequest(database, 'different')?.upstreamRequestBody).toEqual(changed);
    expect(getRequest(database, 'no-upstream')?.upstreamRequestBody).toBeNull();
  });
  it("an upstream body that only adds members to the client's (an OpenAI stream's stream_options) is stored as a marker with them and read back whole", () => {
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000 });
    const body = { model: 'gpt-4.1', stream: true, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'stream it' }] };
    const streamed = { ...body, stream_options: { include_usage: true } };
    // Not only added: a member changed, a member the request has not added in order, a message list added.
    const alsoChanged = { ...body, model: 'gpt-4.1-2025-04-14', stream_options: { include_usage: true } };
    const geminiBody = { model: 'gemini-2.5-flash', generationConfig: {} };
    writer.enqueue(makeRecord({ id: 'stream-usage', stream: true, requestBody: body, upstreamRequestBody: streamed }));
    writer.enqueue(makeRecord({ id: 'also-changed', stream: true, requestBody: body, upstreamRequestBody: alsoChanged }));
    writer.enqueue(makeRecord({ id: 'adds-messages', requestBody: geminiBody, upstreamRequestBody: { ...geminiBody, contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } }));
    writer.enqueue(makeRecord({ id: 'adds-secret', requestBody: body, upstreamRequestBody: { ...body, api_key: 'sk-added-by-nobody-1234567890' } }));
    writer.close();
    const stored = (id: string) =>
      database.prepare('SELECT b.upstream_request_json FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = ?').pluck().get(id) as string | null;
    const parts = (id: string) =>
      database.prepare('SELECT DISTINCT rm.part FROM request_messages rm JOIN requests r ON r.seq = rm.request_seq WHERE r.id = ? ORDER BY rm.part').pluck().all(id);
    expect(stored('stream-usage')).toBe('{"$sameAs":"request","$with":{"stream_options":{"include_usage":true}}}');
    expect(parts('stream-usage')).toEqual([0, 2]);
    const detail = getRequest(database, 'stream-usage');
    // The members the upstream got, in its order (messages come back in their stored canonical form, as ever).
    expect(detail?.upstreamRequestBody).toEqual(streamed);
    expect(Object.keys(detail?.upstreamRequestBody as object)).toEqual(Object.keys(streamed));
    expect(detail?.requestBody).toEqual(body);
    expect(JSON.parse(stored('also-changed') as string).model).toBe('gpt-4.1-2025-04-14');
    expect(getRequest(database, 'also-changed')?.upstreamRequestBody).toEqual(alsoChanged);
    expect(parts('also-changed')).toEqual([0, 1, 2]);
    expect(JSON.parse(stored('adds-messages') as string).contents[0].$message).toMatch(/^[0-9a-f]{32}$/);
    // Added members are redacted like every stored body.
    expect(stored('adds-secret')).toBe('{"$sameAs":"request","$with":{"api_key":"[redacted]"}}');
    expect(getRequest(database, 'adds-secret')?.upstreamRequestBody).toEqual({ ...body, api_key: '[redacted]' });
  });
  it('reads a marker only in the exact shapes the writer writes', () => {
    expect(upstreamMarker(UPSTREAM_SAME_AS_REQUEST)).toEqual({ with: null });
    expect(upstreamMarker('{"$sameAs":"request","$with":{"stream_options":{"include_usage":true}}}')).toEqual({ with: { stream_options: { include_usage: true } } });
    expect(upstreamMarker('{"$sameAs":"request","$with":{"a":1},"model":"x","messages":[]}')).toBeNull();
    expect(upstreamMarker('{"$sameAs":"request","$with":[1]}')).toBeNull();
    expect(upstreamMarker('{"$sameAs":"request","$with":{"a":1}')).toBeNull();
    expect(upstreamMarker('{"model":"x"}')).toBeNull();
    expect(upstreamMarker(null)).toBeNull();
  });
  it('a message repeated within a batch, across batches, after a rolled-back batch and after retention always points at a stored row', () => {
    const writer = createRequestWriter(database, { flushIntervalMs: 60_000, onError: () => {} });
    const ask = (content: string) => ({ model: 'gpt-4.1', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content }] });
    const dangling = () => database.prepare('SELECT count(*) FROM request_messages rm LEFT JOIN messages m ON m.id = rm.message_id WHERE m.id IS NULL').pluck().get();
    // One batch, the system prompt repeated in every request and its upstream copy.
    for (const content of ['a', 'b', 'a']) writer.enqueue(makeRecord({ requestBody: ask(content), upstreamRequestBody: ask(content) }));
    writer.flush();
    expect(count('messages')).toBe(4); // system, 'a', 'b', the reply
    expect(count('request_messages')).toBe(3 * 3); // system, question, reply: an upstream body equal to the client's is stored as it
    // A batch rolled back (its last record cannot be bound) and retried record by record.
    writer.enqueue(makeRecord({ requestBody: ask('fresh') }));
    writer.enqueue(makeRecord({ id: {} as unknown as string, requestBody: ask('fresh') }));
    writer.flush();
    expect(count('requests')).toBe(5); // the unbindable one too, reduced by recordWithoutBodies
    expect(dangling()).toBe(0);
    // Retention between batches deletes every message no request refers to any more.
    database.exec('DELETE FROM request_messages; DELETE FROM messages WHERE id NOT IN (SELECT message_id FROM request_messages)');
    writer.enqueue(makeRecord({ requestBody: ask('a') }));
    writer.flush();
    expect(count('messages')).toBe(3);
    expect(dangling()).toBe(0);
    writer.close();
  });
});
