/**
 * The desktop app's first gateway key: made on the first desktop start only, handed to the
 * renderer once (then null), accepted by the gateway, its full value never written to
 * disk, and never made again — not at the next start, not after it was revoked, not where
 * keys existed before, never in headless mode.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApplication, type Application } from '../../src/main/services/application.js';
import { FIRST_KEY_NAME, FirstRunKey } from '../../src/main/services/first-run-key.js';
import { MemoryGatewayKeyManager } from '../../src/main/services/key-managers.js';
import { SETTINGS_FILE_NAME, SettingsStore } from '../../src/main/services/settings-store.js';

const directories: string[] = [];
const applications: Application[] = [];

function dataDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-first-run-'));
  directories.push(directory);
  return directory;
}

function open(directory: string, mode: 'desktop' | 'headless'): Application {
  const application = createApplication({ dataDirectory: directory, mode, environment: {} });
  applications.push(application);
  return application;
}

async function close(application: Application): Promise<void> {
  applications.splice(applications.indexOf(application), 1);
  await application.close();
}

afterEach(async () => {
  for (const application of applications.splice(0)) await application.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('the first gateway key', () => {
  it('is made on the first desktop start and handed over once, in full', async () => {
    const directory = dataDirectory();
    const application = open(directory, 'desktop');
    const taken = await application.services['gateway-keys.take-first-run-key']();
    expect(taken).not.toBeNull();
    expect(taken!.key).toMatch(/^sy-/);
    expect(taken!.record).toMatchObject({ name: FIRST_KEY_NAME, source: 'app', revokedAt: null });
    expect(taken!.record.prefix.endsWith('…')).toBe(true);
    expect(await application.services['gateway-keys.take-first-run-key']()).toBeNull();
    // A real key: listed (without its value) and accepted by the gateway's key check.
    const listed = await application.services['gateway-keys.list']();
    expect(listed.map((key) => key.id)).toEqual([taken!.record.id]);
    expect(JSON.stringify(listed)).not.toContain(taken!.key);
    expect((await application.context.gatewayKeys.verify(taken!.key))?.name).toBe(FIRST_KEY_NAME);
    // Settings remember that it was made, and hold nothing of the key.
    const settings = readFileSync(join(directory, SETTINGS_FILE_NAME), 'utf8');
    expect(JSON.parse(settings).firstGatewayKeyCreatedAt).toBeGreaterThan(0);
    expect(settings).not.toContain(taken!.key);
  });

  it('is not made again at the next start, even after it was revoked', async () => {
    const directory = dataDirectory();
    let application = open(directory, 'desktop');
    const taken = await application.services['gateway-keys.take-first-run-key']();
    await close(application);

    application = open(directory, 'desktop');
    expect(await application.services['gateway-keys.take-first-run-key']()).toBeNull();
    await application.services['gateway-keys.revoke']({ id: taken!.record.id });
    await close(application);

    application = open(directory, 'desktop');
    expect(await application.services['gateway-keys.take-first-run-key']()).toBeNull();
    const listed = await application.services['gateway-keys.list']();
    expect(listed).toHaveLength(1);
    expect(listed[0]?.revokedAt).not.toBeNull();
  });

  it('is never made by `switchyard serve` (headless)', async () => {
    const application = open(dataDirectory(), 'headless');
    expect(await application.services['gateway-keys.take-first-run-key']()).toBeNull();
    expect(await application.services['gateway-keys.list']()).toEqual([]);
  });

  it('is not made where gateway keys existed before the first desktop start', async () => {
    const directory = dataDirectory();
    const headless = open(directory, 'headless');
    await headless.services['gateway-keys.create']({ name: 'made with the CLI' });
    await close(headless);
    const desktop = open(directory, 'desktop');
    expect(await desktop.services['gateway-keys.take-first-run-key']()).toBeNull();
    expect((await desktop.services['gateway-keys.list']()).map((key) => key.name)).toEqual(['made with the CLI']);
  });

  it('is not made again when the settings remember it, even with no key left', async () => {
    const directory = dataDirectory();
    const settings = new SettingsStore(directory);
    settings.update((stored) => {
      stored.firstGatewayKeyCreatedAt = 1;
    });
    const keys = new MemoryGatewayKeyManager();
    const first = new FirstRunKey({ enabled: true, gatewayKeys: keys, settings });
    expect(await first.take()).toBeNull();
    expect(await keys.list()).toEqual([]);
  });

  it('reports a failure to make it and leaves the app working', async () => {
    const messages: string[] = [];
    const keys = new MemoryGatewayKeyManager();
    keys.create = async () => {
      throw new Error('database is locked');
    };
    const first = new FirstRunKey({ enabled: true, gatewayKeys: keys, settings: new SettingsStore(dataDirectory()), onError: (message) => messages.push(message) });
    expect(await first.take()).toBeNull();
    expect(messages).toEqual(['could not create the first gateway key: database is locked']);
  });
});
