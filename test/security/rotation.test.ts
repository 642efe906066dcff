/**
 * Key rotation under load: concurrent streaming and JSON requests run through a real
 * gateway while the provider key changes twice, first in the keychain by another process
 * (`switchyard keys set`, a real child process when a real keychain runs), then through
 * the app (what the UI's "set key" does). The provider fake rotates like real providers:
 * the new key starts working before the switch, the old one is revoked after an overlap
 * window. Not one request may fail.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticKeyAuth } from '../../src/main/gateway/access.js';
import { loadConfig } from '../../src/main/gateway/config.js';
import { buildGateway } from '../../src/main/gateway/server.js';
import { KeychainProviderKeyManager, openProviderKeyStore, type ProviderKeyStore } from '../../src/main/secrets/keychain.js';
import { EnvironmentSecretStore, LayeredSecretStore } from '../../src/main/secrets/secret-store.js';
import { keychainUnderTest, type KeychainUnderTest } from '../secrets/keychain-under-test.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from './key-checking-upstream.js';

const root = join(import.meta.dirname, '..', '..');
const GATEWAY_KEY = 'sy-rotation-test-gateway-key-000000000';
const KEY_A = 'sk-rotation-key-A-00000000000000000001';
const KEY_B = 'sk-rotation-key-B-00000000000000000002';
const KEY_C = 'sk-rotation-key-C-00000000000000000003';
const REFRESH_MS = 100;
/** Longer than the longest request here (a stream of 8 chunks 15 ms apart), as a provider's overlap is longer than its requests. */
const OVERLAP_MS = 500;

let keychain: KeychainUnderTest;
let store: ProviderKeyStore;
let upstream: KeyCheckingUpstream;
let app: FastifyInstance;
let origin: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** `switchyard keys set openai` in another process, the key on its stdin. */
function setKeyInAnotherProcess(key: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'main', 'cli.ts'), 'keys', 'set', 'openai'], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_KEYCHAIN_SERVICE: keychain.service },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  child.stdin.end(key);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

beforeAll(async () => {
  keychain = await keychainUnderTest();
  await keychain.keytar.setPassword(keychain.service, 'openai', KEY_A);
  store = keychain.real
    ? await openProviderKeyStore({ service: keychain.service, refreshIntervalMs: REFRESH_MS })
    : await KeychainProviderKeyManager.open(keychain.keytar, { service: keychain.service, refreshIntervalMs: REFRESH_MS });
  upstream = await startKeyCheckingUpstream({ accepted: [KEY_A], chunks: 8, chunkDelayMs: 15 });
  const environment = { OPENAI_BASE_URL: `${upstream.origin}/v1`, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' };
  const config = loadConfig({ environment, overrides: { host: '127.0.0.1', port: 0 } });
  app = buildGateway({
    config,
    auth: new StaticKeyAuth([{ key: GATEWAY_KEY, identity: { id: 'load', name: 'load', tags: [], allowedModels: null } }]),
    secrets: new LayeredSecretStore([store, new EnvironmentSecretStore(config.providers, environment)]),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
  store?.close();
  await upstream?.close();
  await keychain?.cleanup();
});

describe('provider key rotation under load', () => {
  it('changes the key twice while streams and JSON requests run, failing none', async () => {
    let running = true;
    let completed = 0;
    let streams = 0;
    const failures: string[] = [];

    /** When the client sent each request, by the text the upstream fake records. */
    const sentAt = new Map<string, number>();
    const one = async (stream: boolean): Promise<void> => {
      const probe = `rotate-${sentAt.size + 1}`;
      sentAt.set(probe, Date.now());
      const response = await fetch(`${origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: probe }] }),
      });
      const text = await response.text();
      if (response.status !== 200) failures.push(`${stream ? 'stream' : 'json'} ${response.status}: ${text.slice(0, 200)}`);
      else if (stream && (!text.includes('data: [DONE]') || text.includes('"error"'))) failures.push(`stream cut: ${text.slice(-200)}`);
      else if (!stream && JSON.parse(text).choices?.[0]?.message?.content !== 'ok ok ok ok ok ok ok ok') failures.push(`json: ${text.slice(0, 200)}`);
      completed += 1;
      if (stream) streams += 1;
    };
    const worker = async (index: number): Promise<void> => {
      let turn = index;
      while (running) {
        await one(turn % 2 === 0);
        turn += 1;
      }
    };
    const workers = Array.from({ length: 24 }, (_, index) => worker(index));
    /** Lets the load run for a while and for at least `requests` more answers, however busy the machine (counts, not rates). */
    const keepRunning = async (ms: number, requests = 50): Promise<void> => {
      const from = completed;
      await sleep(ms);
      await until(() => completed - from >= requests, 20_000);
    };

    await keepRunning(300);
    // 1. Another process rotates A → B in the keychain. The provider accepts both meanwhile.
    upstream.accept([KEY_A, KEY_B]);
    if (keychain.real) {
      const result = await setKeyInAnotherProcess(KEY_B);
      expect(result.code, result.output).toBe(0);
    } else {
      // No OS keychain here: "another process" writes to the stand-in the store reads from.
      expect(keychain.reason).toMatch(/no OS keychain/);
      await keychain.keytar.setPassword(keychain.service, 'openai', KEY_B);
    }
    await until(() => store.get('openai') === KEY_B);
    const switchedToB = Date.now();
    await sleep(OVERLAP_MS);
    upstream.accept([KEY_B]); // A revoked
    await keepRunning(300);

    // 2. The app rotates B → C (the UI's "set key").
    upstream.accept([KEY_B, KEY_C]);
    await store.set('openai', KEY_C);
    expect(store.get('openai')).toBe(KEY_C);
    const switchedToC = Date.now();
    await sleep(OVERLAP_MS);
    upstream.accept([KEY_C]); // B revoked
    await keepRunning(300);

    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(upstream.refused).toBe(0);
    expect(completed).toBeGreaterThan(100);
    expect(streams).toBeGreaterThan(50);
    const used = (key: string) => upstream.received.filter((entry) => entry.key === key);
    expect(used(KEY_A).length).toBeGreaterThan(0);
    expect(used(KEY_B).length).toBeGreaterThan(0);
    expect(used(KEY_C).length).toBeGreaterThan(0);
    // Once a new key is in, no request the client sends afterwards gets the old one
    // (requests sent before finish with the key they started with). Judged by when the
    // client sent the request, not when it reached the upstream: on a busy machine a
    // request that read its key before the switch may reach the upstream well after it.
    const sentAfter = (entry: { text: string }, moment: number) => (sentAt.get(entry.text) ?? 0) > moment;
    expect(used(KEY_A).filter((entry) => sentAfter(entry, switchedToB)).length).toBe(0);
    expect(used(KEY_B).filter((entry) => sentAfter(entry, switchedToC)).length).toBe(0);
  }, 90_000);
});
