/**
 * The environment store: a provider's key from its conventional variable; the process's own
 * environment read once, any other environment object on every call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/main/gateway/config.js';
import { EnvironmentSecretStore } from '../../src/main/secrets/secret-store.js';

const VARIABLE = 'SWITCHYARD_TEST_ENVIRONMENT_STORE_KEY';
const providers = [
  { id: 'openai', apiKeyEnv: VARIABLE },
  { id: 'ollama' },
] as unknown as ProviderConfig[];

afterEach(() => {
  delete process.env[VARIABLE];
});

describe('EnvironmentSecretStore', () => {
  it("reads another environment object on every call: a key set or cleared later is what the next request uses", () => {
    const environment: NodeJS.ProcessEnv = {};
    const store = new EnvironmentSecretStore(providers, environment);
    expect(store.get('openai')).toBeNull();
    environment[VARIABLE] = 'sk-later-0123456789';
    expect(store.get('openai')).toBe('sk-later-0123456789');
    environment[VARIABLE] = '';
    expect(store.get('openai')).toBeNull();
    expect(store.get('ollama')).toBeNull();
    expect(store.get('unknown')).toBeNull();
  });

  it("gives the process's own key, read from process.env when the store is made", () => {
    process.env[VARIABLE] = 'sk-process-0123456789';
    const store = new EnvironmentSecretStore(providers);
    expect(store.get('openai')).toBe('sk-process-0123456789');
    expect(store.get('openai')).toBe('sk-process-0123456789');
    expect(store.get('ollama')).toBeNull();
    expect(store.get('unknown')).toBeNull();
    process.env[VARIABLE] = '';
    expect(new EnvironmentSecretStore(providers).get('openai')).toBeNull();
  });
});
