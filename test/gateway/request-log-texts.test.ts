/**
 * The request log fed by the gateway keeps the bodies as the JSON texts the gateway holds (the
 * client's text as it came, the request sent upstream, the answer sent back) instead of
 * cloning the objects: what it stores must be exactly what the writer stores from the record's
 * objects — for a pass-through answer (the upstream's bytes), a translated one, a client body
 * written with odd spacing and escapes, and a credential-named member, which is still masked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticKeyAuth } from '../../src/main/gateway/access.js';
import { loadConfig } from '../../src/main/gateway/config.js';
import { buildGateway } from '../../src/main/gateway/server.js';
import type { RequestRecord } from '../../src/main/core/record.js';
import { EnvironmentSecretStore } from '../../src/main/secrets/secret-store.js';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { openRequestLog, type RequestLog } from '../../src/main/storage/request-log.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

const KEY = 'sy-test-texts-key-0123456789';
const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';

let openai: OpenAIFake;
let anthropic: AnthropicFake;
let log: RequestLog;
let app: ReturnType<typeof buildGateway>;
let origin: string;
const folders: string[] = [];
// The records as the gateway finished them, copied at once: the objects the log used to clone.
const finished: RequestRecord[] = [];

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAIFake({ flavor: 'openai', apiKey: 'sk-openai-texts-0123456789' }), startAnthropicFake({ apiKey: 'sk-ant-texts-0123456789' })]);
  const environment = {
    OPENAI_API_KEY: 'sk-openai-texts-0123456789',
    OPENAI_BASE_URL: openai.url,
    ANTHROPIC_API_KEY: 'sk-ant-texts-0123456789',
    ANTHROPIC_BASE_URL: anthropic.url,
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
  };
  const config = loadConfig({ file: { retries: { maxRetries: 0 } }, environment, overrides: { host: '127.0.0.1', port: 0 } });
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-texts-'));
  folders.push(directory);
  log = openRequestLog(directory, { flushIntervalMs: 5 });
  const auth = new StaticKeyAuth([{ key: KEY, identity: { id: 'test', name: 'test', tags: [], allowedModels: null } }]);
  app = buildGateway({ config, auth, secrets: new EnvironmentSecretStore(config.providers, environment), observers: [log.observer, { requestFinished: (record) => void finished.push(structuredClone(record)) }] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await log?.close();
  await app?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const SEQ = '(SELECT seq FROM requests WHERE id = ?)';
function contents(database: SqliteDatabase, id: string): { request: unknown[]; bodies: unknown[] } {
  return {
    request: database.prepare('SELECT * FROM requests WHERE id = ?').all(id),
    attempts: database.prepare(`SELECT * FROM attempts WHERE request_seq = ${SEQ} ORDER BY attempt_index`).all(id),
    bodies: database.prepare(`SELECT * FROM bodies WHERE request_seq = ${SEQ}`).all(id),
    messages: database
      .prepare(`SELECT rm.part, rm.position, m.hash, m.role, m.content_json FROM request_messages rm JOIN messages m ON m.id = rm.message_id WHERE rm.request_seq = ${SEQ} ORDER BY rm.part, rm.position`)
      .all(id),
  } as { request: unknown[]; bodies: unknown[] };
}

async function post(path: string, text: string): Promise<{ id: string; body: string }> {
  const response = await fetch(`${origin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: text });
  const body = await response.text();
  expect(response.status, body).toBe(200);
  return { id: response.headers.get('x-switchyard-request-id')!, body };
}

describe('request log bodies kept as the texts the gateway holds', () => {
  it('stores exactly what the writer stores from the record objects, secrets masked', async () => {
    const calls = [
      // OpenAI client to OpenAI: the upstream's bytes pass through; odd spacing, escapes and number forms in the client's text.
      ['/v1/chat/completions', `{ "messages" : [ {"role":"user",  "content":"h\\u00e9llo \\"there\\""} ],\n  "model":"gpt-4.1-mini", "temperature": 1.0, "max_tokens": 1e2,\n "metadata": { "Authorization": "Bearer ${SECRET}" } }`],
      // The same without a parameter the upstream request renames: the client's text itself goes upstream.
      ['/v1/chat/completions', `{ "messages" : [ {"role":"user",  "content":"h\\u00e9llo \\"again\\""} ],\n  "model":"gpt-4.1-mini", "temperature": 1.0,\n "metadata": { "Authorization": "Bearer ${SECRET}" } }`],
      // OpenAI client to Anthropic: translated both ways, the answer serialised by the gateway.
      ['/v1/chat/completions', JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'translate me ✓' }] })],
      // Anthropic client to Anthropic: its body passes through.
      ['/v1/messages', JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 50, system: [{ type: 'text', text: 'sys' }], messages: [{ role: 'user', content: [{ type: 'text', text: 'pass me through' }] }] })],
    ] as const;
    const ids: string[] = [];
    for (const [path, text] of calls) ids.push((await post(path, text)).id);
    await log.committed();

    const directFolder = mkdtempSync(join(tmpdir(), 'switchyard-texts-direct-'));
    folders.push(directFolder);
    const direct = openDatabase(directFolder);
    const writer = createRequestWriter(direct, { flushIntervalMs: 0 });
    for (const id of ids) writer.enqueue(finished.find((record) => record.id === id)!);
    writer.flush();
    for (const id of ids) {
      const stored = contents(log.database, id);
      expect(stored.request).toHaveLength(1);
      expect(stored.bodies).toHaveLength(1);
      expect(stored, id).toEqual(contents(direct, id));
    }
    // The client's own text held a credential-named member; what is stored has it masked.
    const everything = JSON.stringify([contents(log.database, ids[0]!), log.database.prepare('SELECT content_json FROM messages').pluck().all()]);
    expect(everything).toContain('héllo');
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(SECRET);
    direct.close();
  });
});
