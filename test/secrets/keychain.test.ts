/**
 * Provider keys in the OS keychain: keytar against a real Secret Service (gnome-keyring
 * under dbus-run-session, started by scripts/test-with-keyring.sh for `npm test`), the
 * in-memory copy that serves `get()` per request, the refresh that picks up changes made
 * by other processes, and the clear fallback when no keychain exists.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import {
  INDEX_ACCOUNT,
  KEYCHAIN_SERVICE,
  KeychainProviderKeyManager,
  KeychainUnavailableError,
  describeProviderKeyStore,
  openProviderKeyStore,
  type ProviderKeyStore,
} from '../../src/main/secrets/keychain.js';
import { EnvironmentSecretStore, LayeredSecretStore } from '../../src/main/secrets/secret-store.js';
import { keychainUnderTest, keyringRequired, MemoryKeytar, type KeychainUnderTest } from './keychain-under-test.js';

const root = join(import.meta.dirname, '..', '..');

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the OS keychain (real Secret Service when one runs)', () => {
  let keychain: KeychainUnderTest;
  const stores: ProviderKeyStore[] = [];
  const open = async (refreshIntervalMs = 0): Promise<ProviderKeyStore> => {
    const store = keychain.real
      ? await openProviderKeyStore({ service: keychain.service, refreshIntervalMs })
      : await KeychainProviderKeyManager.open(keychain.keytar, { service: keychain.service, refreshIntervalMs });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    keychain = await keychainUnderTest();
  });
  afterAll(async () => {
    for (const store of stores) store.close();
    await keychain.cleanup();
  });

  it('is reachable under scripts/test-with-keyring.sh, or says clearly why not', () => {
    if (keyringRequired) expect(keychain.real).toBe(true);
    if (!keychain.real) {
      // No silent skip: the fallback must explain itself, and the rest of this block runs against a stand-in.
      expect(keychain.reason).toMatch(/^no OS keychain.*: using environment keys only/);
    }
  });

  it('stores, lists, reads and deletes keys: service "switchyard"-style, one account per provider', async () => {
    const store = await open();
    expect(store.available).toBe(true);
    expect(store.source).toBe('keychain');
    expect(await store.list()).toEqual([]);
    await store.set('openai', 'sk-test-keychain-openai-0001');
    await store.set('anthropic', '  sk-ant-test-0002\n');
    expect(store.get('openai')).toBe('sk-test-keychain-openai-0001');
    expect(store.get('anthropic')).toBe('sk-ant-test-0002');
    expect(store.has('openai')).toBe(true);
    expect(store.get('gemini')).toBeNull();
    expect(await store.list()).toEqual(['anthropic', 'openai']);
    // Really in the keychain: keytar itself reads them under the service, one account per
    // provider, and the index that lists them (read instead of enumerating, see keychain.ts).
    expect(await keychain.keytar.getPassword(keychain.service, 'openai')).toBe('sk-test-keychain-openai-0001');
    expect(await keychain.keytar.getPassword(keychain.service, 'anthropic')).toBe('sk-ant-test-0002');
    expect(JSON.parse((await keychain.keytar.getPassword(keychain.service, INDEX_ACCOUNT))!)).toEqual(['anthropic', 'openai']);
    // A store opened later (the next start of the app) loads them.
    const again = await open();
    expect(again.get('anthropic')).toBe('sk-ant-test-0002');
    await store.delete('anthropic');
    expect(store.get('anthropic')).toBeNull();
    expect(await keychain.keytar.getPassword(keychain.service, 'anthropic')).toBeNull();
    expect(JSON.parse((await keychain.keytar.getPassword(keychain.service, INDEX_ACCOUNT))!)).toEqual(['openai']);
    await store.delete('never-stored');
    await store.delete('openai');
    expect(JSON.parse((await keychain.keytar.getPassword(keychain.service, INDEX_ACCOUNT))!)).toEqual([]);
  });

  it('refuses keys that cannot be right, before they reach the keychain', async () => {
    const store = await open();
    await expect(store.set('openai', '')).rejects.toThrow(/empty/);
    await expect(store.set('openai', 'sk-one two')).rejects.toThrow(/spaces/);
    await expect(store.set('Not A Provider', 'sk-x')).rejects.toThrow(/provider id/);
    await expect(store.set('openai', 'x'.repeat(5000))).rejects.toThrow(/longer/);
    expect(await store.list()).toEqual([]);
  });

  it('picks up a key changed by another process within the refresh interval, and tells listeners', async () => {
    const store = await open(50);
    const changes: string[][] = [];
    store.onChange((providers) => changes.push(providers));
    // "Another process": the CLI's store adds a key; another program rotates it in place.
    const cli = await open();
    await cli.set('xai', 'xai-from-another-process-1');
    await until(() => store.get('xai') === 'xai-from-another-process-1');
    await keychain.keytar.setPassword(keychain.service, 'xai', 'xai-from-another-process-2');
    await until(() => store.get('xai') === 'xai-from-another-process-2');
    await cli.delete('xai');
    await until(() => store.get('xai') === null);
    expect(changes.filter((providers) => providers.includes('xai')).length).toBeGreaterThanOrEqual(3);
  });

  it('comes before the environment; the environment is used when the keychain has no key', async () => {
    const store = await open();
    const config = loadConfig({ environment: {} });
    const environment = new EnvironmentSecretStore(config.providers, { OPENAI_API_KEY: 'sk-from-environment' });
    const layered = new LayeredSecretStore([store, environment]);
    expect(layered.get('openai')).toBe('sk-from-environment');
    await store.set('openai', 'sk-from-keychain');
    expect(layered.get('openai')).toBe('sk-from-keychain');
    await store.delete('openai');
    expect(layered.get('openai')).toBe('sk-from-environment');
  });
});

describe('reading without enumerating the keychain (keytar 7.9 findCredentials can segfault)', () => {
  it('reads the index and each account with getPassword; findCredentials never runs once an index exists', async () => {
    const keytar = new MemoryKeytar();
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    await store.set('openai', 'sk-a');
    await store.set('xai', 'xai-b');
    const finds = keytar.calls.find;
    const other = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    expect(other.get('openai')).toBe('sk-a');
    expect(await other.list()).toEqual(['openai', 'xai']);
    await store.delete('xai');
    await other.refresh();
    expect(await other.list()).toEqual(['openai']);
    expect(keytar.calls.find).toBe(finds);
    expect(JSON.parse((await keytar.getPassword('svc', INDEX_ACCOUNT))!)).toEqual(['openai']);
  });

  it('finds the keys an earlier version stored (no index) once, at open, and indexes them', async () => {
    const keytar = new MemoryKeytar();
    await keytar.setPassword('svc', 'openai', 'sk-old-version');
    await keytar.setPassword('svc', 'anthropic', 'sk-ant-old-version');
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    expect(keytar.calls.find).toBe(1);
    expect(await store.list()).toEqual(['anthropic', 'openai']);
    expect(JSON.parse((await keytar.getPassword('svc', INDEX_ACCOUNT))!)).toEqual(['anthropic', 'openai']);
    await store.refresh();
    await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    expect(keytar.calls.find).toBe(1);
  });

  it('an index that is not one is read as none and rebuilt by the next write; the keys in memory are still read', async () => {
    const keytar = new MemoryKeytar();
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    await store.set('openai', 'sk-a');
    await keytar.setPassword('svc', INDEX_ACCOUNT, 'not json');
    await keytar.setPassword('svc', 'openai', 'sk-rotated');
    await store.refresh();
    expect(store.get('openai')).toBe('sk-rotated');
    await store.set('gemini', 'AIza-c');
    expect(JSON.parse((await keytar.getPassword('svc', INDEX_ACCOUNT))!)).toEqual(['gemini', 'openai']);
  });

  it('survives refreshes racing writes of another process on the real keychain', async () => {
    const keychain = await keychainUnderTest();
    try {
      const open = (refreshIntervalMs: number) =>
        keychain.real
          ? openProviderKeyStore({ service: keychain.service, refreshIntervalMs })
          : KeychainProviderKeyManager.open(keychain.keytar, { service: keychain.service, refreshIntervalMs });
      const gateway = await open(0);
      const cli = await open(0);
      // Before the index, this was the race that crashed the process inside keytar.
      for (let round = 0; round < 60; round++) {
        await Promise.all([
          cli.set('openai', `sk-round-${round}`),
          gateway.refresh(),
          keychain.keytar.deletePassword(keychain.service, 'xai').then(() => keychain.keytar.setPassword(keychain.service, 'xai', `xai-${round}`)),
          gateway.refresh(),
          cli.delete('gemini').then(() => cli.set('gemini', `AIza-${round}`)),
          gateway.refresh(),
        ]);
      }
      await gateway.refresh();
      expect(gateway.get('openai')).toBe(await keychain.keytar.getPassword(keychain.service, 'openai'));
      gateway.close();
      cli.close();
    } finally {
      await keychain.cleanup();
    }
  });
});

describe('the in-memory copy and its refresh', () => {
  it('serves get() without calling the keychain, and refreshes off the request path', async () => {
    const keytar = new MemoryKeytar();
    await keytar.setPassword('svc', 'openai', 'sk-a');
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    const before = keytar.calls.get + keytar.calls.find;
    for (let index = 0; index < 10_000; index++) store.get('openai');
    expect(keytar.calls.get + keytar.calls.find).toBe(before);
    await keytar.setPassword('svc', 'openai', 'sk-b');
    expect(store.get('openai')).toBe('sk-a');
    await store.refresh();
    expect(store.get('openai')).toBe('sk-b');
  });

  it('does not let a refresh that started before a local write undo it', async () => {
    const keytar = new MemoryKeytar();
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    keytar.readDelayMs = 50;
    const refreshing = store.refresh(); // snapshot taken now: no key yet
    await store.set('openai', 'sk-written-during-refresh');
    await refreshing;
    expect(store.get('openai')).toBe('sk-written-during-refresh');
    keytar.readDelayMs = 0;
    await store.refresh();
    expect(store.get('openai')).toBe('sk-written-during-refresh');
  });

  it('keeps the keys it has when a refresh fails, and says so once', async () => {
    const keytar = new MemoryKeytar();
    await keytar.setPassword('svc', 'openai', 'sk-kept');
    const errors: string[] = [];
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0, onError: (message) => errors.push(message) });
    keytar.failRead = new Error('org.freedesktop.DBus.Error.NoReply');
    await store.refresh();
    await store.refresh();
    expect(store.get('openai')).toBe('sk-kept');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/could not read the OS keychain \(org\.freedesktop\.DBus\.Error\.NoReply\); keeping the keys read before/);
    keytar.failRead = null;
    await store.refresh();
  });

  it('runs one refresh at a time; calls made during one share one more read after it', async () => {
    const keytar = new MemoryKeytar();
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    keytar.readDelayMs = 30;
    const before = keytar.calls.index;
    await Promise.all([store.refresh(), store.refresh(), store.refresh()]);
    expect(keytar.calls.index - before).toBe(2);
  });

  it('a refresh asked for while one runs sees a change made after that one started', async () => {
    const keytar = new MemoryKeytar();
    await keytar.setPassword('svc', 'openai', 'sk-old');
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc', refreshIntervalMs: 0 });
    keytar.readDelayMs = 40;
    const running = store.refresh(); // e.g. the timer's: its snapshot holds sk-old
    await keytar.setPassword('svc', 'openai', 'sk-new'); // `switchyard keys set` in another process
    await store.refresh(); // the CLI's notice
    expect(store.get('openai')).toBe('sk-new');
    await running;
    expect(store.get('openai')).toBe('sk-new');
  });
});

describe('no keychain: a clear message, environment keys only', () => {
  it('when keytar cannot be loaded', async () => {
    const store = await openProviderKeyStore({
      keytar: async () => {
        throw new Error('libsecret-1.so.0: cannot open shared object file');
      },
    });
    expect(store.available).toBe(false);
    expect(store.reason).toBe('no OS keychain: keytar could not be loaded (libsecret-1.so.0: cannot open shared object file): using environment keys only');
    expect(store.get('openai')).toBeNull();
    expect(await store.list()).toEqual([]);
    await expect(store.set('openai', 'sk-x')).rejects.toBeInstanceOf(KeychainUnavailableError);
    await expect(store.set('openai', 'sk-x')).rejects.toThrow(/Set the provider's environment variable instead/);
    expect(describeProviderKeyStore(store)).toBe(store.reason);
  });

  it('when no Secret Service answers', async () => {
    const keytar = new MemoryKeytar();
    keytar.failRead = new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
    const store = await openProviderKeyStore({ keytar, platform: 'linux' });
    expect(store.available).toBe(false);
    expect(store.reason).toBe('no OS keychain (Secret Service) found: using environment keys only (Cannot autolaunch D-Bus without X11 $DISPLAY)');
    // The app still works from the environment.
    const config = loadConfig({ environment: {} });
    const layered = new LayeredSecretStore([store, new EnvironmentSecretStore(config.providers, { OPENAI_API_KEY: 'sk-env' })]);
    expect(layered.get('openai')).toBe('sk-env');
  });

  it('when the keychain does not answer in time (a locked keyring waiting on a prompt)', async () => {
    const keytar = new MemoryKeytar();
    keytar.readDelayMs = 2_000;
    const started = Date.now();
    const store = await openProviderKeyStore({ keytar, timeoutMs: 100, refreshIntervalMs: 10 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(store.available).toBe(false);
    expect(store.reason).toMatch(/^no OS keychain \(.+\) found: using environment keys only \(it did not answer within 0\.1 s; is it locked\?\)$/);
  });

  it('when turned off with SWITCHYARD_KEYCHAIN=off', async () => {
    const keytar = new MemoryKeytar();
    const store = await openProviderKeyStore({ keytar, environment: { SWITCHYARD_KEYCHAIN: 'off' } });
    expect(store.available).toBe(false);
    expect(store.reason).toMatch(/turned off \(SWITCHYARD_KEYCHAIN=off\): using environment keys only/);
    expect(keytar.calls.find + keytar.calls.get).toBe(0);
  });

  it('uses the service "switchyard" unless told otherwise', async () => {
    expect(KEYCHAIN_SERVICE).toBe('switchyard');
    const keytar = new MemoryKeytar();
    await keytar.setPassword('switchyard', 'openai', 'sk-default-service');
    await keytar.setPassword('other-profile', 'openai', 'sk-other-service');
    const standard = await openProviderKeyStore({ keytar, environment: {}, refreshIntervalMs: 0 });
    const other = await openProviderKeyStore({ keytar, environment: { SWITCHYARD_KEYCHAIN_SERVICE: 'other-profile' }, refreshIntervalMs: 0 });
    expect(standard.get('openai')).toBe('sk-default-service');
    expect(other.get('openai')).toBe('sk-other-service');
    expect(describeProviderKeyStore(standard, 'linux')).toBe('provider keys: OS keychain (Secret Service), then environment variables');
  });

  it.runIf(process.platform === 'linux')('on a real Linux process without a session bus: the fallback, not a crash', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'switchyard-nobus-'));
    const environment: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtime };
    delete environment.DBUS_SESSION_BUS_ADDRESS;
    delete environment.DISPLAY;
    delete environment.WAYLAND_DISPLAY;
    const script = `import { openProviderKeyStore } from './src/main/secrets/keychain.ts';
const store = await openProviderKeyStore({ timeoutMs: 5000 });
console.log(JSON.stringify({ available: store.available, reason: store.reason }));`;
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['--input-type=module', '-e', script], { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output).toBe(0);
    const result = JSON.parse(output.trim().split('\n').pop()!) as { available: boolean; reason: string };
    expect(result.available).toBe(false);
    expect(result.reason).toMatch(/^no OS keychain \(Secret Service\) found: using environment keys only \(.+\)$/);
  });
});
