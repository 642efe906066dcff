/**
 * Keys count at once, with real processes: `switchyard serve` runs as a child process
 * under light load (a few requests in a loop), and the CLI, as other child processes,
 * creates a gateway key, revokes it, and rotates and deletes a provider key in the OS
 * keychain. The very next request after each command sees the change: the new gateway key
 * works (200, not 401), the revoked one is refused, the upstream receives the new provider
 * key. No request the client starts after the command returned sees the old state. The
 * time to effect is printed (relative to the moment the command returned: negative means
 * the change was in effect before the command had even exited).
 *
 * Provider keys need the real keychain shared between processes (scripts/test-with-keyring.sh);
 * without one, those tests are skipped and say why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceProviderKeysChanged } from '../../src/main/secrets/key-change-notices.js';
import { openDatabase } from '../../src/main/storage/database.js';
import { SqliteGatewayKeyManager } from '../../src/main/storage/gateway-keys.js';
import { runCli, startServe, type ServeProcess } from '../end-to-end/serve-process.js';
import { keychainUnderTest, type KeychainUnderTest } from '../secrets/keychain-under-test.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from './key-checking-upstream.js';

const LOAD_KEY = 'sy-keys-take-effect-load-key-0000000000';
const KEY_A = 'sk-take-effect-provider-A-000000000001';
const KEY_B = 'sk-take-effect-provider-B-000000000002';
const KEY_ENV = 'sk-take-effect-environment-00000000003';
const KEY_BYOK = 'sk-take-effect-byok-0000000000000000004';
const WORKERS = 4;

let keychain: KeychainUnderTest;
let upstream: KeyCheckingUpstream;
let serve: ServeProcess;
let dataDir: string;
let environment: NodeJS.ProcessEnv;
const report: string[] = [];

interface Sample {
  probe: string;
  /** performance.now() when the client sent it. */
  startedAt: number;
  status: number;
}

let counter = 0;

async function chat(key: string, extraHeaders: Record<string, string> = {}): Promise<Sample> {
  const probe = `probe-${++counter}`;
  const startedAt = performance.now();
  const response = await fetch(`${serve.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extraHeaders },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: probe }] }),
  });
  await response.arrayBuffer();
  return { probe, startedAt, status: response.status };
}

/** The provider key the upstream received for a probe. */
function upstreamKeyOf(probe: string): string | null | undefined {
  return upstream.received.find((entry) => entry.text === probe)?.key;
}

/** Runs `workers` request loops with the key `keyOf()` returns until stop() is called. */
function load(keyOf: () => string): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loops = Array.from({ length: WORKERS }, async () => {
    while (running) samples.push(await chat(keyOf()));
  });
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Runs the CLI and returns when the process exited, with that moment on performance.now()'s clock. */
async function cli(args: string[], stdin?: string): Promise<{ stdout: string; stderr: string; code: number | null; exitedAt: number; tookMs: number }> {
  const started = performance.now();
  const result = stdin === undefined ? await runCli(args, environment) : await runCliWithStdin(args, stdin);
  const exitedAt = performance.now();
  return { ...result, exitedAt, tookMs: exitedAt - started };
}

async function runCliWithStdin(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const root = join(import.meta.dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main', 'cli.ts'), ...args], { cwd: root, env: { ...process.env, ...environment }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/**
 * When the change took effect for the load, relative to the command's exit: the start of
 * the last request that still saw the old state (or of the first that saw the new one).
 */
function effect(samples: Sample[], sawNew: (sample: Sample) => boolean, exitedAt: number): { staleAfterExit: number; lastOldMs: number | null; firstNewMs: number | null; total: number } {
  const sorted = [...samples].sort((left, right) => left.startedAt - right.startedAt);
  const old = sorted.filter((sample) => !sawNew(sample));
  const fresh = sorted.filter(sawNew);
  return {
    staleAfterExit: old.filter((sample) => sample.startedAt > exitedAt).length,
    lastOldMs: old.length > 0 ? old.at(-1)!.startedAt - exitedAt : null,
    firstNewMs: fresh.length > 0 ? fresh[0]!.startedAt - exitedAt : null,
    total: samples.length,
  };
}

function describeEffect(name: string, reference: string, result: ReturnType<typeof effect>): string {
  const ms = (value: number | null) => (value === null ? 'none' : `${value >= 0 ? '+' : ''}${value.toFixed(1)} ms`);
  return `${name}: relative to ${reference}, the last request seeing the old state started ${ms(result.lastOldMs)}, the first seeing the new ${ms(result.firstNewMs)}; started after it and still seeing the old state: ${result.staleAfterExit} of ${result.total} requests (${WORKERS} concurrent loops)`;
}

beforeAll(async () => {
  keychain = await keychainUnderTest();
  if (keychain.real) await keychain.keytar.setPassword(keychain.service, 'openai', KEY_A);
  upstream = await startKeyCheckingUpstream({ accepted: [KEY_A, KEY_B, KEY_ENV, KEY_BYOK], chunks: 2, chunkDelayMs: 0 });
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-take-effect-'));
  // A short private runtime folder for the notices (a Unix socket path is limited to ~104 bytes).
  const runtime = mkdtempSync(join(tmpdir(), 'sy-te-'));
  environment = {
    OPENAI_BASE_URL: `${upstream.origin}/v1`,
    OPENAI_API_KEY: KEY_ENV,
    SWITCHYARD_API_KEY: LOAD_KEY,
    SWITCHYARD_RUNTIME_DIR: join(runtime, 'run'),
    ...(keychain.real ? { SWITCHYARD_KEYCHAIN_SERVICE: keychain.service } : { SWITCHYARD_KEYCHAIN: 'off' }),
  };
  serve = await startServe(['--data-dir', dataDir], environment);
}, 60_000);

afterAll(async () => {
  if (serve) {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  await upstream?.close();
  await keychain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (report.length > 0) console.log(`time to effect under light load:\n  ${report.join('\n  ')}`);
});

describe('keys count from the very next request (real serve and CLI processes)', () => {
  it('a gateway key created by the CLI works at once; revoked, it is refused at once', async () => {
    const before = await chat(LOAD_KEY);
    expect(before.status).toBe(200);
    const running = load(() => LOAD_KEY);

    // Create: the key is printed on stdout; the very next request with it is accepted.
    const created = await cli(['gateway-keys', 'create', '--name', 'take-effect', '--data-dir', dataDir]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sy-/);
    const first = await chat(key);
    expect(first.status).toBe(200);
    report.push(`gateway key create (CLI): the command took ${created.tookMs.toFixed(0)} ms; the first request with the new key (started ${(first.startedAt - created.exitedAt).toFixed(1)} ms after the command's exit) got ${first.status}`);

    // Revoke while loops use that key: nothing started after the command returned gets in.
    await running.stop();
    const withKey = load(() => key);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const revoked = await cli(['gateway-keys', 'revoke', key.slice(0, 9), '--data-dir', dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/refuses it from its next request/);
    const next = await chat(key);
    expect(next.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await withKey.stop();
    const result = effect(withKey.samples, (sample) => sample.status === 401, revoked.exitedAt);
    report.push(describeEffect('gateway key revoke (CLI)', `the command's exit (it took ${revoked.tookMs.toFixed(0)} ms)`, result));
    expect(withKey.samples.filter((sample) => sample.status !== 200 && sample.status !== 401)).toEqual([]);
    expect(result.staleAfterExit).toBe(0);
    expect(result.lastOldMs).not.toBeNull(); // the key did work before
    expect(result.lastOldMs!).toBeLessThan(0);
    // The other keys are untouched.
    expect((await chat(LOAD_KEY)).status).toBe(200);
  }, 60_000);

  it('a provider key rotated with `keys set` is carried by the very next upstream request', async (context) => {
    if (!keychain.real) {
      console.log(`skipped: no OS keychain shared between processes (${keychain.reason}); run under scripts/test-with-keyring.sh`);
      context.skip();
    }
    const before = await chat(LOAD_KEY);
    expect(upstreamKeyOf(before.probe)).toBe(KEY_A);

    const running = load(() => LOAD_KEY);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const set = await cli(['keys', 'set', 'openai'], KEY_B);
    expect(set.code, set.stdout + set.stderr).toBe(0);
    expect(set.stdout).toMatch(/stored the OpenAI key \(sk-…0002\) in the OS keychain/);
    expect(set.stdout).toMatch(new RegExp(`the running gateway \\(pid ${serve.child.pid}\\) uses it from its next request`));
    expect(set.stdout + set.stderr).not.toContain(KEY_B);
    const next = await chat(LOAD_KEY);
    expect(next.status).toBe(200);
    expect(upstreamKeyOf(next.probe)).toBe(KEY_B);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await running.stop();
    expect(running.samples.filter((sample) => sample.status !== 200)).toEqual([]);
    const result = effect(running.samples, (sample) => upstreamKeyOf(sample.probe) === KEY_B, set.exitedAt);
    report.push(describeEffect('provider key rotate (CLI keys set)', `the command's exit (it took ${set.tookMs.toFixed(0)} ms)`, result));
    expect(result.staleAfterExit).toBe(0);

    // A key sent with the request still wins; the environment key is what is left after a delete.
    const byok = await chat(LOAD_KEY, { 'x-provider-api-key': KEY_BYOK });
    expect(upstreamKeyOf(byok.probe)).toBe(KEY_BYOK);
    const again = load(() => LOAD_KEY);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const deleted = await cli(['keys', 'delete', 'openai']);
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0);
    expect(deleted.stdout).toMatch(/stops using it from its next request/);
    const afterDelete = await chat(LOAD_KEY);
    expect(upstreamKeyOf(afterDelete.probe)).toBe(KEY_ENV);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await again.stop();
    const deleteResult = effect(again.samples, (sample) => upstreamKeyOf(sample.probe) === KEY_ENV, deleted.exitedAt);
    report.push(describeEffect('provider key delete (CLI keys delete → environment key)', `the command's exit (it took ${deleted.tookMs.toFixed(0)} ms)`, deleteResult));
    expect(deleteResult.staleAfterExit).toBe(0);
  }, 60_000);

  it('without a running gateway, keys set says there is nobody to tell', async (context) => {
    if (!keychain.real) context.skip();
    const result = await cli(['keys', 'set', 'openai'], KEY_A);
    expect(result.code).toBe(0);
    // The gateway above still runs: told again. Against another runtime folder, nobody is.
    expect(result.stdout).toMatch(/the running gateway \(pid \d+\) uses it/);
    const elsewhere = mkdtempSync(join(tmpdir(), 'sy-te-none-'));
    const saved = environment.SWITCHYARD_RUNTIME_DIR;
    environment.SWITCHYARD_RUNTIME_DIR = elsewhere;
    try {
      const none = await cli(['keys', 'set', 'openai'], KEY_A);
      expect(none.code).toBe(0);
      expect(none.stdout).toMatch(/no running gateway to tell/);
    } finally {
      environment.SWITCHYARD_RUNTIME_DIR = saved;
    }
  }, 60_000);

  it('measures the time to effect from the write itself (this test process as the other process)', async () => {
    // Gateway keys: this process's own SQLite connection commits, as the CLI's does.
    const database = openDatabase(dataDir);
    const keys = new SqliteGatewayKeyManager(database, { refreshIntervalMs: 0, flushIntervalMs: 0 });
    try {
      const { key, record } = keys.createSync({ name: 'measured' });
      const createdAt = performance.now();
      const first = await chat(key);
      expect(first.status).toBe(200);
      report.push(`gateway key create (another connection): the next request after the commit (${(performance.now() - createdAt).toFixed(1)} ms round trip) got 200`);
      const running = load(() => key);
      await new Promise((resolve) => setTimeout(resolve, 200));
      keys.revokeSync(record.id);
      const revokedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await running.stop();
      const result = effect(running.samples, (sample) => sample.status === 401, revokedAt);
      report.push(describeEffect('gateway key revoke (another connection)', 'the commit', result));
      expect(result.staleAfterExit).toBe(0);
    } finally {
      keys.close();
      database.close();
    }

    if (!keychain.real) return;
    // Provider keys: write to the keychain, then the notice the CLI sends; the gateway has the key when it answers.
    const running = load(() => LOAD_KEY);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await keychain.keytar.setPassword(keychain.service, 'openai', KEY_B);
    const writtenAt = performance.now();
    const outcomes = await announceProviderKeysChanged({ service: keychain.service, environment });
    const confirmedAt = performance.now();
    expect(outcomes).toEqual([{ pid: serve.child.pid, confirmed: true }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await running.stop();
    const result = effect(running.samples, (sample) => upstreamKeyOf(sample.probe) === KEY_B, confirmedAt);
    report.push(
      `provider key rotate (keychain write + notice): the gateway confirmed its re-read ${(confirmedAt - writtenAt).toFixed(1)} ms after the write; ` +
        `stale after the confirmation: ${result.staleAfterExit} of ${result.total} requests; first request with the new key started ${((result.firstNewMs ?? 0) + confirmedAt - writtenAt).toFixed(1)} ms after the write`,
    );
    expect(result.staleAfterExit).toBe(0);
  }, 60_000);
});
