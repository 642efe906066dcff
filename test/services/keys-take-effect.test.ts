/**
 * The desktop app's path: keys changed through the app's services (what the UI calls) are
 * used by the very next request, with no timer involved (the keychain's refresh timer and
 * the gateway key re-read are off here). And the app, like `serve`, hears the CLI's notice
 * about a keychain change made by another process. Environment keys and the per-request
 * `x-provider-api-key` are unaffected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/main/headless.js';
import { announceProviderKeysChanged } from '../../src/main/secrets/key-change-notices.js';
import { KeychainProviderKeyManager } from '../../src/main/secrets/keychain.js';
import { openDatabase } from '../../src/main/storage/database.js';
import { SqliteGatewayKeyManager } from '../../src/main/storage/gateway-keys.js';
import { MemoryKeytar } from '../secrets/keychain-under-test.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from '../security/key-checking-upstream.js';

const KEY_A = 'sk-in-process-A-00000000000000000001';
const KEY_B = 'sk-in-process-B-00000000000000000002';
const KEY_C = 'sk-in-process-C-00000000000000000003';
const KEY_ENV = 'sk-in-process-env-000000000000000004';
const KEY_BYOK = 'sk-in-process-byok-00000000000000005';
const SERVICE = `switchyard-test-in-process-${process.pid}`;

let upstream: KeyCheckingUpstream;
let keytar: MemoryKeytar;
let running: RunningGateway;
let dataDir: string;
let runtimeDir: string;
let gatewayKey: string;
let counter = 0;

async function chat(key: string, headers: Record<string, string> = {}): Promise<{ status: number; upstreamKey: string | null | undefined }> {
  const probe = `in-process-${++counter}`;
  const response = await fetch(`${running.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: probe }] }),
  });
  await response.arrayBuffer();
  return { status: response.status, upstreamKey: upstream.received.find((entry) => entry.text === probe)?.key };
}

beforeAll(async () => {
  upstream = await startKeyCheckingUpstream({ accepted: [KEY_A, KEY_B, KEY_C, KEY_ENV, KEY_BYOK], chunks: 1, chunkDelayMs: 0 });
  keytar = new MemoryKeytar();
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-keys-in-process-'));
  runtimeDir = join(mkdtempSync(join(tmpdir(), 'sy-ip-')), 'run');
  running = await startGateway({
    // The app's keychain store with its timer off: nothing here may depend on polling.
    providerKeys: await KeychainProviderKeyManager.open(keytar, { service: SERVICE, refreshIntervalMs: 0 }),
    dataDir,
    host: '127.0.0.1',
    port: 0,
    environment: {
      OPENAI_BASE_URL: `${upstream.origin}/v1`,
      OPENAI_API_KEY: KEY_ENV,
      OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
      LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
      SWITCHYARD_RUNTIME_DIR: runtimeDir,
    },
  });
  gatewayKey = (await running.application.services['gateway-keys.create']({ name: 'in-process' })).key;
});

afterAll(async () => {
  await running?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('keys changed in the app count from the next request', () => {
  it('provider keys set and deleted through the services', async () => {
    const services = running.application.services;
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_ENV);
    await services['providers.set-key']({ provider: 'openai', key: KEY_A });
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_A);
    await services['providers.set-key']({ provider: 'openai', key: KEY_B });
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_B);
    expect((await chat(gatewayKey, { 'x-provider-api-key': KEY_BYOK })).upstreamKey).toBe(KEY_BYOK);
    await services['providers.delete-key']({ provider: 'openai' });
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_ENV);
  });

  it('a provider key another process wrote, once its notice was answered', async () => {
    const cli = await KeychainProviderKeyManager.open(keytar, { service: SERVICE, refreshIntervalMs: 0 }); // `switchyard keys` in another process
    await cli.set('openai', KEY_C); // a write the app cannot see by itself
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_ENV);
    expect(await announceProviderKeysChanged({ service: SERVICE, environment: { SWITCHYARD_RUNTIME_DIR: runtimeDir } })).toEqual([{ pid: process.pid, confirmed: true }]);
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_C);
    await cli.delete('openai');
    await announceProviderKeysChanged({ service: SERVICE, environment: { SWITCHYARD_RUNTIME_DIR: runtimeDir } });
    expect((await chat(gatewayKey)).upstreamKey).toBe(KEY_ENV);
  });

  it('gateway keys created and revoked through the services, or by another connection', async () => {
    const services = running.application.services;
    const created = await services['gateway-keys.create']({ name: 'from the UI' });
    expect((await chat(created.key)).status).toBe(200);
    await services['gateway-keys.revoke']({ id: created.record.id });
    expect((await chat(created.key)).status).toBe(401);

    const database = openDatabase(dataDir);
    const other = new SqliteGatewayKeyManager(database, { refreshIntervalMs: 0, flushIntervalMs: 0 });
    try {
      const elsewhere = other.createSync({ name: 'from another process' });
      expect((await chat(elsewhere.key)).status).toBe(200);
      other.revokeSync(elsewhere.record.id);
      expect((await chat(elsewhere.key)).status).toBe(401);
      // The app's own list shows what the other connection did.
      const listed = await services['gateway-keys.list']();
      expect(listed.find((record) => record.id === elsewhere.record.id)?.revokedAt).not.toBeNull();
    } finally {
      other.close();
      database.close();
    }
    expect((await chat(gatewayKey)).status).toBe(200);
  });
});
