/** The status bar's store (in-flight count, spend) and the providers store (actions, errors, the key shown once). */
import { describe, expect, it } from 'vitest';
import type { ProviderState } from '../../src/shared/contract.js';
import { createProvidersStore } from '../../src/renderer/src/stores/providers-store.js';
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
