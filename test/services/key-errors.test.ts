/**
 * Key errors reach the user as clear refusals, not internal errors: no OS keychain (409),
 * a malformed provider key and a gateway key request storage refuses (400), with their
 * own message and code. And the providers screen's "Test" uses the shared key check
 * (secrets/key-test.ts), so xAI's 400 for a bad key is an invalid key there too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidProviderKeyError, KeychainProviderKeyManager, KeychainUnavailableError, UnavailableProviderKeyStore } from '../../src/main/secrets/keychain.js';
import { createApplication, type Application, type ApplicationOptions } from '../../src/main/services/application.js';
import { OperationError, asOperationError } from '../../src/main/services/operation-error.js';
import { GatewayKeyError } from '../../src/main/storage/gateway-keys.js';
import { MemoryKeytar } from '../secrets/keychain-under-test.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from '../security/key-checking-upstream.js';

const GOOD_XAI_KEY = 'xai-services-test-good-key-000000001';
const BAD_XAI_KEY = 'xai-services-test-bad-key-echoed-77777';

let upstream: KeyCheckingUpstream;
const directories: string[] = [];
const applications: Application[] = [];

function open(options: Partial<ApplicationOptions> = {}): Application {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-key-errors-'));
  directories.push(dataDirectory);
  const application = createApplication({
    dataDirectory,
    mode: 'headless',
    environment: { XAI_BASE_URL: `${upstream.origin}/v1`, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' },
    ...options,
  });
  applications.push(application);
  return application;
}

async function refusal(promise: Promise<unknown>): Promise<OperationError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(OperationError);
  return error as OperationError;
}

beforeAll(async () => {
  upstream = await startKeyCheckingUpstream({ accepted: [GOOD_XAI_KEY], badKeyStyle: 'xai' });
});

afterEach(async () => {
  for (const application of applications.splice(0)) await application.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

afterAll(async () => {
  await upstream?.close();
});

describe('asOperationError', () => {
  it('maps the key stores\' errors to refusals with their message and code', () => {
    const unavailable = asOperationError(new KeychainUnavailableError('Cannot store the key: no keychain.'));
    expect(unavailable).toMatchObject({ status: 409, code: 'keychain_unavailable', message: 'Cannot store the key: no keychain.' });
    expect(asOperationError(new InvalidProviderKeyError('The key is empty.'))).toMatchObject({ status: 400, code: 'invalid_key', message: 'The key is empty.' });
    expect(asOperationError(new GatewayKeyError('A gateway key needs a name.'))).toMatchObject({ status: 400, code: 'invalid_gateway_key_request' });
    expect(asOperationError(new GatewayKeyError('"sy-1" matches 2 keys.', 'ambiguous_gateway_key'))).toMatchObject({ status: 400, code: 'ambiguous_gateway_key' });
    expect(unavailable).toBeInstanceOf(OperationError);
  });

  it('leaves OperationErrors and every other error as they are', () => {
    const own = new OperationError('bad input');
    expect(asOperationError(own)).toBe(own);
    const internal = new Error('disk full');
    expect(asOperationError(internal)).toBe(internal);
    expect(asOperationError('text')).toBe('text');
  });
});

describe('key errors through the services', () => {
  it('says that no keychain is available (409) when a key is set or deleted', async () => {
    const application = open({ providerKeys: new UnavailableProviderKeyStore('no OS keychain (Secret Service) found: using environment keys only') });
    const set = await refusal(application.services['providers.set-key']({ provider: 'xai', key: GOOD_XAI_KEY }));
    expect(set).toMatchObject({ status: 409, code: 'keychain_unavailable' });
    expect(set.message).toContain('Cannot store the key: no OS keychain');
    const deleted = await refusal(application.services['providers.delete-key']({ provider: 'xai' }));
    expect(deleted).toMatchObject({ status: 409, code: 'keychain_unavailable' });
  });

  it('refuses a provider key the keychain will not take (400) with the keychain\'s message', async () => {
    const keychain = await KeychainProviderKeyManager.open(new MemoryKeytar(), { service: 'switchyard-key-errors-test', refreshIntervalMs: 0 });
    const application = open({ providerKeys: keychain });
    const error = await refusal(application.services['providers.set-key']({ provider: 'xai', key: 'xai-with-a-control\u0001character' }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_key' });
    expect(error.message).toContain('control characters');
  });

  it('refuses a gateway key request storage will not take (400) with storage\'s message', async () => {
    const application = open();
    const models = Array.from({ length: 201 }, (_, index) => `model-${index}`);
    const error = await refusal(application.services['gateway-keys.create']({ name: 'many models', allowedModels: models }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_gateway_key_request', message: 'A gateway key allows at most 200 models.' });
  });
});

describe('the providers screen\'s key test', () => {
  it('counts xAI\'s 400 for a bad key as an invalid key, without the key in the message', async () => {
    const application = open({ environment: { XAI_BASE_URL: `${upstream.origin}/v1`, XAI_API_KEY: BAD_XAI_KEY } });
    const state = await application.services['providers.test']({ provider: 'xai' });
    expect(state.lastTest).toMatchObject({ outcome: 'invalid-key' });
    expect(state.lastTest?.message).toMatch(/^xAI refused the key \(HTTP 400: /);
    expect(state.lastTest?.message).not.toContain(BAD_XAI_KEY);
    expect(state.lastTest?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a working key with its model count, and an upstream that does not answer as unreachable', async () => {
    const application = open();
    await application.services['providers.set-key']({ provider: 'xai', key: GOOD_XAI_KEY });
    const working = await application.services['providers.test']({ provider: 'xai' });
    expect(working.lastTest?.outcome).toBe('ok');
    expect(working.lastTest?.message).toMatch(/^Key works: \d+ models? listed$/);
    const missing = await application.services['providers.test']({ provider: 'ollama' });
    expect(missing.lastTest?.outcome).toBe('unreachable');
  });

  it('says so when no key is set', async () => {
    const application = open();
    const state = await application.services['providers.test']({ provider: 'xai' });
    expect(state.lastTest).toMatchObject({ outcome: 'invalid-key', message: 'No key set.' });
  });
});
