/**
 * Two gateway instances sharing one Redis, each started as `serve` starts it (its own data
 * folder): a limit counted exactly across both, a cache hit on one for an answer the other
 * gave, a circuit opened on one seen by the other, and Redis going away (requests still
 * answered, each record saying it was counted alone; the status says so) and coming back on
 * the same port (shared again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/main/headless.js';
import { startAppGateway } from '../app-gateway.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/throwaway-redis.js';

const API_KEY = 'sk-openai-team-redis';
let openai: OpenAIFake;
let redis: ThrowawayRedis | null = null;
const folders: string[] = [];
let running: RunningGateway[] = [];

beforeAll(async () => {
  openai = await startOpenAIFake({ apiKey: API_KEY });
});

afterEach(async () => {
  for (const gateway of running) await gateway.close();
  running = [];
  await redis?.stop();
  redis = null;
});

afterAll(async () => {
  await openai?.close();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

interface Instance {
  gateway: RunningGateway;
  key: string;
}

/** Two instances on one Redis, with the same config; the key of each is its own (each has its own data folder). */
async function startPair(config: Record<string, unknown>): Promise<[Instance, Instance]> {
  redis = await startThrowawayRedis();
  const start = async (): Promise<Instance> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-team-redis-'));
    folders.push(dataDir);
    const { gateway, key } = await startAppGateway({
      dataDir,
      config,
      // Generous: on a busy test machine a blocked event loop must not turn a slow answer into a fallback.
      environment: { OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: API_KEY, SWITCHYARD_REDIS_URL: redis!.url, SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS: '5000' },
    });
    running.push(gateway);
    return { gateway, key };
  };
  return [await start(), await start()];
}

let probe = 0;
async function chat(instance: Instance, text = `team redis probe ${++probe}`, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${instance.gateway.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${instance.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function warningsOf(instance: Instance, id: string): Promise<string[]> {
  await instance.gateway.application.context.requestLog.committed();
  const detail = await instance.gateway.application.services['requests.get']({ id });
  return (detail?.warnings ?? []).map((warning) => warning.message);
}

/** Waits (bounded) until the condition holds; the assertion that follows says what was expected. */
async function eventually(condition: () => boolean | Promise<boolean>, attempts = 100): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('two gateways sharing one Redis', () => {
  it('counts a limit exactly across both: 25 simultaneous requests split over two instances against 10 per minute, 10 pass', async () => {
    const [first, second] = await startPair({ limits: [{ match: {}, requestsPerMinute: 10 }] });
    const before = openai.requests.length;
    const results = await Promise.all(Array.from({ length: 25 }, (_, index) => chat(index % 2 === 0 ? first : second)));
    expect(results.filter((result) => result.status === 200)).toHaveLength(10);
    const refused = results.filter((result) => result.status === 429);
    expect(refused).toHaveLength(15);
    expect(refused[0]!.body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_exceeded' });
    expect(openai.requests.length - before).toBe(10);
    // Both instances served some of the 10 and both see the shared count.
    for (const instance of [first, second]) {
      const view = await instance.gateway.application.services['limits.get'](undefined);
      expect(view.usage[0]!.requestsThisMinute).toBe(10);
      expect(view.sharedState).toMatchObject({ backend: 'redis', state: 'connected', url: redis!.url });
    }
  });

  it("counts budget spend across both at once: A's spend refuses B's next request, though B's own log is empty", async () => {
    // Each instance has its own SQLite log here, so only Redis can tell B what A spent.
    const [first, second] = await startPair({ limits: [{ match: {}, usdPerDay: 0.000001 }] });
    expect((await chat(first)).status).toBe(200);
    const spentOn = async (instance: Instance): Promise<number> => (await instance.gateway.application.services['limits.get'](undefined)).usage[0]!.spentTodayNanoUsd;
    // The spend is added once the answer is written: B asks until it is there (bounded).
    await eventually(async () => (await spentOn(second)) > 0);
    expect(await spentOn(second)).toBeGreaterThan(1000);
    expect(await spentOn(second)).toBe(await spentOn(first));
    const refused = await chat(second);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'budget_exceeded' });
  });

  it('answers on instance B from the cache an answer instance A gave', async () => {
    const [first, second] = await startPair({ cache: { enabled: true, ttlSeconds: 600 } });
    const text = `cache across instances ${Date.now()}`;
    const given = await chat(first, text);
    expect(given.status).toBe(200);
    expect(given.headers.get('x-switchyard-cache')).toBe('miss');
    const before = openai.requests.length;
    // The store is written after the answer: B asks until it is there (bounded).
    let hit = await chat(second, text);
    for (let attempt = 0; attempt < 20 && hit.headers.get('x-switchyard-cache') !== 'hit'; attempt += 1) hit = await chat(second, text);
    expect(hit.headers.get('x-switchyard-cache')).toBe('hit');
    expect(hit.body.choices[0].message.content).toBe(given.body.choices[0].message.content);
    expect(openai.requests.length - before).toBeLessThanOrEqual(1);
    expect((await second.gateway.application.services['cache.get'](undefined)).entries).toBe(1);
  });

  it('opens on B a circuit opened on A, without B calling the failing upstream', async () => {
    const [first, second] = await startPair({ circuitBreaker: { failureThreshold: 2, openSeconds: 120 } });
    for (let index = 0; index < 2; index += 1) expect((await chat(first, `[error:500] breaker ${index}`)).status).toBe(500);
    const open = (instance: Instance): boolean => instance.gateway.application.reliability.breakers.snapshot().some((circuit) => circuit.provider === 'openai' && circuit.model === null && circuit.state === 'open');
    expect(open(first)).toBe(true);
    await eventually(() => open(second));
    expect(open(second)).toBe(true);
    const before = openai.requests.length;
    const refused = await chat(second);
    expect(refused.status).toBe(503);
    expect(openai.requests.length).toBe(before);
    // A third instance started now reads the open circuit from Redis.
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-team-redis-'));
    folders.push(dataDir);
    const third = await startAppGateway({ dataDir, config: { circuitBreaker: { failureThreshold: 2, openSeconds: 120 } }, environment: { OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: API_KEY, SWITCHYARD_REDIS_URL: redis!.url } });
    running.push(third.gateway);
    await eventually(() => open(third));
    expect(open(third)).toBe(true);
    // Closing it on A (Providers → reset) closes it on B too.
    await first.gateway.application.services['providers.reset-circuits']({ provider: 'openai' });
    await eventually(() => !open(second));
    expect(open(second)).toBe(false);
    expect((await chat(second)).status).toBe(200);
  });

  it('keeps answering while Redis is down, each record saying so, and shares again once Redis is back on its port', async () => {
    const [first, second] = await startPair({ limits: [{ match: {}, requestsPerMinute: 3 }], cache: { enabled: true } });
    const port = redis!.port;
    expect((await chat(first)).status).toBe(200);
    await redis!.stop();
    await eventually(() => !first.gateway.application.context.sharedState.status().state.startsWith('connected'));
    const status = (await first.gateway.application.services['gateway.status'](undefined)).sharedState;
    expect(status).toMatchObject({ backend: 'redis', state: 'unreachable' });
    expect(status!.message).toMatch(/unreachable.*counted by this instance alone/);
    expect((await first.gateway.application.services['limits.get'](undefined)).sharedState.state).toBe('unreachable');

    // Each instance now counts alone: 3 per minute on each, so 3 pass on B although A used one before.
    const down = await Promise.all([chat(second), chat(second), chat(second), chat(second)]);
    expect(down.map((result) => result.status).sort(), `while down: ${JSON.stringify(down.map((result) => [result.status, result.headers.get('x-switchyard-warnings')]))}`).toEqual([200, 200, 200, 429]);
    const answered = down.find((result) => result.status === 200)!;
    expect(answered.headers.get('x-switchyard-warnings')).toBe('2');
    expect(answered.headers.get('x-switchyard-cache')).toBe('miss');
    const id = answered.headers.get('x-switchyard-request-id')!;
    expect(await warningsOf(second, id)).toEqual([
      expect.stringMatching(/^Redis \(redis:\/\/127\.0\.0\.1:\d+\) is unreachable: limits and budgets were counted by this gateway instance alone/),
      expect.stringMatching(/^Redis \(redis:\/\/127\.0\.0\.1:\d+\) is unreachable: the response cache was this gateway instance's own/),
    ]);
    // The fallback cache still answers a repeat on the same instance.
    const repeated = await chat(first, 'asked twice while Redis is down');
    expect((await chat(first, 'asked twice while Redis is down')).headers.get('x-switchyard-cache')).toBe(repeated.status === 200 ? 'hit' : 'miss');

    // Back on the same port (empty: it kept nothing): both use it again, and count together.
    redis = await startThrowawayRedis({ port });
    await eventually(() => first.gateway.application.context.sharedState.status().state === 'connected' && second.gateway.application.context.sharedState.status().state === 'connected');
    expect(second.gateway.application.context.sharedState.status().state).toBe('connected');
    const again = await Promise.all([chat(first), chat(second), chat(first), chat(second)]);
    expect(again.map((result) => result.status).sort(), `back: ${JSON.stringify(again.map((result) => [result.status, result.headers.get('x-switchyard-warnings')]))}`).toEqual([200, 200, 200, 429]);
    expect((await first.gateway.application.services['limits.get'](undefined)).usage[0]!.requestsThisMinute).toBe(3);
    const shared = again.find((result) => result.status === 200)!;
    expect(shared.headers.get('x-switchyard-warnings')).toBeNull();
  });
});

describe('the Redis URL', () => {
  it('is refused at start, naming the variable, when it is not redis:// (and the desktop app ignores it)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-team-redis-'));
    folders.push(dataDir);
    await expect(startAppGateway({ dataDir, environment: { SWITCHYARD_REDIS_URL: 'http://127.0.0.1:6379' } })).rejects.toThrow(/SWITCHYARD_REDIS_URL: the Redis URL must start with redis:\/\/ or rediss:\/\//);
    await expect(startAppGateway({ dataDir, environment: { SWITCHYARD_REDIS_URL: 'redis://127.0.0.1:6379', SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS: 'soon' } })).rejects.toThrow(/SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS must be a whole number/);
  });

  it('with nothing listening: the gateway starts and answers at once, in process, saying Redis is unreachable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-team-redis-'));
    folders.push(dataDir);
    const { gateway, key } = await startAppGateway({
      dataDir,
      config: { limits: [{ match: {}, requestsPerMinute: 1 }] },
      environment: { OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: API_KEY, SWITCHYARD_REDIS_URL: 'redis://:secret-password@127.0.0.1:9' },
    });
    running.push(gateway);
    const status = gateway.application.context.sharedState.status();
    expect(status).toMatchObject({ backend: 'redis', state: 'unreachable', url: 'redis://:***@127.0.0.1:9' });
    expect(JSON.stringify(await gateway.application.services['gateway.status'](undefined))).not.toContain('secret-password');
    const results = [await chat({ gateway, key }), await chat({ gateway, key })];
    expect(results.map((result) => result.status)).toEqual([200, 429]);
  });
});
