/**
 * A corpus of hostile request bodies (and a hostile upstream answer) against a whole
 * gateway with its request log: absurd nesting where validation never looks (metadata, an
 * extra key of a content part, an unknown field on /v1/embeddings, the admin API), huge
 * strings, brackets inside strings. Each gets a clean answer in shape, the gateway stays
 * up, and every request — hostile or not — has its record in the log.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_HEADER, createAdminToken } from '../../src/main/admin/admin-token.js';
import { MAX_JSON_DEPTH, jsonShape } from '../../src/main/gateway/json-body.js';
import { startGateway, type RunningGateway } from '../../src/main/headless.js';
import { MemoryProviderKeyManager } from '../../src/main/services/key-managers.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { expectOpenAIError, rawRequest, type RawResponse } from '../gateway/support.js';

const KEY = 'sy-hostile-key-0123456789';
const OPENAI_KEY = 'sk-hostile-upstream';
const auth = { authorization: `Bearer ${KEY}` };
const adminToken = createAdminToken();

/** `{"a":{"a":…{"a":1}…}}` or `[[…[1]…]]`, `depth` levels, built as text (JSON.stringify would overflow). */
function nested(depth: number, kind: 'object' | 'array' = 'array'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const hello = '[{"role":"user","content":"hello"}]';

interface Case {
  name: string;
  path: string;
  body: string;
  /** Expected status; 400 cases must name the depth limit. */
  status: number;
  tooDeep?: boolean;
  admin?: boolean;
}

const corpus: Case[] = [
  ...[4_000, 10_000, 100_000].map((depth): Case => ({
    name: `metadata nested ${depth} deep`,
    path: '/v1/chat/completions',
    body: `{"model":"gpt-4o-mini","messages":${hello},"metadata":{"x":${nested(depth)}}}`,
    status: 400,
    tooDeep: true,
  })),
  {
    name: 'objects in metadata nested 10,000 deep',
    path: '/v1/chat/completions',
    body: `{"model":"gpt-4o-mini","messages":${hello},"metadata":${nested(10_000, 'object')}}`,
    status: 400,
    tooDeep: true,
  },
  ...[4_000, 10_000].map((depth): Case => ({
    name: `a content part's extra key nested ${depth} deep`,
    path: '/v1/chat/completions',
    body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"hi","extra":${nested(depth)}}]}]}`,
    status: 400,
    tooDeep: true,
  })),
  ...[4_000, 100_000].map((depth): Case => ({
    name: `an unknown field on /v1/embeddings nested ${depth} deep`,
    path: '/v1/embeddings',
    body: `{"model":"text-embedding-3-small","input":"hi","extra":${nested(depth)}}`,
    status: 400,
    tooDeep: true,
  })),
  {
    name: 'a streaming request nested 4,000 deep',
    path: '/v1/chat/completions',
    body: `{"model":"gpt-4o-mini","stream":true,"messages":${hello},"metadata":{"x":${nested(4_000)}}}`,
    status: 400,
    tooDeep: true,
  },
  {
    name: 'unclosed brackets 200,000 deep (not JSON at all)',
    path: '/v1/chat/completions',
    body: '['.repeat(200_000),
    status: 400,
    tooDeep: true,
  },
  {
    name: 'an admin operation with a body nested 10,000 deep',
    path: '/admin/api/gateway.status',
    body: nested(10_000),
    status: 400,
    tooDeep: true,
    admin: true,
  },
  {
    name: `nesting exactly at the limit (${MAX_JSON_DEPTH}) is accepted`,
    path: '/v1/chat/completions',
    // The body itself is one level, metadata a second: the value inside adds the rest.
    body: `{"model":"gpt-4o-mini","messages":${hello},"metadata":{"x":${nested(MAX_JSON_DEPTH - 2)}}}`,
    status: 200,
  },
  {
    name: 'brackets inside strings (with escaped quotes) do not count',
    path: '/v1/chat/completions',
    body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${JSON.stringify(`\\"${'['.repeat(50_000)}\\"${'{'.repeat(50_000)}`)}}]}`,
    status: 200,
  },
  {
    name: 'a 4 MB string in a message',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'word '.repeat(800_000) }] }),
    status: 200,
  },
  {
    name: 'a 4 MB string in metadata and a 4 MB key',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], metadata: { ['k'.repeat(4_000_000)]: 'v'.repeat(4_000_000) } }),
    status: 200,
  },
  {
    name: 'an object with 200,000 keys',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], metadata: Object.fromEntries(Array.from({ length: 200_000 }, (_, index) => [`k${index}`, index])) }),
    status: 200,
  },
];

describe('hostile request bodies', () => {
  let fake: OpenAIFake;
  let gateway: RunningGateway;
  let dataDirectory: string;
  let v1Requests = 0;

  beforeAll(async () => {
    fake = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY });
    dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-hostile-'));
    gateway = await startGateway({
      providerKeys: new MemoryProviderKeyManager(),
      dataDir: dataDirectory,
      host: '127.0.0.1',
      port: 0,
      environment: { SWITCHYARD_API_KEY: KEY, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: fake.url, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' },
      admin: { token: adminToken, rendererDir: null },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await fake?.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  async function send(path: string, body: string, admin = false): Promise<RawResponse> {
    if (path.startsWith('/v1/')) v1Requests += 1;
    return rawRequest(gateway.origin, { method: 'POST', path, body, headers: admin ? { [ADMIN_TOKEN_HEADER]: adminToken } : auth });
  }

  async function ordinary(): Promise<void> {
    const response = await send('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] }));
    expect(response.status, response.text).toBe(200);
  }

  it('counts nesting in one scan that respects strings and escapes', () => {
    expect(jsonShape('{"a":[1,{"b":[]}]}').depth).toBe(4);
    expect(jsonShape('"[[[[" ').depth).toBe(0);
    expect(jsonShape('{"a\\"[[[":"\\\\"}').depth).toBe(1);
    expect(jsonShape('["\\\\\\"[" , [[]]]').depth).toBe(3);
    expect(jsonShape('['.repeat(1_000), 10).depth).toBe(11);
    // Against the depth of random values whose strings are full of quotes, backslashes and brackets.
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % below;
    };
    const randomString = (): string => Array.from({ length: random(12) }, () => '"\\[]{}a:,'[random(10)]).join('');
    const randomValue = (budget: number): unknown => {
      const pick = budget <= 0 ? random(3) : random(5);
      if (pick === 0) return randomString();
      if (pick === 1) return random(100);
      if (pick === 2) return null;
      if (pick === 3) return Array.from({ length: random(4) }, () => randomValue(budget - 1));
      return Object.fromEntries(Array.from({ length: random(4) }, () => [randomString(), randomValue(budget - 1)]));
    };
    const depthOf = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0;
    for (let sample = 0; sample < 500; sample++) {
      const value = randomValue(random(12));
      expect(jsonShape(JSON.stringify(value)).depth).toBe(depthOf(value));
    }
  });

  for (const entry of corpus) {
    it(entry.name, async () => {
      const response = await send(entry.path, entry.body, entry.admin);
      if (entry.tooDeep) {
        const error = expectOpenAIError(response, 400, { type: 'invalid_request_error', code: 'json_too_deep' });
        expect(error.message).toContain(String(MAX_JSON_DEPTH));
      } else {
        expect(response.status, response.text.slice(0, 500)).toBe(entry.status);
      }
      await ordinary();
    }, 30_000);
  }

  it('nothing nested too deeply reached the upstream', () => {
    for (const request of fake.requests) expect(jsonShape(JSON.stringify(request.body ?? null)).depth).toBeLessThanOrEqual(MAX_JSON_DEPTH + 2);
  });

  it('every /v1 request, hostile or not, has its record in the log', async () => {
    const { requestLog } = gateway.application.context;
    const database = gateway.application.context.database!;
    await requestLog.committed();
    const stored = database.prepare("SELECT count(*) FROM requests WHERE endpoint LIKE '/v1/%'").pluck().get();
    expect(stored).toBe(v1Requests);
    const refused = database.prepare("SELECT count(*) FROM requests WHERE http_status = 400 AND error_message LIKE '%levels deep%'").pluck().get();
    expect(refused).toBe(corpus.filter((entry) => entry.tooDeep && !entry.admin).length);
  });
});

describe('a hostile upstream answer', () => {
  let upstream: http.Server;
  let gateway: RunningGateway;
  let dataDirectory: string;

  beforeAll(async () => {
    // An OpenAI-compatible upstream whose answers carry a field nested 20,000 deep.
    upstream = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const url = request.url ?? '';
        response.setHeader('content-type', 'application/json');
        if (url.endsWith('/models')) {
          response.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'x' }] }));
          return;
        }
        response.end(
          `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4},"extra":${nested(20_000)}}`,
        );
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-hostile-upstream-'));
    gateway = await startGateway({
      providerKeys: new MemoryProviderKeyManager(),
      dataDir: dataDirectory,
      host: '127.0.0.1',
      port: 0,
      environment: { SWITCHYARD_API_KEY: KEY, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('answers in shape, stays up, and logs the request (bodies cut, with a note)', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    for (let round = 0; round < 3; round++) {
      const response = await rawRequest(gateway.origin, { method: 'POST', path: '/v1/chat/completions', body, headers: auth });
      // Whatever the gateway makes of such an answer, it is an answer: 200, or an error in OpenAI's shape.
      if (response.status !== 200) expectOpenAIError(response, response.status);
    }
    const health = await rawRequest(gateway.origin, { path: '/health' });
    expect(health.status).toBe(200);
    const { requestLog } = gateway.application.context;
    const database = gateway.application.context.database!;
    await requestLog.committed();
    expect(database.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(3);
    // The deep answer could not cross to the writer thread: the response body is cut, with a note; the request's is kept.
    const rows = database.prepare('SELECT r.http_status, r.warnings_json, b.request_json, b.response_json FROM requests r LEFT JOIN bodies b ON b.request_seq = r.seq').all() as Array<{ http_status: number; warnings_json: string | null; request_json: string | null; response_json: string | null }>;
    for (const row of rows) {
      if (row.http_status !== 200) continue;
      expect(row.warnings_json).toContain('The response body was not stored');
      expect(row.request_json).toContain('gpt-4o-mini');
      expect(row.response_json).toBeNull();
    }
  }, 30_000);
});
