/**
 * The app's services end to end through the real gateway: provider keys (set, test,
 * delete, masked), gateway keys and the playground key, the inspector's list and detail
 * (headers masked, stream events), conversations, analytics and settings — against the
 * OpenAI fake, with storage in a temporary folder.
 */
import { MemoryProviderKeyManager } from '../../src/main/services/key-managers.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Events, EventName } from '../../src/shared/contract.js';
import { startGateway, type RunningGateway } from '../../src/main/headless.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

const OPENAI_KEY = 'sk-services-test-key-98a7c6';
let fake: OpenAIFake;
let running: RunningGateway;
let dataDirectory: string;
const events: Array<{ name: EventName; payload: unknown }> = [];

function services() {
  return running.application.services;
}

async function chat(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${running.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function eventsNamed<Name extends EventName>(name: Name): Array<Events[Name]> {
  return events.filter((event) => event.name === name).map((event) => event.payload as Events[Name]);
}

beforeAll(async () => {
  fake = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY });
  dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-services-'));
  running = await startGateway({
    // Keys in memory: a test must never read or write the developer's real keychain.
    providerKeys: new MemoryProviderKeyManager(),
    dataDir: dataDirectory,
    host: '127.0.0.1',
    port: 0,
    environment: { OPENAI_BASE_URL: fake.url, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' },
  });
  running.application.events.subscribe((name, payload) => events.push({ name, payload }));
});

afterAll(async () => {
  await running?.close();
  await fake?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe('gateway status and providers', () => {
  it('reports where the gateway runs', async () => {
    const status = await services()['gateway.status']();
    expect(status).toMatchObject({ running: true, origin: running.origin, baseUrl: `${running.origin}/v1`, authRequired: true, inFlight: 0 });
  });

  it('lists providers with their key state, never a key', async () => {
    const providers = await services()['providers.list']();
    const openai = providers.find((provider) => provider.id === 'openai')!;
    expect(openai).toMatchObject({ keyState: 'missing', maskedKey: null, baseUrl: fake.url, baseUrlEditable: true, lastTest: null });
    expect(providers.find((provider) => provider.id === 'ollama')).toMatchObject({ keyState: 'not-needed', local: true });
  });

  it('sets, tests and deletes a key; the wrong key tests as invalid', async () => {
    let state = await services()['providers.set-key']({ provider: 'openai', key: 'sk-wrong-0000000000' });
    expect(state.keyState).toBe('keychain');
    state = await services()['providers.test']({ provider: 'openai' });
    expect(state.lastTest?.outcome).toBe('invalid-key');
    state = await services()['providers.set-key']({ provider: 'openai', key: OPENAI_KEY });
    expect(state.maskedKey).toBe('sk-…a7c6');
    state = await services()['providers.test']({ provider: 'openai' });
    expect(state.lastTest).toMatchObject({ outcome: 'ok' });
    expect(state.lastTest?.message).toContain('6 models');
    expect(JSON.stringify(await services()['providers.list']())).not.toContain(OPENAI_KEY);
    expect(eventsNamed('providers.changed').length).toBeGreaterThan(0);
  });

  it('refuses unknown providers and keys with spaces, with messages for the user', async () => {
    await expect(services()['providers.set-key']({ provider: 'nope', key: 'x' })).rejects.toThrow('Unknown provider "nope"');
    await expect(services()['providers.set-key']({ provider: 'openai', key: 'sk-a b' })).rejects.toThrow('no spaces');
  });

  it('detects local servers by probing /v1/models', async () => {
    const providers = await services()['providers.detect-local']();
    expect(providers.find((provider) => provider.id === 'ollama')?.detected).toBe(false);
  });

  it('detects a local server that answers /v1/models with 2xx, and not one that answers 404', async () => {
    let status = 200;
    const paths: string[] = [];
    const local = createServer((request, response) => {
      paths.push(`${request.method} ${request.url}`);
      response.writeHead(status, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
    });
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    try {
      const port = (local.address() as AddressInfo).port;
      await services()['providers.set-base-url']({ provider: 'lmstudio', baseUrl: `http://127.0.0.1:${port}/v1` });
      const found = await services()['providers.detect-local']();
      expect(found.find((provider) => provider.id === 'lmstudio')?.detected).toBe(true);
      status = 404;
      const gone = await services()['providers.detect-local']();
      expect(gone.find((provider) => provider.id === 'lmstudio')?.detected).toBe(false);
      // Setting the base URL probes too: only ever the model list.
      expect(new Set(paths)).toEqual(new Set(['GET /v1/models']));
      expect(paths.length).toBeGreaterThanOrEqual(2);
    } finally {
      await services()['providers.set-base-url']({ provider: 'lmstudio', baseUrl: null });
      local.closeAllConnections();
      await new Promise<void>((resolve) => local.close(() => resolve()));
    }
  });

  it('overrides and resets a base URL, kept in settings.json', async () => {
    const moved = await services()['providers.set-base-url']({ provider: 'lmstudio', baseUrl: 'http://127.0.0.1:9/v1/' });
    expect(moved).toMatchObject({ baseUrl: 'http://127.0.0.1:9/v1' });
    await expect(services()['providers.set-base-url']({ provider: 'lmstudio', baseUrl: 'ftp://x' })).rejects.toThrow('http');
    const reset = await services()['providers.set-base-url']({ provider: 'lmstudio', baseUrl: null });
    expect(reset.baseUrlOverridden).toBe(false);
    expect(existsSync(join(dataDirectory, 'settings.json'))).toBe(true);
  });
});

describe('gateway keys and the playground key', () => {
  it('creates a key shown once, which the gateway accepts until it is revoked', async () => {
    const created = await services()['gateway-keys.create']({ name: 'Script', tags: [{ key: 'team', value: 'qa' }] });
    expect(created.key).toMatch(/^sy-/);
    expect(created.record.prefix.endsWith('…')).toBe(true);
    const listed = await services()['gateway-keys.list']();
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const response = await chat(created.key, { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'with a created key' }] });
    expect(response.status).toBe(200);
    await services()['gateway-keys.revoke']({ id: created.record.id });
    const refused = await chat(created.key, { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'after revoke' }] });
    expect(refused.status).toBe(401);
  });

  it('gives the playground a key the gateway accepts, tagged source:playground', async () => {
    const connection = await services()['playground.connection']();
    expect(connection.baseUrl).toBe(`${running.origin}/v1`);
    const response = await chat(connection.key, { model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'from the playground' }] });
    expect(response.status).toBe(200);
    await response.text();
  });

  it('prices models for the picker', async () => {
    const [known, unknown] = await services()['models.prices']({ models: [{ provider: 'openai', model: 'gpt-4.1-mini' }, { provider: 'ollama', model: 'llama3.2' }] });
    expect(known?.inputPerMillion).toBeGreaterThan(0);
    expect(unknown?.inputPerMillion).toBeNull();
  });
});

describe('the inspector', () => {
  it('announces requests live: started, updated while streaming, finished with cost', async () => {
    const connection = await services()['playground.connection']();
    const before = events.length;
    const response = await chat(connection.key, { model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: 'live please' }] }, { 'x-tags': 'feature:live' });
    await response.text();
    await waitUntil(() => eventsNamed('request.finished').some((summary) => summary.requestedModel === 'gpt-4.1'));
    const mine = events.slice(before);
    const started = mine.find((event) => event.name === 'request.started')!.payload as Events['request.started'];
    expect(started).toMatchObject({ status: 'pending', requestedModel: 'gpt-4.1', stream: true });
    const updates = mine.filter((event) => event.name === 'request.updated').map((event) => event.payload as Events['request.updated']);
    expect(updates.some((update) => update.provider === 'openai')).toBe(true);
    const finished = mine.find((event) => event.name === 'request.finished')!.payload as Events['request.finished'];
    expect(finished).toMatchObject({ status: 'success', provider: 'openai', priced: true });
    expect(finished.costNanoUsd).toBeGreaterThan(0);
    expect(finished.tags).toContainEqual({ key: 'feature', value: 'live' });
  });

  it('lists requests with filters and opens one with masked headers and stream events', async () => {
    await running.application.context.requestLog.committed();
    const all = await services()['requests.list']({});
    expect(all.items.length).toBeGreaterThanOrEqual(4);
    const tagged = await services()['requests.list']({ filters: { tag: ['feature:live'] } });
    expect(tagged.items).toHaveLength(1);
    const byText = await services()['requests.list']({ filters: { text: 'source:playground' } });
    expect(byText.items.every((item) => item.tags.some((tag) => tag.key === 'source'))).toBe(true);
    const errors = await services()['requests.list']({ filters: { status: ['error'] } });
    expect(errors.items.every((item) => item.status === 'error')).toBe(true);
    const detail = await services()['requests.get']({ id: tagged.items[0]!.id });
    expect(detail).not.toBeNull();
    expect(detail!.requestBody).toMatchObject({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'live please' }] });
    expect(detail!.upstreamRequestBody).toMatchObject({ model: 'gpt-4.1', stream: true });
    expect(detail!.responseBody).toMatchObject({ choices: [{ message: { role: 'assistant' } }] });
    expect(detail!.requestHeaders?.authorization).toMatch(/^Bearer sy-…/);
    expect(detail!.streamEvents?.some((event) => event.type === 'text-delta')).toBe(true);
    expect(detail!.attemptDetails[0]).toMatchObject({ provider: 'openai', status: 'success' });
  });

  it('offers filter values from the log', async () => {
    const facets = await services()['requests.facets']();
    expect(facets.providers).toContain('openai');
    expect(facets.models).toContain('gpt-4.1');
    expect(facets.tags).toContain('feature:live');
    expect(facets.gatewayKeys.some((key) => key.id === 'playground')).toBe(true);
  });
});

describe('conversations, analytics and settings', () => {
  it('groups a chat into a conversation with its turns', async () => {
    const list = await services()['conversations.list']({ search: 'playground' });
    expect(list.conversations[0]?.title).toBe('from the playground');
    const detail = await services()['conversations.get']({ id: list.conversations[0]!.id });
    expect(detail?.turnsDetail[0]?.newMessages).toContainEqual({ role: 'user', content: 'from the playground' });
  });

  it('summarises, breaks down and charts the traffic', async () => {
    const range = { from: Date.now() - 3600_000, to: Date.now() + 1000 };
    const summary = await services()['analytics.summary'](range);
    expect(summary.current.requests).toBeGreaterThanOrEqual(4);
    expect(summary.current.costNanoUsd).toBeGreaterThan(0);
    expect(summary.previous.requests).toBe(0);
    const input = { ...range, bucket: 'hour' as const, timeZone: 'UTC' };
    const points = await services()['analytics.time-series'](input);
    expect(points.reduce((sum, point) => sum + point.requests, 0)).toBe(summary.current.requests);
    const cost = await services()['analytics.cost-by-model'](input);
    expect(cost.series.map((series) => series.model)).toContain('gpt-4.1');
    const totalCost = cost.series.reduce((sum, series) => sum + series.costNanoUsd.reduce((left, right) => left + right, 0), 0);
    expect(totalCost).toBe(summary.current.costNanoUsd);
    const byTag = await services()['analytics.breakdown']({ ...range, by: 'tag' });
    expect(byTag.map((row) => row.value)).toContain('source:playground');
    const byKey = await services()['analytics.breakdown']({ ...range, by: 'key' });
    expect(byKey.map((row) => row.label)).toContain('Playground');
    await expect(services()['analytics.summary']({ from: 5, to: 1 })).rejects.toThrow('from < to');
  });

  it('reports today\'s spend', async () => {
    const spend = await services()['gateway.spend-today']();
    expect(spend.requests).toBeGreaterThan(0);
    expect(spend.costNanoUsd).toBeGreaterThan(0);
  });

  it('applies an alias at once and keeps it in settings.json', async () => {
    const view = await services()['settings.update']({ aliases: { quick: 'openai/gpt-4.1-mini' } });
    expect(view.aliases).toEqual({ quick: 'openai/gpt-4.1-mini' });
    const response = await chat((await services()['playground.connection']()).key, { model: 'quick', messages: [{ role: 'user', content: 'alias' }] });
    expect(((await response.json()) as { model: string }).model).toBe('gpt-4.1-mini');
    expect(JSON.parse(readFileSync(join(dataDirectory, 'settings.json'), 'utf8')).aliases).toEqual({ quick: 'openai/gpt-4.1-mini' });
    await expect(services()['settings.update']({ port: 70000 })).rejects.toThrow('port');
  });

  it('prices an unknown model from an override', async () => {
    await services()['settings.update']({ priceOverrides: [{ key: 'ollama/*', inputPerMillion: 0, outputPerMillion: 0, cachedInputPerMillion: null }] });
    const [price] = await services()['models.prices']({ models: [{ provider: 'ollama', model: 'llama3.2' }] });
    expect(price?.inputPerMillion).toBe(0);
  });

  it('exports the log as CSV', async () => {
    const result = await services()['data.export']({ format: 'csv' });
    expect(result.requests).toBeGreaterThanOrEqual(5);
    expect(readFileSync(result.path, 'utf8').split('\n')[0]).toContain('id,startedAt');
  });

  it('says what it is', async () => {
    expect(await services()['app.information']()).toMatchObject({ mode: 'headless', dataDirectory });
    expect(await services()['app.open-data-folder']()).toEqual({ opened: false });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
