/** The status bar's store (in-flight count, spend) and the providers store (actions, errors, the key shown once, the first-run key). */
import { describe, expect, it } from 'vitest';
import type { GatewayKeyCreated, ProviderState } from '../../src/shared/contract.js';
import { connectProviderEvents, createProvidersStore } from '../../src/renderer/src/stores/providers-store.js';
import { connectStatusEvents, createStatusStore } from '../../src/renderer/src/stores/status-store.js';
import { FakeClient } from './fake-client.js';
import { summary } from './request-summary-fixture.js';

describe('the status store', () => {
  it('counts requests in flight from events, ignoring requests refused before they started', async () => {
    const client = new FakeClient({ 'gateway.spend-today': () => ({ since: 0, requests: 1, costNanoUsd: 5, unpricedRequests: 0 }) });
    const store = createStatusStore(client);
    connectStatusEvents(client, store, 0);
    client.emit('request.started', summary({ id: 'a', endedAt: null }));
    client.emit('request.started', summary({ id: 'b', endedAt: null }));
    expect(store.getState().inFlight).toBe(2);
    client.emit('request.finished', summary({ id: 'refused', status: 'error' }));
    expect(store.getState().inFlight).toBe(2);
    client.emit('request.finished', summary({ id: 'a' }));
    expect(store.getState().inFlight).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(store.getState().spend?.costNanoUsd).toBe(5);
  });
});

const openai: ProviderState = {
  id: 'openai',
  name: 'OpenAI',
  kind: 'openai-compatible',
  baseUrl: 'https://api.openai.com/v1',
  defaultBaseUrl: 'https://api.openai.com/v1',
  baseUrlOverridden: false,
  local: false,
  baseUrlEditable: true,
  keyState: 'missing',
  maskedKey: null,
  keyEnvironmentVariable: 'OPENAI_API_KEY',
  detected: null,
  lastTest: null,
  circuits: [],
  concurrency: null,
};

describe('the providers store', () => {
  it('saves a key, reports a refusal per provider, and shows a created key once', async () => {
    const client = new FakeClient({
      'providers.list': () => [openai],
      'gateway-keys.list': () => [],
      'providers.set-key': ({ key }) => {
        if (key.includes(' ')) throw new Error('A key has no spaces');
        return { ...openai, keyState: 'keychain', maskedKey: 'sk-…abcd' };
      },
      'gateway-keys.create': ({ name }) => ({ key: 'sy-full-key', record: { id: '1', name, prefix: 'sy-full…', tags: [], allowedModels: null, createdAt: 1, lastUsedAt: null, expiresAt: null, revokedAt: null, source: 'app' } }),
    });
    const store = createProvidersStore(client);
    await store.getState().load();
    expect(await store.getState().setKey('openai', 'sk-bad key')).toBe(false);
    expect(store.getState().providerErrors.openai).toContain('no spaces');
    expect(await store.getState().setKey('openai', 'sk-abcd')).toBe(true);
    expect(store.getState().providers[0]).toMatchObject({ keyState: 'keychain', maskedKey: 'sk-…abcd' });
    expect(store.getState().busy).toEqual({});
    await store.getState().createGatewayKey({ name: 'tool' });
    expect(store.getState().createdKey?.key).toBe('sy-full-key');
    store.getState().dismissCreatedKey();
    expect(store.getState().createdKey).toBeNull();
  });
});

describe('circuit breakers in the providers store', () => {
  const open: ProviderState = {
    ...openai,
    circuits: [
      { provider: 'openai', model: null, state: 'open', consecutiveFailures: 5, recentFailures: 5, recentTotal: 6, retryAt: 2_000, openedAt: 1_000, lastError: 'HTTP 500: upstream down' },
      { provider: 'openai', model: 'gpt-4.1', state: 'open', consecutiveFailures: 5, recentFailures: 5, recentTotal: 5, retryAt: 2_000, openedAt: 1_000, lastError: 'HTTP 500: upstream down' },
    ],
    concurrency: { active: 2, waiting: 1, limit: 2, queue: 8 },
  };

  it('takes circuits from the providers.changed event, resets them, and refreshes the concurrency quietly', async () => {
    let listed: ProviderState = open;
    const client = new FakeClient({
      'providers.list': () => [listed],
      'gateway-keys.list': () => [],
      'providers.reset-circuits': ({ provider }) => {
        expect(provider).toBe('openai');
        return [{ ...open, circuits: [] }];
      },
    });
    const store = createProvidersStore(client);
    connectProviderEvents(client, store);
    await store.getState().load();
    client.emit('providers.changed', [open]);
    expect(store.getState().providers[0]?.circuits.map((circuit) => circuit.state)).toEqual(['open', 'open']);
    expect(await store.getState().resetCircuits('openai')).toBe(true);
    expect(store.getState().providers[0]?.circuits).toEqual([]);
    expect(store.getState().busy).toEqual({});
    listed = { ...open, circuits: [], concurrency: { active: 0, waiting: 0, limit: 2, queue: 8 } };
    await store.getState().refreshProviders();
    expect(store.getState().providers[0]?.concurrency).toEqual({ active: 0, waiting: 0, limit: 2, queue: 8 });
  });

  it('reports a refused reset on the provider, and a failed refresh not at all', async () => {
    const client = new FakeClient({
      'providers.list': () => [open],
      'gateway-keys.list': () => [],
      'providers.reset-circuits': () => {
        throw new Error('Unknown provider "openai".');
      },
    });
    const store = createProvidersStore(client);
    await store.getState().load();
    expect(await store.getState().resetCircuits('openai')).toBe(false);
    expect(store.getState().providerErrors.openai).toContain('Unknown provider');
    const failing = createProvidersStore(new FakeClient({}));
    await failing.getState().refreshProviders();
    expect(failing.getState().error).toBeNull();
  });
});

describe('the first-run key', () => {
  const first: GatewayKeyCreated = {
    key: 'sy-first-full-key',
    record: { id: 'first', name: 'First key', prefix: 'sy-first…', tags: [], allowedModels: null, createdAt: 1, lastUsedAt: null, expiresAt: null, revokedAt: null, source: 'app' },
  };

  it('is taken from main once, shown, and forgotten on "Done"', async () => {
    let answer: GatewayKeyCreated | null = first;
    const client = new FakeClient({
      'gateway-keys.take-first-run-key': () => {
        const taken = answer;
        answer = null;
        return taken;
      },
    });
    const store = createProvidersStore(client);
    await store.getState().takeFirstRunKey();
    expect(store.getState().firstRunKey?.key).toBe('sy-first-full-key');
    expect(store.getState().gatewayKeys.map((key) => key.id)).toEqual(['first']);
    store.getState().dismissFirstRunKey();
    expect(store.getState().firstRunKey).toBeNull();
    expect(store.getState().createdKey).toBeNull();
    await store.getState().takeFirstRunKey();
    expect(store.getState().firstRunKey).toBeNull();
    expect(client.calls.filter((call) => call.name === 'gateway-keys.take-first-run-key')).toHaveLength(2);
  });

  it('goes on to the Connect screen as the created key, so the snippets hold it', async () => {
    const store = createProvidersStore(new FakeClient({ 'gateway-keys.take-first-run-key': () => first }));
    await store.getState().takeFirstRunKey();
    store.getState().dismissFirstRunKey(true);
    expect(store.getState().firstRunKey).toBeNull();
    expect(store.getState().createdKey?.key).toBe('sy-first-full-key');
  });

  it('shows nothing when main has none or cannot answer', async () => {
    const none = createProvidersStore(new FakeClient({ 'gateway-keys.take-first-run-key': () => null }));
    await none.getState().takeFirstRunKey();
    expect(none.getState().firstRunKey).toBeNull();
    const failing = createProvidersStore(new FakeClient({}));
    await failing.getState().takeFirstRunKey();
    expect(failing.getState()).toMatchObject({ firstRunKey: null, error: null });
  });
});
