/**
 * Canary keys through every path a key can take, against the whole app (storage, the
 * request writer, the live inspector, the admin API, exports) serving a provider fake that
 * echoes every key it receives back in its error messages:
 *   provider keys from the environment, from the OS keychain (written by the app, and by
 *   "another process"), from the x-provider-api-key header (good and bad), a key with no
 *   recognisable shape, for OpenAI-compatible, Anthropic and Gemini adapters, JSON,
 *   streams, mid-stream errors, embeddings and model lists; gateway keys from the
 *   database, from SWITCHYARD_API_KEY, wrong ones, in Authorization and x-api-key.
 * Then every file under the data folder (database, WAL, settings, exports), everything
 * written to stdout/stderr, every event, every response body and header, the admin API's
 * answers, `switchyard export` output and `switchyard keys list` output are searched:
 * no canary may appear anywhere.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '../../src/main/cli-key-commands.js';
import { startGateway, type RunningGateway } from '../../src/main/headless.js';
import { KeychainProviderKeyManager, openProviderKeyStore, type ProviderKeyStore } from '../../src/main/secrets/keychain.js';
import { createApplication } from '../../src/main/services/application.js';
import { databasePath, openDatabase, openReadOnlyDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { exportRequests } from '../../src/main/storage/export.js';
import { SqliteGatewayKeyManager } from '../../src/main/storage/gateway-keys.js';
import { keychainUnderTest, type KeychainUnderTest } from '../secrets/keychain-under-test.js';
import { probe } from './http-probe.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from './key-checking-upstream.js';

/** A canary: a recognisable key whose random core must never be seen outside the request to the provider. */
function canary(prefix: string, label: string): { value: string; core: string } {
  const random = randomBytes(12).toString('hex'); // 24 hex characters; masks show the last 4 at most
  return { value: `${prefix}CANARY${label}${random}`, core: random.slice(0, 18) };
}

const CANARIES = {
  environment: canary('sk-', 'ENV'),
  geminiEnvironment: canary('AIza', 'GEMENV'),
  keychainByApp: canary('xai-', 'KEYCHAINAPP'),
  keychainByOtherProcess: canary('sk-ant-', 'KEYCHAINCLI'),
  byok: canary('sk-', 'BYOK'),
  byokRefused: canary('sk-', 'BYOKBAD'),
  byokGemini: canary('AIza', 'BYOKGEM'),
  shapeless: canary('', 'shapeless'), // no known key shape: only the literal match can catch it
  adminSetKey: canary('gsk_', 'ADMIN'),
  environmentGatewayKey: canary('', 'ENVGATEWAY'),
  wrongGatewayKey: canary('sy-', 'WRONG'),
};
let gatewayKey: { value: string; core: string };

const ADMIN_TOKEN = `admin-${randomBytes(24).toString('hex')}`;

let keychain: KeychainUnderTest;
let store: ProviderKeyStore;
let upstream: KeyCheckingUpstream;
let dataDir: string;
let keyDatabase: SqliteDatabase;
let gatewayKeys: SqliteGatewayKeyManager;
let gateway: RunningGateway;
let origin: string;

/** Everything observable from outside the provider, gathered for the search. */
const observed: Array<{ where: string; text: string }> = [];
const captured = { stdout: '', stderr: '' };
const restore: Array<() => void> = [];

function capture(stream: NodeJS.WriteStream, into: 'stdout' | 'stderr'): void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured[into] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  restore.push(() => {
    stream.write = original;
  });
}

async function call(where: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(`${origin}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  observed.push({ where: `${where}: body`, text });
  observed.push({ where: `${where}: headers`, text: JSON.stringify([...response.headers]) });
  return { status: response.status, text };
}

const chat = (model: string, content: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content }] });
const auth = () => ({ authorization: `Bearer ${gatewayKey.value}` });

async function admin(operation: string, input?: unknown): Promise<any> {
  const response = await call(`admin ${operation}`, `/admin/api/${operation}`, { method: 'POST', headers: { 'x-switchyard-admin-token': ADMIN_TOKEN }, body: input ?? {} });
  expect(response.status, `${operation}: ${response.text}`).toBe(200);
  return JSON.parse(response.text);
}

function filesUnder(directory: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) files.push(...filesUnder(path));
    else files.push(path);
  }
  return files;
}

function leaks(text: string | Buffer): string[] {
  const haystack = typeof text === 'string' ? text : text.toString('latin1');
  const found: string[] = [];
  for (const [name, { value, core }] of Object.entries({ ...CANARIES, gatewayKey })) {
    if (haystack.includes(value) || haystack.includes(core)) found.push(name);
  }
  return found;
}

/** Every leak found, as "where: which canaries", so one failing run reports all of them. */
const problems: string[] = [];

function check(where: string, text: string | Buffer): void {
  const found = leaks(text);
  if (found.length > 0) problems.push(`${where}: ${found.join(', ')}`);
}

function scanDataFolder(when: string): number {
  const files = filesUnder(dataDir);
  expect(files.some((file) => file.endsWith('switchyard.db'))).toBe(true);
  for (const file of files) check(`${when}: ${file}`, readFileSync(file));
  return files.length;
}

beforeAll(async () => {
  capture(process.stdout, 'stdout');
  capture(process.stderr, 'stderr');
  keychain = await keychainUnderTest();
  upstream = await startKeyCheckingUpstream({
    accepted: [CANARIES.environment.value, CANARIES.keychainByApp.value, CANARIES.byok.value, CANARIES.shapeless.value],
    chunks: 4,
    chunkDelayMs: 2,
  });
  // "Another process" (switchyard keys set) stored the Anthropic key before the app started.
  await keychain.keytar.setPassword(keychain.service, 'anthropic', CANARIES.keychainByOtherProcess.value);
  store = keychain.real
    ? await openProviderKeyStore({ service: keychain.service, refreshIntervalMs: 200 })
    : await KeychainProviderKeyManager.open(keychain.keytar, { service: keychain.service, refreshIntervalMs: 200 });
  await store.set('xai', CANARIES.keychainByApp.value);

  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-canary-'));
  keyDatabase = openDatabase(dataDir);
  gatewayKeys = new SqliteGatewayKeyManager(keyDatabase, { refreshIntervalMs: 200, flushIntervalMs: 200 });
  const created = await gatewayKeys.create({ name: 'canary', tags: [{ key: 'tool', value: 'canary-test' }] });
  gatewayKey = { value: created.key, core: created.key.slice(3, 21) };

  const environment: NodeJS.ProcessEnv = {
    OPENAI_BASE_URL: `${upstream.origin}/v1`,
    XAI_BASE_URL: `${upstream.origin}/v1`,
    ANTHROPIC_BASE_URL: upstream.origin,
    GEMINI_BASE_URL: upstream.origin,
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
    OPENAI_API_KEY: CANARIES.environment.value,
    GEMINI_API_KEY: CANARIES.geminiEnvironment.value,
    ACME_API_KEY: CANARIES.shapeless.value,
    SWITCHYARD_API_KEY: CANARIES.environmentGatewayKey.value,
  };
  const application = createApplication({
    dataDirectory: dataDir,
    mode: 'headless',
    // Failing upstreams are the point here: no retries, and no circuit may open between the calls.
    configFile: { retries: { maxRetries: 0 }, circuitBreaker: { failureThreshold: 1_000_000, minimumRequests: 1_000_000 }, providers: { acme: { baseUrl: `${upstream.origin}/v1`, apiKeyEnv: 'ACME_API_KEY', models: ['acme-model'] }, groq: { baseUrl: `${upstream.origin}/v1`, apiKeyEnv: 'GROQ_API_KEY' } } },
    overrides: { host: '127.0.0.1', port: 0 },
    environment,
    providerKeys: store,
    gatewayKeys,
  });
  application.events.subscribe((name, payload) => observed.push({ where: `event ${name}`, text: JSON.stringify(payload) }));
  gateway = await startGateway({ dataDir, application, admin: { token: ADMIN_TOKEN, rendererDir: null } });
  origin = gateway.origin;
}, 30_000);

afterAll(async () => {
  for (const undo of restore) undo();
  store?.close();
  await keychain?.cleanup();
  await upstream?.close();
});

describe('a canary key through every path', () => {
  it('drives every kind of request through the gateway', async () => {
    const expectations: Array<[string, Promise<{ status: number; text: string }>, number]> = [
      // Environment key, OpenAI-compatible: JSON, stream, an echoed error, a mid-stream echoed error.
      ['env json', call('env json', '/v1/chat/completions', { headers: auth(), body: chat('gpt-4o-mini', 'hello') }), 200],
      ['env stream', call('env stream', '/v1/chat/completions', { headers: auth(), body: chat('gpt-4o-mini', 'hello', true) }), 200],
      ['env echo', call('env echo', '/v1/chat/completions', { headers: auth(), body: chat('gpt-4o-mini', '[echo-error]') }), 500],
      ['env midstream', call('env midstream', '/v1/chat/completions', { headers: auth(), body: chat('gpt-4o-mini', '[midstream-error]', true) }), 200],
      // Keychain key written by the app (xAI).
      ['keychain json', call('keychain json', '/v1/chat/completions', { headers: auth(), body: chat('grok-3-mini', 'hello') }), 200],
      ['keychain echo', call('keychain echo', '/v1/chat/completions', { headers: auth(), body: chat('grok-3-mini', '[echo-error]') }), 500],
      ['keychain midstream', call('keychain midstream', '/v1/chat/completions', { headers: auth(), body: chat('grok-3-mini', '[midstream-error]', true) }), 200],
      // Keychain key written by another process (Anthropic: the fake refuses it, echoing it).
      ['anthropic', call('anthropic', '/v1/chat/completions', { headers: auth(), body: chat('claude-sonnet-4-5', 'hello') }), 401],
      ['anthropic stream', call('anthropic stream', '/v1/chat/completions', { headers: auth(), body: chat('claude-sonnet-4-5', 'hello', true) }), 401],
      // Gemini from the environment, and brought by the request: refused with the key echoed.
      ['gemini env', call('gemini env', '/v1/chat/completions', { headers: auth(), body: chat('gemini-2.5-flash', 'hello') }), 401],
      ['gemini byok', call('gemini byok', '/v1/chat/completions', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byokGemini.value }, body: chat('gemini-2.5-flash', 'hi', true) }), 401],
      // Bring-your-own-key: good (JSON, echoed error, mid-stream), refused, embeddings.
      ['byok json', call('byok json', '/v1/chat/completions', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byok.value }, body: chat('gpt-4o-mini', 'hello') }), 200],
      ['byok echo', call('byok echo', '/v1/chat/completions', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byok.value }, body: chat('gpt-4o-mini', '[echo-error]') }), 500],
      ['byok midstream', call('byok midstream', '/v1/chat/completions', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byok.value }, body: chat('gpt-4o-mini', '[midstream-error]', true) }), 200],
      ['byok refused', call('byok refused', '/v1/chat/completions', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byokRefused.value }, body: chat('gpt-4o-mini', 'hello') }), 401],
      ['byok refused stream', call('byok refused stream', '/v1/chat/completions', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byokRefused.value }, body: chat('gpt-4o-mini', 'hello', true) }), 401],
      ['byok embeddings', call('byok embeddings', '/v1/embeddings', { headers: { ...auth(), 'x-provider-api-key': CANARIES.byok.value }, body: { model: 'text-embedding-3-small', input: '[echo-error]' } }), 500],
      // A key with no recognisable shape (custom provider from the config file).
      ['shapeless', call('shapeless', '/v1/chat/completions', { headers: auth(), body: chat('acme/acme-model', '[echo-error]') }), 500],
      ['shapeless midstream', call('shapeless midstream', '/v1/chat/completions', { headers: auth(), body: chat('acme/acme-model', '[midstream-error]', true) }), 200],
      // Gateway keys: SWITCHYARD_API_KEY, x-api-key, a wrong one, and keys in a query string.
      ['env gateway key', call('env gateway key', '/v1/chat/completions', { headers: { authorization: `Bearer ${CANARIES.environmentGatewayKey.value}` }, body: chat('gpt-4o-mini', 'hi') }), 200],
      ['x-api-key', call('x-api-key', '/v1/chat/completions', { headers: { 'x-api-key': gatewayKey.value }, body: chat('gpt-4o-mini', 'hi') }), 200],
      ['wrong gateway key', call('wrong gateway key', '/v1/chat/completions', { headers: { authorization: `Bearer ${CANARIES.wrongGatewayKey.value}` }, body: chat('gpt-4o-mini', 'hi') }), 401],
      ['query key', call('query key', `/v1/chat/completions?key=${CANARIES.byok.value}&api_key=${CANARIES.environment.value}`, { headers: auth(), body: chat('gpt-4o-mini', 'hi') }), 200],
      ['models', call('models', '/v1/models', { headers: auth() }), 200],
    ];
    for (const [name, pending, status] of expectations) {
      const response = await pending;
      expect(response.status, `${name}: ${response.text.slice(0, 300)}`).toBe(status);
    }
    // The echoing fake really did receive every canary (so the search below means something).
    const received = new Set(upstream.received.map((entry) => entry.key));
    for (const name of ['environment', 'geminiEnvironment', 'keychainByApp', 'keychainByOtherProcess', 'byok', 'byokRefused', 'byokGemini', 'shapeless'] as const) {
      expect(received.has(CANARIES[name].value), name).toBe(true);
    }

    // Refusals before a route runs (Host, Origin) are logged too: with keys in their headers.
    const refusedHost = await probe(origin, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { host: 'evil.example', ...auth(), 'x-provider-api-key': CANARIES.byok.value, 'content-type': 'application/json' },
      body: JSON.stringify(chat('gpt-4o-mini', 'hi')),
    });
    expect(refusedHost.status).toBe(403);
    observed.push({ where: 'refused host', text: refusedHost.text + JSON.stringify(refusedHost.headers) });
    const badJson = await probe(origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...auth(), 'content-type': 'application/json' }, body: `{"api_key": "${CANARIES.byok.value}", oops` });
    expect(badJson.status).toBe(400);
    observed.push({ where: 'bad json', text: badJson.text });
  });

  it('uses the admin API (the UI) the way a user would', async () => {
    const providers = await admin('providers.list');
    expect(providers.find((provider: { id: string }) => provider.id === 'xai')).toMatchObject({ keyState: 'keychain', maskedKey: expect.stringMatching(/^xai-…/) });
    expect(providers.find((provider: { id: string }) => provider.id === 'anthropic')).toMatchObject({ keyState: 'keychain' });
    await admin('providers.set-key', { provider: 'groq', key: CANARIES.adminSetKey.value });
    expect(store.get('groq')).toBe(CANARIES.adminSetKey.value);
    await admin('providers.test', { provider: 'anthropic' });
    await admin('providers.test', { provider: 'xai' });
    await admin('gateway-keys.list');
    const requests = await admin('requests.list', { limit: 1000 });
    for (const item of requests.items as Array<{ id: string }>) await admin('requests.get', { id: item.id });
    const exported = [await admin('data.export', { format: 'jsonl' }), await admin('data.export', { format: 'csv' })];
    for (const result of exported) observed.push({ where: `export file ${result.path}`, text: readFileSync(result.path, 'utf8') });
    await admin('providers.delete-key', { provider: 'groq' });
  });

  it('finds the canaries in no file, log, event, response or export', async () => {
    // Wait for the request writer to have stored every request.
    const reader = openReadOnlyDatabase(databasePath(dataDir));
    const started = Date.now();
    while ((reader.prepare('SELECT count(*) FROM requests').pluck().get() as number) < 24 && Date.now() - started < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reader.prepare('SELECT count(*) FROM requests').pluck().get()).toBeGreaterThanOrEqual(24);
    // Tags of the gateway key were applied, and its last use recorded.
    expect(reader.prepare("SELECT count(*) FROM request_tags WHERE key = 'tool' AND value = 'canary-test'").pluck().get()).toBeGreaterThan(10);
    // `switchyard export`, both formats.
    for (const format of ['jsonl', 'csv'] as const) {
      let text = '';
      await exportRequests(reader, { format }, new Writable({ write: (chunk, _encoding, done) => ((text += chunk.toString()), done()) }));
      expect(text.length).toBeGreaterThan(100);
      observed.push({ where: `export ${format}`, text });
    }
    const errorMessages = reader.prepare('SELECT error_message FROM requests WHERE error_message IS NOT NULL').pluck().all() as string[];
    reader.close();

    // `switchyard keys list`.
    let listing = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((listing += chunk.toString()), done()) });
    const code = await runKeys(['list'], { stdin: Readable.from([]) as never, stdout: sink, stderr: sink, environment: { OPENAI_API_KEY: CANARIES.environment.value }, openKeyStore: async () => store });
    expect(code).toBe(0);
    expect(listing).toMatch(/xai\s+keychain\s+xai-…/);
    observed.push({ where: 'keys list', text: listing });

    // While the app runs (WAL and all) …
    await new Promise((resolve) => setTimeout(resolve, 300)); // a last-used flush
    const runningFiles = scanDataFolder('running');
    // … and after it closed.
    await gateway.close();
    await gateway.application.close();
    gatewayKeys.close();
    keyDatabase.close();
    scanDataFolder('closed');

    for (const { where, text } of observed) check(where, text);
    check('stdout', captured.stdout);
    check('stderr', captured.stderr);
    expect(problems).toEqual([]);
    // The search had something to search: files (db, WAL, settings, exports), answers, events.
    expect(runningFiles).toBeGreaterThanOrEqual(4);
    expect(observed.length).toBeGreaterThan(60);
    // Errors still say what went wrong, with the key masked.
    expect(errorMessages.some((message) => /Incorrect API key provided: sk-…[0-9a-f]{4}\./.test(message))).toBe(true);
  });
});
