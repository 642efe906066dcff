/**
 * Kill-safety through the gateway, for every kind of answer: when the last bytes of an answer
 * are handed to the socket (its response's end()), the request's journal line is already on
 * disk (or, the older journal emptied after a commit, the request is in the database). JSON
 * answers and a stream's last bytes are held until the end of the turn of the event loop and
 * go after one journal write for the turn (group commit); errors and refusals write their line
 * (and the turn's held ones) at once.
 * Requests are sent together so that turns carry several; later rounds are answered by the
 * response cache (a policy's answer, JSON and replayed stream).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RequestObserver } from '../../src/main/core/record.js';
import { StaticKeyAuth } from '../../src/main/gateway/access.js';
import { DEFAULT_CACHE_CONFIG, loadConfig } from '../../src/main/gateway/config.js';
import { ResponseCache } from '../../src/main/gateway/policies/response-cache.js';
import { buildGateway } from '../../src/main/gateway/server.js';
import { EnvironmentSecretStore } from '../../src/main/secrets/secret-store.js';
import { JournalPair } from '../../src/main/storage/journal-pair.js';
import { JOURNAL_FILE_NAMES, openRequestLog, type RequestLog } from '../../src/main/storage/request-log.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

const KEY = 'sy-test-journalled-key-0123456789';

let openai: OpenAIFake;
let anthropic: AnthropicFake;
let log: RequestLog;
let app: ReturnType<typeof buildGateway>;
let origin: string;
let directory: string;
const ended = new Map<string, boolean>();
/** How each request reached the log: its answer held (group commit) or already sent. */
const reached = new Map<string, { stream: boolean; held: boolean }>();
const journalWrites = vi.spyOn(JournalPair.prototype, 'appendLines');

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAIFake({ flavor: 'openai', apiKey: 'sk-openai-journal-0123456789' }), startAnthropicFake({ apiKey: 'sk-ant-journal-0123456789' })]);
  const environment = {
    OPENAI_API_KEY: 'sk-openai-journal-0123456789',
    OPENAI_BASE_URL: openai.url,
    ANTHROPIC_API_KEY: 'sk-ant-journal-0123456789',
    ANTHROPIC_BASE_URL: anthropic.url,
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
  };
  const config = loadConfig({ file: { retries: { maxRetries: 0 } }, environment, overrides: { host: '127.0.0.1', port: 0 } });
  directory = mkdtempSync(join(tmpdir(), 'switchyard-journalled-'));
  log = openRequestLog(directory, { flushIntervalMs: 5 });
  const auth = new StaticKeyAuth([{ key: KEY, identity: { id: 'test', name: 'test', tags: [], allowedModels: null } }]);
  app = buildGateway({ config, auth, secrets: new EnvironmentSecretStore(config.providers, environment), observers: [watched(log.observer)], policies: [new ResponseCache({ ...DEFAULT_CACHE_CONFIG, enabled: true })] });
  // Whether each request was safe at the moment its response ended.
  app.addHook('onRequest', (_request, reply, done) => {
    const raw = reply.raw;
    const end = raw.end;
    raw.end = function (this: typeof raw, ...args: Parameters<typeof raw.end>) {
      const id = reply.getHeader('x-switchyard-request-id');
      if (typeof id === 'string') ended.set(id, safe(id));
      return end.apply(this, args);
    } as typeof raw.end;
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  await log?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** The log's observer, noting how each record reached it. */
function watched(observer: RequestObserver): RequestObserver {
  return {
    requestFinished(record, texts) {
      reached.set(record.id, { stream: record.stream, held: false });
      observer.requestFinished(record, texts);
    },
    requestFinishedBeforeAnswer(record, answer, texts) {
      reached.set(record.id, { stream: record.stream, held: true });
      observer.requestFinishedBeforeAnswer!(record, answer, texts);
    },
  };
}

/** Whether the request is safe: journalled, or (its journal emptied after the commit) in the database. */
function safe(id: string): boolean {
  const journalled = JOURNAL_FILE_NAMES.some((name) => readFileSync(join(directory, name), 'utf8').includes(`"id":${JSON.stringify(id)}`));
  return journalled || log.database.prepare('SELECT 1 FROM requests WHERE id = ?').get(id) !== undefined;
}

const chat = (model: string, stream = false) => ['/v1/chat/completions', JSON.stringify({ model, stream, messages: [{ role: 'user', content: `hello ${model}` }] })] as const;
const CALLS: ReadonlyArray<readonly [string, string]> = [
  chat('gpt-4.1-mini'),
  chat('gpt-4.1-mini', true),
  chat('claude-haiku-4-5'),
  chat('claude-haiku-4-5', true),
  ['/v1/messages', JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })],
  ['/v1/messages', JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'hi' }] })],
  ['/v1/responses', JSON.stringify({ model: 'gpt-4.1-mini', input: 'hi' })],
  ['/v1/responses', JSON.stringify({ model: 'gpt-4.1-mini', input: 'hi', stream: true })],
  ['/v1/responses', JSON.stringify({ model: 'claude-haiku-4-5', input: 'hi' })],
  // Errors: a body the schema refuses, a model no provider has.
  ['/v1/chat/completions', JSON.stringify({ model: 'gpt-4.1-mini', messages: 'not a list' })],
  chat('no-such-model-anywhere'),
];

describe('an answered request is journalled before its answer arrives', () => {
  it('for JSON, streamed, Anthropic and Responses answers and errors, sent together', async () => {
    for (let round = 0; round < 3; round += 1) {
      const results = await Promise.all(
        [...CALLS, ...CALLS].map(async ([path, body]) => {
          const response = await fetch(`${origin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });
          await response.text();
          const id = response.headers.get('x-switchyard-request-id');
          return { path, status: response.status, id, safe: id !== null && ended.get(id) };
        }),
      );
      expect(results.filter((result) => result.status === 200).length).toBeGreaterThanOrEqual(18);
      for (const result of results) expect(result, JSON.stringify(result)).toMatchObject({ safe: true });
    }
    await log.committed();
    expect(log.database.prepare('SELECT COUNT(*) FROM requests WHERE cache_hit = 1').pluck().get()).toBeGreaterThan(0);
    // Every answer, JSON or stream, from an upstream or from the cache, was held for the turn's write.
    const answered = log.database.prepare("SELECT id, stream, cache_hit FROM requests WHERE status = 'success'").all() as Array<{ id: string; stream: number; cache_hit: number }>;
    expect(answered.filter((row) => row.stream === 1).length).toBeGreaterThanOrEqual(3 * 8);
    expect(answered.filter((row) => row.stream === 0 && row.cache_hit === 1).length).toBeGreaterThan(0);
    for (const row of answered) expect(reached.get(row.id), row.id).toEqual({ stream: row.stream === 1, held: true });
    // Requests sent together share journal writes: fewer writes than lines.
    const lines = journalWrites.mock.calls.reduce((sum, call) => sum + call[1], 0);
    expect(lines).toBe(reached.size);
    expect(journalWrites.mock.calls.length).toBeLessThan(lines);
  });
});
