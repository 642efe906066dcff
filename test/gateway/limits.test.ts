/**
 * Limits and budgets end to end, through the app as `serve` runs it (config file, request
 * log, gateway keys): every rule kind, exact counting under concurrency, 429s in OpenAI's
 * and Anthropic's shapes with retry-after, refused requests never reaching the upstream and
 * logged, and a day's budget that survives a restart because spend is read from the log.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/main/headless.js';
import { startAppGateway } from '../app-gateway.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

let openai: OpenAIFake;
let anthropic: AnthropicFake;
const cleanup: string[] = [];
let running: RunningGateway | null = null;

beforeAll(async () => {
  openai = await startOpenAIFake({ apiKey: 'sk-openai-limits-test' });
  anthropic = await startAnthropicFake({ apiKey: 'sk-ant-limits-test' });
});

afterAll(async () => {
  await openai?.close();
  await anthropic?.close();
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await running?.close();
  running = null;
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(dir);
  return dir;
}

async function start(limits: unknown[], dataDir = tempDir('switchyard-limits-'), extra: Record<string, unknown> = {}): Promise<{ gateway: RunningGateway; key: string; dataDir: string }> {
  const { gateway, key } = await startAppGateway({
    dataDir,
    config: { limits, ...extra },
    environment: { OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: 'sk-openai-limits-test', ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: 'sk-ant-limits-test' },
  });
  running = gateway;
  return { gateway, key, dataDir };
}

let probe = 0;
async function chat(gateway: RunningGateway, key: string, options: { headers?: Record<string, string>; user?: string; text?: string } = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const text = options.text ?? `limits probe ${++probe}`;
  const response = await fetch(`${gateway.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }], ...(options.user ? { user: options.user } : {}) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json(), text };
}

function reachedUpstream(text: string): boolean {
  return openai.requests.some((request) => JSON.stringify(request.body ?? null).includes(text));
}

async function loggedStatuses(gateway: RunningGateway): Promise<Array<{ status: string; errorMessage: string | null }>> {
  await gateway.application.context.requestLog.committed();
  const list = await gateway.application.services['requests.list']({ limit: 1000 });
  return list.items.map((item) => ({ status: item.status, errorMessage: item.errorMessage }));
}

describe('limits', () => {
  it('counts exactly under concurrency: 25 simultaneous requests against 10 per minute, 10 pass', async () => {
    const { gateway, key } = await start([{ match: {}, requestsPerMinute: 10 }]);
    const before = openai.requests.length;
    const results = await Promise.all(Array.from({ length: 25 }, () => chat(gateway, key)));
    const passed = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status === 429);
    expect(passed).toHaveLength(10);
    expect(refused).toHaveLength(15);
    expect(openai.requests.length - before).toBe(10);
    for (const result of refused) {
      expect(result.body.error.code).toBe('rate_limit_exceeded');
      expect(result.body.error.message).toContain('limit rule "every request" allows 10 requests per minute');
      const retryAfter = Number(result.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(reachedUpstream(result.text)).toBe(false);
    }
    const logged = await loggedStatuses(gateway);
    expect(logged).toHaveLength(25);
    const refusedInLog = logged.filter((entry) => entry.errorMessage?.startsWith('Rate limit exceeded: limit rule "every request"'));
    expect(refusedInLog).toHaveLength(15);
    expect(refusedInLog.every((entry) => entry.status === 'error')).toBe(true);
    expect(logged.filter((entry) => entry.status === 'success')).toHaveLength(10);
  });

  it('refuses through the openai SDK with a RateLimitError naming the rule', async () => {
    const { gateway, key } = await start([{ name: 'tiny', match: {}, requestsPerMinute: 1 }]);
    const client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one' }] });
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'two' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
    expect((error as Error).message).toContain('"tiny"');
  });

  it("answers /v1/messages refusals in Anthropic's shape", async () => {
    const { gateway, key } = await start([{ match: {}, requestsPerMinute: 1 }]);
    const client = new Anthropic({ apiKey: key, baseURL: gateway.origin, maxRetries: 0 });
    const first = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
    expect(first.type).toBe('message');
    const response = await fetch(`${gateway.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'again' }] }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.message).toContain('limit rule "every request" allows 1 requests per minute');
  });

  it('matches a gateway key by name, even one created after the rule', async () => {
    const { gateway, key } = await start([{ match: { key: 'ci-bot' }, requestsPerMinute: 1 }]);
    const ciKey = (await gateway.application.services['gateway-keys.create']({ name: 'ci-bot' })).key;
    expect((await chat(gateway, ciKey)).status).toBe(200);
    expect((await chat(gateway, ciKey)).status).toBe(429);
    // Another key is not bound by the rule.
    expect((await chat(gateway, key)).status).toBe(200);
    expect((await chat(gateway, key)).status).toBe(200);
  });

  it('matches tags from x-tags and users from the body or x-user-id', async () => {
    const { gateway, key } = await start([
      { match: { tag: 'team:web' }, requestsPerMinute: 1 },
      { match: { user: 'alice' }, requestsPerMinute: 1 },
    ]);
    expect((await chat(gateway, key, { headers: { 'x-tags': 'team:web, env:dev' } })).status).toBe(200);
    expect((await chat(gateway, key, { headers: { 'x-tags': 'team:web' } })).status).toBe(429);
    expect((await chat(gateway, key, { headers: { 'x-tags': 'team:api' } })).status).toBe(200);

    expect((await chat(gateway, key, { user: 'alice' })).status).toBe(200);
    const refused = await chat(gateway, key, { headers: { 'x-user-id': 'alice' } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('user alice');
    expect((await chat(gateway, key, { user: 'bob' })).status).toBe(200);
  });

  it('counts tokens per minute with the real usage once known', async () => {
    const { gateway, key } = await start([{ match: {}, tokensPerMinute: 60 }]);
    // Each call costs its real prompt plus completion tokens (the fake answers a few dozen).
    let passed = 0;
    let refusal: any = null;
    for (let index = 0; index < 10 && refusal === null; index += 1) {
      const result = await chat(gateway, key);
      if (result.status === 200) {
        passed += 1;
        expect(result.body.usage.total_tokens).toBeGreaterThan(0);
      } else refusal = result;
    }
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThan(10);
    expect(refusal.status).toBe(429);
    expect(refusal.body.error.code).toBe('rate_limit_exceeded');
    expect(refusal.body.error.message).toContain('60 tokens per minute');
    const view = await gateway.application.services['limits.get'](undefined);
    expect(view.usage[0]!.tokensThisMinute).toBeGreaterThan(0);
  });

  it('refuses once a day budget is spent, and still after a restart (spend read from the log)', async () => {
    const limits = [{ name: 'daily', match: {}, usdPerDay: '0.000001', usdPerMonth: '100' }];
    const first = await start(limits);
    expect((await chat(first.gateway, first.key)).status).toBe(200);
    const refused = await chat(first.gateway, first.key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('budget_exceeded');
    expect(refused.body.error.message).toContain('limit rule "daily" allows $0.000001 per day');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400 + 3_600);
    const spent = (await first.gateway.application.services['limits.get'](undefined)).usage[0]!;
    expect(spent.spentTodayNanoUsd).toBeGreaterThan(1_000);
    expect(spent.spentThisMonthNanoUsd).toBe(spent.spentTodayNanoUsd);
    await first.gateway.close();
    running = null;

    const second = await start(limits, first.dataDir);
    const again = await chat(second.gateway, second.key);
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('budget_exceeded');
    expect(reachedUpstream(again.text)).toBe(false);
    const view = (await second.gateway.application.services['limits.get'](undefined)).usage[0]!;
    expect(view.spentTodayNanoUsd).toBe(spent.spentTodayNanoUsd);
  });

  it('applies rules changed in Settings at once and keeps them', async () => {
    const { gateway, key } = await start([]);
    expect((await chat(gateway, key)).status).toBe(200);
    const view = await gateway.application.services['limits.update']({ rules: [{ match: {}, requestsPerMinute: 1 }] });
    expect(view.rules).toEqual([{ match: {}, requestsPerMinute: 1 }]);
    expect((await chat(gateway, key)).status).toBe(200);
    expect((await chat(gateway, key)).status).toBe(429);
    await expect(gateway.application.services['limits.update']({ rules: [{ requestsPerMinute: 0 }] })).rejects.toThrow('limits[0].requestsPerMinute must be a whole number');
  });
});

describe('the response cache in the app', () => {
  it('answers a repeated prompt from the cache after the limits, shows hits and savings, and clears', async () => {
    const { gateway, key } = await start([{ match: {}, requestsPerMinute: 3 }], undefined, { cache: { enabled: true, ttlSeconds: 60 } });
    const services = gateway.application.services;
    const first = await chat(gateway, key, { text: 'the same prompt' });
    expect(first.headers.get('x-switchyard-cache')).toBe('miss');
    const second = await chat(gateway, key, { text: 'the same prompt' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.body.choices[0].message.content).toBe(first.body.choices[0].message.content);
    expect(openai.requests.filter((request) => JSON.stringify(request.body ?? null).includes('the same prompt'))).toHaveLength(1);
    const view = await services['cache.get'](undefined);
    expect(view).toMatchObject({ enabled: true, ttlSeconds: 60, entries: 1, hits: 1, misses: 1, loggedHits30d: 1 });
    expect(view.savedNanoUsd30d).toBeGreaterThan(0);
    // A hit is still a request the limits count: the third request passes, the fourth is refused.
    expect((await chat(gateway, key, { text: 'the same prompt' })).headers.get('x-switchyard-cache')).toBe('hit');
    expect((await chat(gateway, key, { text: 'the same prompt' })).status).toBe(429);
    expect(await services['cache.clear'](undefined)).toMatchObject({ entries: 0, hits: 0, misses: 0 });
  });
});
