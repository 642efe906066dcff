/**
 * Probes as an attacker on the same machine (or a web page in the user's browser) would
 * try them, against a real gateway on 127.0.0.1 with SQLite gateway keys and a keychain
 * store: DNS-rebinding Host headers, page Origins, missing/wrong/revoked/expired keys,
 * oversized bodies and headers, models a key may not use. Plus what a key carries:
 * default tags, and bring-your-own-key used for one request only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { buildGateway, clientErrorHandler, MAX_HEADER_BYTES } from '../../src/main/gateway/server.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';
import { KeychainProviderKeyManager } from '../../src/main/secrets/keychain.js';
import { EnvironmentSecretStore, LayeredSecretStore } from '../../src/main/secrets/secret-store.js';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { SqliteGatewayKeyManager } from '../../src/main/storage/gateway-keys.js';
import { MemoryKeytar } from '../secrets/keychain-under-test.js';
import { probe, rawProbe } from './http-probe.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from './key-checking-upstream.js';

const ENV_KEY = 'sk-probe-environment-key-000000000001';
const KEYCHAIN_KEY = 'sk-probe-keychain-key-0000000000002';
const BYOK_KEY = 'sk-probe-bring-your-own-key-00000003';

let upstream: KeyCheckingUpstream;
let app: FastifyInstance;
let origin: string;
let port: number;
let database: SqliteDatabase;
let gatewayKeys: SqliteGatewayKeyManager;
let cliKeys: SqliteGatewayKeyManager;
let cliDatabase: SqliteDatabase;
let keychain: KeychainProviderKeyManager;
let key: string;
const records: RequestRecord[] = [];

const chat = (model = 'gpt-4o-mini') => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function post(headers: Record<string, string | string[]>, body = chat(), host?: string) {
  return probe(origin, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', ...(host ? { host } : {}), ...headers }, body });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  upstream = await startKeyCheckingUpstream({ accepted: [ENV_KEY, KEYCHAIN_KEY, BYOK_KEY] });
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-probes-'));
  database = openDatabase(directory);
  gatewayKeys = new SqliteGatewayKeyManager(database, { refreshIntervalMs: 50, flushIntervalMs: 50 });
  // Another connection to the same file: `switchyard gateway-keys` in another process.
  cliDatabase = openDatabase(directory);
  cliKeys = new SqliteGatewayKeyManager(cliDatabase, { refreshIntervalMs: 0, flushIntervalMs: 0 });
  keychain = await KeychainProviderKeyManager.open(new MemoryKeytar(), { service: 'probe', refreshIntervalMs: 0 });
  const environment: NodeJS.ProcessEnv = {
    OPENAI_BASE_URL: `${upstream.origin}/v1`,
    OPENAI_API_KEY: ENV_KEY,
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
  };
  const config = loadConfig({ environment, file: { bodyLimitBytes: 64 * 1024, allowedOrigins: ['http://localhost:5173'] }, overrides: { host: '127.0.0.1', port: 0 } });
  app = buildGateway({
    config,
    auth: gatewayKeys,
    secrets: new LayeredSecretStore([keychain, new EnvironmentSecretStore(config.providers, environment)]),
    observers: [{ requestFinished: (record) => void records.push(structuredClone(record)) }],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app.close();
  gatewayKeys.close();
  cliKeys.close();
  database.close();
  cliDatabase.close();
  keychain.close();
  await upstream.close();
});

describe('gateway keys', () => {
  it('a gateway with no key refuses everything, saying how to make one', async () => {
    const response = await post(bearer('sy-anything'));
    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe('gateway_key_not_configured');
    key = (await gatewayKeys.create({ name: 'probe' })).key;
    const ok = await post(bearer(key));
    expect(ok.status, ok.text).toBe(200);
  });

  it('no key: 401', async () => {
    const response = await post({});
    expect(response.status).toBe(401);
    expect(response.json.error).toMatchObject({ type: 'invalid_request_error', code: 'missing_api_key' });
  });

  it('a wrong key: 401, and the message does not repeat it', async () => {
    const wrong = `sy-${'Q'.repeat(43)}`;
    const response = await post(bearer(wrong));
    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe('invalid_api_key');
    expect(response.text).not.toContain(wrong);
    expect((await post({ 'x-api-key': key })).status).toBe(200);
  });

  it('a key revoked by another process stops working within seconds', async () => {
    const { key: doomed, record } = cliKeys.createSync({ name: 'doomed' });
    await until(async () => (await post(bearer(doomed))).status === 200);
    cliKeys.revokeSync(record.id);
    await until(async () => (await post(bearer(doomed))).status === 401);
    const response = await post(bearer(doomed));
    expect(response.json.error.code).toBe('invalid_api_key');
  });

  it('an expired key is refused', async () => {
    // Two seconds of life: a busy machine's first request must still fall inside them.
    const { key: shortLived } = await gatewayKeys.create({ name: 'short-lived', expiresAt: Date.now() + 2_000 });
    expect((await post(bearer(shortLived))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const response = await post(bearer(shortLived));
    expect(response.status).toBe(401);
  });

  it('a key limited to some models refuses others with 403', async () => {
    const { key: limited } = await gatewayKeys.create({ name: 'limited', allowedModels: ['gpt-4o-mini'] });
    expect((await post(bearer(limited), chat('gpt-4o-mini'))).status).toBe(200);
    const refused = await post(bearer(limited), chat('gpt-4.1'));
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed', param: 'model' });
    const received = upstream.received.length;
    await post(bearer(limited), chat('openai/gpt-4.1'));
    expect(upstream.received.length).toBe(received); // never reached the provider
  });

  it("applies a key's default tags to every request; a request's own tag of the same name wins", async () => {
    const { key: tagged, record } = await gatewayKeys.create({ name: 'cursor', tags: [{ key: 'tool', value: 'cursor' }, { key: 'team', value: 'web' }] });
    await post(bearer(tagged));
    await post({ ...bearer(tagged), 'x-tags': 'team:platform, feature:review' });
    const mine = records.filter((entry) => entry.gatewayKeyId === record.id);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.tags).toEqual([{ key: 'tool', value: 'cursor' }, { key: 'team', value: 'web' }]);
    expect(mine[1]!.tags).toEqual([{ key: 'tool', value: 'cursor' }, { key: 'team', value: 'platform' }, { key: 'feature', value: 'review' }]);
    // Last use reaches the database in the background.
    await until(() => database.prepare('SELECT last_used_at FROM gateway_keys WHERE id = ?').pluck().get(record.id) !== null);
  });
});

describe('Host header (DNS rebinding)', () => {
  it.each(['evil.com', 'evil.com:4141', '127.0.0.1.evil.com', 'localhost.evil.com:4141', 'localhost.evil.com', '127.0.0.1.nip.io', 'localhost.', '[::ffff:127.0.0.1]', '0.0.0.0'])(
    'refuses Host: %s with 403, even with a valid key, before any provider is called',
    async (host) => {
      const received = upstream.received.length;
      const response = await post(bearer(key), chat(), host);
      expect(response.status).toBe(403);
      expect(response.json.error).toMatchObject({ type: 'permission_error', code: 'host_not_allowed' });
      expect(upstream.received.length).toBe(received);
    },
  );

  it('accepts loopback names', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `switchyard.localhost:${port}`]) {
      expect((await post(bearer(key), chat(), host)).status).toBe(200);
    }
  });

  it('refuses a request without a Host: HTTP/1.1 by Node itself (400), HTTP/1.0 by the Host check (403)', async () => {
    const eleven = await probe(origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...bearer(key), 'content-type': 'application/json' }, body: chat(), setHost: false });
    expect(eleven.status).toBe(400);
    const ten = await rawProbe(origin, `POST /v1/chat/completions HTTP/1.0\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json`, chat());
    expect(ten.status).toBe(403);
    expect(ten.json.error.code).toBe('host_not_allowed');
  });
});

describe('Origin (a web page calling the gateway)', () => {
  it.each(['https://evil.example', 'null', 'http://localhost:3000', 'http://evil.com:4141', 'http://127.0.0.1.evil.com'])('refuses Origin: %s with 403 and no CORS headers', async (pageOrigin) => {
    const response = await post({ ...bearer(key), origin: pageOrigin });
    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe('origin_not_allowed');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await probe(origin, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: pageOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers CORS only for a listed origin, and never by default', async () => {
    const plain = await post(bearer(key));
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await probe(origin, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const listed = await post({ ...bearer(key), origin: 'http://localhost:5173' });
    expect(listed.status).toBe(200);
  });
});

describe('size limits', () => {
  it('an oversized body: 413 in OpenAI shape', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    const response = await post(bearer(key), body);
    expect(response.status).toBe(413);
    expect(response.json.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });

  it('oversized headers: 431 in OpenAI shape', async () => {
    const response = await post({ ...bearer(key), 'x-padding': 'p'.repeat(MAX_HEADER_BYTES + 1024) });
    expect(response.status).toBe(431);
    expect(response.json.error).toMatchObject({ code: 'request_header_fields_too_large' });
  });

  it('too many header fields: 431', async () => {
    const headers: Record<string, string> = { ...bearer(key) };
    for (let index = 0; index < 150; index++) headers[`x-h${index}`] = '1';
    const response = await post(headers);
    expect(response.status).toBe(431);
    expect(response.json.error.code).toBe('request_header_fields_too_large');
    // A request with ordinary headers still works on a new connection.
    expect((await post(bearer(key))).status).toBe(200);
  });

  it("on /v1/messages the parser's own errors are in Anthropic's shape", async () => {
    const messages = (headers: Record<string, string>) =>
      probe(origin, { method: 'POST', path: '/v1/messages?beta=true', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers }, body: '{}' });
    const oversized = await messages({ 'x-padding': 'p'.repeat(MAX_HEADER_BYTES + 1024) });
    expect(oversized.status).toBe(431);
    expect(oversized.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('headers are larger') } });
    const malformed = await rawProbe(origin, 'POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nbad header line');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    // Elsewhere they stay in OpenAI's shape.
    const openai = await rawProbe(origin, 'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nbad header line');
    expect(openai.json.error).toMatchObject({ type: 'invalid_request_error', code: 'bad_request' });
  });

  it('a /v1/messages request whose body never arrives gets a 408 in Anthropic shape', () => {
    // Node raises this after its request timeout (two minutes), with the request's head already parsed.
    let written = '';
    const socket = { destroyed: false, writable: true, write: (text: string) => (written += text), destroy: () => undefined, parser: { incoming: { url: '/v1/messages?beta=true' } } };
    clientErrorHandler(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket as never);
    expect(written.startsWith('HTTP/1.1 408 Request Timeout')).toBe(true);
    expect(JSON.parse(written.slice(written.indexOf('\r\n\r\n') + 4))).toEqual({ type: 'error', error: { type: 'timeout_error', message: 'The request did not arrive in time.' }, request_id: null });
  });
});

describe('where the provider key comes from', () => {
  it('x-provider-api-key for one request only; then the keychain; then the environment', async () => {
    const last = () => upstream.received.at(-1)!.key;
    expect((await post(bearer(key))).status).toBe(200);
    expect(last()).toBe(ENV_KEY);
    expect((await post({ ...bearer(key), 'x-provider-api-key': BYOK_KEY })).status).toBe(200);
    expect(last()).toBe(BYOK_KEY);
    expect((await post(bearer(key))).status).toBe(200);
    expect(last()).toBe(ENV_KEY);
    await keychain.set('openai', KEYCHAIN_KEY);
    expect((await post(bearer(key))).status).toBe(200);
    expect(last()).toBe(KEYCHAIN_KEY);
    expect((await post({ ...bearer(key), 'x-provider-api-key': BYOK_KEY })).status).toBe(200);
    expect(last()).toBe(BYOK_KEY);
    await keychain.delete('openai');
    expect((await post(bearer(key))).status).toBe(200);
    expect(last()).toBe(ENV_KEY);
    // The bring-your-own key is in no record.
    expect(JSON.stringify(records)).not.toContain(BYOK_KEY);
  });
});
