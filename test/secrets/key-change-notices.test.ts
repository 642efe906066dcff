/**
 * The notice `switchyard keys set|delete` sends to running gateways: a gateway announces
 * itself in a private per-user folder and listens on a local socket; the CLI tells every
 * gateway reading the same keychain service and waits until each has read the keychain
 * again. Entries of gateways that are gone are removed; an unsafe folder is not used.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeychainProviderKeyManager } from '../../src/main/secrets/keychain.js';
import { announceProviderKeysChanged, listenForKeyNotices, noticeDirectory, runningGateways, type NoticeListener } from '../../src/main/secrets/key-change-notices.js';
import { MemoryKeytar } from './keychain-under-test.js';

const posix = process.platform !== 'win32';
const listeners: NoticeListener[] = [];
afterEach(async () => {
  while (listeners.length > 0) await listeners.pop()!.close();
});

function runtimeEnvironment(): NodeJS.ProcessEnv {
  // Short: a Unix socket path has a limit of about 104 bytes.
  const directory = mkdtempSync(join(tmpdir(), 'sy-rt-'));
  return { SWITCHYARD_RUNTIME_DIR: join(directory, 'run') };
}

function listen(options: Parameters<typeof listenForKeyNotices>[0]): NoticeListener {
  const listener = listenForKeyNotices(options);
  listeners.push(listener);
  return listener;
}

describe('key change notices', () => {
  it('finds the folder: SWITCHYARD_RUNTIME_DIR, then XDG_RUNTIME_DIR, then a per-user temporary folder', () => {
    expect(noticeDirectory({ SWITCHYARD_RUNTIME_DIR: '/x/run' }, 'linux')).toBe('/x/run');
    expect(noticeDirectory({ XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux')).toBe('/run/user/1000/switchyard');
    expect(noticeDirectory({}, 'darwin')).toBe(join(tmpdir(), `switchyard-${process.getuid?.() ?? 'user'}`));
  });

  it('keeps two listeners of one process apart', async () => {
    const environment = runtimeEnvironment();
    let first = 0;
    let second = 0;
    const one = listen({ service: 'svc-f', environment, onProviderKeysChanged: async () => void (first += 1) });
    const two = listen({ service: 'svc-f', environment, onProviderKeysChanged: async () => void (second += 1) });
    await Promise.all([one.ready, two.ready]);
    expect(one.socket).not.toBe(two.socket);
    expect(await announceProviderKeysChanged({ service: 'svc-f', environment })).toHaveLength(2);
    expect([first, second]).toEqual([1, 1]);
    await one.close();
    expect(await announceProviderKeysChanged({ service: 'svc-f', environment })).toHaveLength(1);
    expect([first, second]).toEqual([1, 2]);
  });

  it('tells a running gateway and waits until it has read the keychain again', async () => {
    const environment = runtimeEnvironment();
    const keytar = new MemoryKeytar();
    await keytar.setPassword('svc-a', 'openai', 'sk-before');
    const store = await KeychainProviderKeyManager.open(keytar, { service: 'svc-a', refreshIntervalMs: 0 });
    const listener = listen({ service: 'svc-a', environment, onProviderKeysChanged: () => store.refresh() });
    expect(await listener.ready).toBe(true);
    const directory = environment.SWITCHYARD_RUNTIME_DIR!;
    if (posix) {
      expect(statSync(directory).mode & 0o777).toBe(0o700);
      const [entry] = readdirSync(directory).filter((name) => name.endsWith('.json'));
      expect(entry).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{8}\\.json$`));
      expect(statSync(join(directory, entry!)).mode & 0o777).toBe(0o600);
      expect(statSync(listener.socket!).mode & 0o777).toBe(0o600);
    }
    expect(runningGateways(environment)).toEqual([expect.objectContaining({ pid: process.pid, service: 'svc-a', socket: listener.socket })]);

    // Another process (the CLI) writes to the keychain; the read takes a while, as D-Bus may.
    const cli = await KeychainProviderKeyManager.open(keytar, { service: 'svc-a', refreshIntervalMs: 0 });
    await cli.set('openai', 'sk-after');
    keytar.readDelayMs = 50;
    const started = performance.now();
    const outcomes = await announceProviderKeysChanged({ service: 'svc-a', environment });
    const elapsed = performance.now() - started;
    expect(outcomes).toEqual([{ pid: process.pid, confirmed: true }]);
    expect(store.get('openai')).toBe('sk-after'); // in effect once the CLI returns
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(listener.handled).toBe(1);
    console.log(`key change notice answered after the keychain read: ${elapsed.toFixed(1)} ms (the read itself: 50 ms)`);

    // Gateways of another keychain service are not told.
    expect(await announceProviderKeysChanged({ service: 'svc-other', environment })).toEqual([]);
    expect(listener.handled).toBe(1);

    await listener.close();
    expect(readdirSync(directory)).toEqual([]);
    expect(await announceProviderKeysChanged({ service: 'svc-a', environment })).toEqual([]);
    store.close();
  });

  it('reports a gateway whose keychain read fails, without throwing', async () => {
    const environment = runtimeEnvironment();
    const listener = listen({ service: 'svc-b', environment, onProviderKeysChanged: async () => Promise.reject(new Error('keychain locked')) });
    await listener.ready;
    expect(await announceProviderKeysChanged({ service: 'svc-b', environment })).toEqual([{ pid: process.pid, confirmed: false, error: 'keychain locked' }]);
  });

  it('removes the entry of a gateway that is gone (kill -9), and tells nobody', async () => {
    const environment = runtimeEnvironment();
    const directory = environment.SWITCHYARD_RUNTIME_DIR!;
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    const name = `${pid}-0badc0de`;
    writeFileSync(join(directory, `${name}.json`), JSON.stringify({ pid, service: 'svc-c', socket: join(directory, `${name}.sock`), startedAt: 1 }), { mode: 0o600 });
    writeFileSync(join(directory, `${name}.sock`), '');
    // An entry naming a path elsewhere: its entry goes, the path it names stays.
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'sy-keep-')), 'keep');
    writeFileSync(elsewhere, 'not to be removed');
    writeFileSync(join(directory, `${pid}-00000001.json`), JSON.stringify({ pid, service: 'svc-c', socket: elsewhere, startedAt: 1 }), { mode: 0o600 });
    expect(await announceProviderKeysChanged({ service: 'svc-c', environment })).toEqual([]);
    expect(readdirSync(directory)).toEqual([]);
    expect(existsSync(elsewhere)).toBe(true);
  });

  it('answers only the notice it knows, and a notice that never ends is cut off', async () => {
    const environment = runtimeEnvironment();
    let refreshed = 0;
    const listener = listen({ service: 'svc-d', environment, onProviderKeysChanged: async () => void (refreshed += 1) });
    await listener.ready;
    const { createConnection } = await import('node:net');
    const ask = (text: string): Promise<string> =>
      new Promise((resolve) => {
        const connection = createConnection(listener.socket!);
        let answer = '';
        connection.on('data', (chunk) => (answer += chunk.toString()));
        connection.on('close', () => resolve(answer));
        connection.on('error', () => resolve(answer));
        connection.write(text);
      });
    expect(await ask('{"notice":"something-else"}\n')).toBe('{"ok":false,"error":"unknown notice"}\n');
    expect(await ask('not json\n')).toBe('{"ok":false,"error":"unknown notice"}\n');
    expect(await ask('x'.repeat(5000))).toBe('');
    expect(refreshed).toBe(0);
  });

  it.runIf(posix)('does not use a folder other users can open, and says so', async () => {
    const environment = runtimeEnvironment();
    const directory = environment.SWITCHYARD_RUNTIME_DIR!;
    mkdirSync(directory, { recursive: true });
    chmodSync(directory, 0o777);
    const errors: string[] = [];
    const listener = listen({ service: 'svc-e', environment, onProviderKeysChanged: async () => {}, onError: (message) => errors.push(message) });
    expect(await listener.ready).toBe(false);
    expect(errors[0]).toMatch(/picked up by the keychain's timer only: .* is open to other users \(mode 777\)/);
    expect(readdirSync(directory)).toEqual([]);
    // Nor does the CLI trust entries found there.
    writeFileSync(join(directory, `${process.pid}-00000002.json`), JSON.stringify({ pid: process.pid, service: 'svc-e', socket: '/nowhere', startedAt: 1 }));
    expect(runningGateways(environment)).toEqual([]);
  });
});
