/**
 * Circuit breakers and concurrency as the services show them: a breaker opened by a real
 * failing request through the gateway (the application's own Reliability) appears in
 * providers.list and providers.circuits, a 'providers.changed' event reports it, a reset
 * closes it and traffic flows again; the concurrency limit in use is listed. The throttled
 * notices (and the one when an open circuit turns half-open by time alone) with fake timers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProviderState } from '../../src/shared/contract.js';
import { startGateway, type RunningGateway } from '../../src/main/headless.js';
import { CircuitBreakers } from '../../src/main/gateway/routing/circuit-breaker.js';
import { CircuitNotices } from '../../src/main/services/circuit-notices.js';
import { MemoryProviderKeyManager } from '../../src/main/services/key-managers.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

const OPENAI_KEY = 'sk-circuits-test-key-31f0';
let fake: OpenAIFake;
let running: RunningGateway;
let dataDirectory: string;
const changes: ProviderState[][] = [];

function services() {
  return running.application.services;
}

async function chat(content: string, model = 'gpt-4.1-mini'): Promise<Response> {
  return fetch(`${running.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
}

function openaiOf(list: ProviderState[]): ProviderState {
  return list.find((provider) => provider.id === 'openai')!;
}

beforeAll(async () => {
  fake = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY });
  dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-circuits-'));
  const configFile = join(dataDirectory, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      circuitBreaker: { failureThreshold: 1, openSeconds: 120 },
      retries: { maxRetries: 0 },
      providers: { openai: { maxConcurrent: 3, maxQueued: 5 } },
    }),
  );
  running = await startGateway({
    providerKeys: new MemoryProviderKeyManager(),
    dataDir: dataDirectory,
    configFile,
    host: '127.0.0.1',
    port: 0,
    auth: false,
    environment: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: OPENAI_KEY, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' },
  });
  running.application.events.subscribe((name, payload) => {
    if (name === 'providers.changed') changes.push(payload as ProviderState[]);
  });
});

afterAll(async () => {
  await running?.close();
  await fake?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe('circuit breakers through the services', () => {
  it('shows no circuits while nothing failed, and the concurrency limit configured', async () => {
    const list = await services()['providers.list']();
    expect(openaiOf(list)).toMatchObject({ circuits: [], concurrency: { active: 0, waiting: 0, limit: 3, queue: 5 } });
    expect(list.find((provider) => provider.id === 'anthropic')?.concurrency).toBeNull();
    expect(await services()['providers.circuits']()).toEqual([]);
    expect((await chat('all good')).status).toBe(200);
    expect(openaiOf(await services()['providers.list']()).circuits).toEqual([]);
  });

  it('a failing upstream opens the circuits of the provider and the model; list, circuits and an event show them', async () => {
    const before = Date.now();
    const failed = await chat('[error:500] please fail');
    expect(failed.status).toBe(500);
    const circuits = openaiOf(await services()['providers.list']()).circuits;
    expect(circuits.map((circuit) => [circuit.model, circuit.state])).toEqual([
      [null, 'open'],
      ['gpt-4.1-mini', 'open'],
    ]);
    const [provider] = circuits;
    expect(provider).toMatchObject({ provider: 'openai', consecutiveFailures: 1, recentFailures: 1, recentTotal: 1 });
    expect(provider!.lastError).toBeTruthy();
    expect(provider!.retryAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(provider!.retryAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(provider!.openedAt).toBeGreaterThanOrEqual(before);
    expect(await services()['providers.circuits']()).toEqual(circuits);
    // The change is reported at once (the rest of a burst within the interval folds into one more).
    await vi.waitFor(() => expect(changes.some((list) => openaiOf(list).circuits.some((circuit) => circuit.state === 'open'))).toBe(true));
    // While open, requests are refused without reaching the upstream.
    const reached = fake.requests.length;
    const refused = await chat('now refused');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(fake.requests.length).toBe(reached);
  });

  it('refuses to reset an unknown provider', async () => {
    await expect(services()['providers.reset-circuits']({ provider: 'nope' })).rejects.toMatchObject({ code: 'unknown_provider' });
  });

  it('a reset closes them, the event says so, and requests flow again', async () => {
    const seen = changes.length;
    const list = await services()['providers.reset-circuits']({ provider: 'openai' });
    expect(openaiOf(list).circuits).toEqual([]);
    expect(await services()['providers.circuits']()).toEqual([]);
    await vi.waitFor(() => expect(changes.slice(seen).some((changed) => openaiOf(changed).circuits.length === 0)).toBe(true), { timeout: 2_000 });
    expect((await chat('flowing again')).status).toBe(200);
  });

  it('resets every provider without one named', async () => {
    expect((await chat('[error:500] once more')).status).toBe(500);
    expect(await services()['providers.circuits']()).toHaveLength(2);
    const list = await services()['providers.reset-circuits']({});
    expect(list.every((provider) => provider.circuits.length === 0)).toBe(true);
    expect(await services()['providers.circuits']()).toEqual([]);
  });
});

describe('circuit notices', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('notifies the first change on the next turn and folds a burst into one more at the end of the interval', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const emit = vi.fn();
    const notices = new CircuitNotices({ emit, nextProbeAt: () => null, intervalMs: 250 });
    notices.changed();
    expect(emit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(emit).toHaveBeenCalledTimes(1);
    for (let index = 0; index < 50; index++) notices.changed();
    expect(emit).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(250);
    expect(emit).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1_000);
    expect(emit).toHaveBeenCalledTimes(2);
    notices.changed();
    vi.advanceTimersByTime(0);
    expect(emit).toHaveBeenCalledTimes(3);
    notices.close();
  });

  it('notifies once more when an open circuit turns half-open by time alone', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const breakers = new CircuitBreakers({ failureThreshold: 1, failureRate: 0.5, window: 20, minimumRequests: 10, openMs: 5_000 }, Date.now, () => notices.changed());
    const states: string[] = [];
    const notices: CircuitNotices = new CircuitNotices({
      emit: () => states.push(breakers.snapshot().map((snapshot) => snapshot.state).join(',')),
      nextProbeAt: () => {
        const open = breakers.snapshot().filter((snapshot) => snapshot.state === 'open' && snapshot.retryAt !== null && snapshot.retryAt > Date.now());
        return open.length === 0 ? null : Math.min(...open.map((snapshot) => snapshot.retryAt!));
      },
    });
    // The provider's circuit and the model's open together: one notice.
    breakers.failure('openai', 'gpt-4.1', 'HTTP 500');
    vi.advanceTimersByTime(0);
    expect(states).toEqual(['open,open']);
    vi.advanceTimersByTime(4_900);
    expect(states).toHaveLength(1);
    vi.advanceTimersByTime(200);
    expect(states).toEqual(['open,open', 'half-open,half-open']);
    // Nothing more is pending: no timer keeps firing.
    vi.advanceTimersByTime(60_000);
    expect(states).toHaveLength(2);
    notices.close();
  });

  it('sends nothing after close', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const emit = vi.fn();
    const notices = new CircuitNotices({ emit, nextProbeAt: () => Date.now() + 1_000 });
    notices.changed();
    vi.advanceTimersByTime(0);
    notices.changed();
    notices.close();
    vi.advanceTimersByTime(5_000);
    expect(emit).toHaveBeenCalledTimes(1);
  });
});
