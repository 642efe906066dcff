/**
 * The attempt loop end to end: real provider fakes behind a fault-injecting proxy that
 * fails on cue, the openai SDK as a client that makes no retries of its own, and the
 * gateway's retries, timeouts, fallbacks, circuit breakers and concurrency gates between.
 */
import { readFileSync } from 'node:fs';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicFake, type ProviderFake } from '../fakes/anthropic-fake.js';
import { startFaultProxy, type FaultProxy } from '../fakes/fault-proxy.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { startTestGateway, type TestGateway } from '../helpers.js';
import { loadConfig, type ConfigFile } from '../../src/main/gateway/config.js';
import { parseSse, post } from './support.js';

const OPENAI_KEY = 'sk-openai-attempts-0123456789';
const ANTHROPIC_KEY = 'sk-ant-attempts-0123456789';

let openai: OpenAIFake;
let anthropic: ProviderFake;
const proxies: FaultProxy[] = [];
const gateways: TestGateway[] = [];

beforeAll(async () => {
  openai = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY });
  anthropic = await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
});

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await openai.close();
  await anthropic.close();
});

interface Setup {
  gateway: TestGateway;
  client: OpenAI;
  openaiProxy: FaultProxy;
  anthropicProxy: FaultProxy;
}

/** A gateway whose OpenAI and Anthropic providers sit behind fault proxies of their own. */
async function setup(file: ConfigFile = {}): Promise<Setup> {
  const openaiProxy = await startFaultProxy(openai.url);
  const anthropicProxy = await startFaultProxy(anthropic.url);
  proxies.push(openaiProxy, anthropicProxy);
  const gateway = await startTestGateway({
    environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openaiProxy.url, ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropicProxy.url },
    file: { retries: { maxRetries: 2, baseDelayMs: 20, maxDelayMs: 200, maxTotalWaitMs: 2_000 }, circuitBreaker: { failureThreshold: 1000, minimumRequests: 1000, window: 1000 }, ...file },
  });
  gateways.push(gateway);
  return { gateway, client: gateway.client({ maxRetries: 0 }), openaiProxy, anthropicProxy };
}

const ask = (client: OpenAI, model: string, text = 'hello there') => client.chat.completions.create({ model, messages: [{ role: 'user', content: text }] });

describe('retries', () => {
  it('a 429 with retry-after-ms is waited out and retried; the client sees one success and the log the trail', async () => {
    const { gateway, client, openaiProxy } = await setup();
    openaiProxy.fail({ status: 429, headers: { 'retry-after-ms': '150' }, body: { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } } });
    const recorded = gateway.nextRecord();
    const started = Date.now();
    const reply = await ask(client, 'gpt-4.1');
    expect(reply.choices[0]!.message.content).toContain('Hello from openai');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(openaiProxy.log.map((entry) => entry.fault && 'status' in entry.fault ? entry.fault.status : 'ok')).toEqual([429, 'ok']);
    const record = await recorded;
    expect(record.status).toBe('success');
    expect(record.attempts).toBe(2);
    expect(record.attemptsDetail!.map((attempt) => [attempt.provider, attempt.httpStatus, attempt.status])).toEqual([
      ['openai', 429, 'error'],
      ['openai', 200, 'success'],
    ]);
  });

  it('a 500 once and a reset connection once are retried; the third answer serves', async () => {
    const { gateway, client, openaiProxy } = await setup();
    openaiProxy.fail({ status: 500 }, { reset: true });
    const recorded = gateway.nextRecord();
    const reply = await ask(client, 'gpt-4.1');
    expect(reply.choices[0]!.finish_reason).toBe('stop');
    const record = await recorded;
    expect(record.attemptsDetail!.map((attempt) => attempt.httpStatus)).toEqual([500, 502, 200]);
    expect(record.attemptsDetail![1]!.errorMessage).toContain('closed the connection before answering');
  });

  it("Anthropic's 529 overloaded is retried, in a stream too (before its first byte)", async () => {
    const { gateway, client, anthropicProxy } = await setup();
    const overloaded = { status: 529, headers: { 'retry-after': '0' }, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } };
    anthropicProxy.fail(overloaded);
    const reply = await ask(client, 'claude-sonnet-4-6');
    expect(reply.choices[0]!.message.content).toBeTruthy();
    anthropicProxy.fail(overloaded);
    const recorded = gateway.nextRecord();
    const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-6', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    const record = await recorded;
    expect(record.attemptsDetail!.map((attempt) => attempt.httpStatus)).toEqual([529, 200]);
  });

  it('a 400 is never retried', async () => {
    const { gateway, client, openaiProxy } = await setup();
    openaiProxy.fail({ status: 400, body: { error: { message: 'bad thing', type: 'invalid_request_error', param: 'messages', code: null } } });
    const recorded = gateway.nextRecord();
    const error = await ask(client, 'gpt-4.1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((await recorded).attempts).toBe(1);
    expect(openaiProxy.log).toHaveLength(1);
  });

  it('retries stop at the configured count and the last error is the answer', async () => {
    const { client, openaiProxy } = await setup({ retries: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 50, maxTotalWaitMs: 500 } });
    openaiProxy.failEvery(1, { status: 503 });
    const error = await ask(client, 'gpt-4.1').catch((caught: unknown) => caught);
    expect((error as APIError).status).toBe(503);
    expect(openaiProxy.log).toHaveLength(2);
  });
});

describe('timeouts', () => {
  it('a slow first byte times out and is retried', async () => {
    const { gateway, client, openaiProxy } = await setup({ providers: { openai: { timeouts: { firstByteSeconds: 0.3 } } } });
    openaiProxy.fail({ delayMs: 2_000 });
    const recorded = gateway.nextRecord();
    const reply = await ask(client, 'gpt-4.1');
    expect(reply.choices[0]!.message.content).toContain('Hello from openai');
    const record = await recorded;
    expect(record.attemptsDetail!.map((attempt) => [attempt.httpStatus, attempt.errorType])).toEqual([
      [504, 'timeout_error'],
      [200, null],
    ]);
  });

  it('a stream that stalls after its first bytes ends with a 504 error frame and is not retried', async () => {
    const { gateway, openaiProxy } = await setup({ providers: { openai: { timeouts: { idleSeconds: 0.3 } } } });
    openaiProxy.fail({ stallAfterBytes: 200 });
    const recorded = gateway.nextRecord();
    const response = await post(gateway, '/v1/chat/completions', { model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    const frames = parseSse(response.text);
    expect(frames.at(-1)).toMatchObject({ error: { code: 'upstream_timeout' } });
    const record = await recorded;
    expect(record.httpStatus).toBe(504);
    expect(record.attempts).toBe(1);
    expect(openaiProxy.log).toHaveLength(1);
  });

  it('the total timeout bounds a whole attempt, body included', async () => {
    const { gateway, openaiProxy } = await setup({ retries: { maxRetries: 0 }, providers: { openai: { timeouts: { totalSeconds: 0.4 } } } });
    const recorded = gateway.nextRecord();
    // [slow] streams one chunk every 20 ms for seconds: the total timeout ends it.
    const response = await post(gateway, '/v1/chat/completions', { model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: '[slow] hi' }] });
    const frames = parseSse(response.text);
    expect(frames.at(-1)).toMatchObject({ error: { code: 'upstream_timeout' } });
    expect((frames.at(-1) as { error: { message: string } }).error.message).toContain('total timeout');
    expect((await recorded).httpStatus).toBe(504);
    expect(openaiProxy.log).toHaveLength(1);
  });
});

describe('fallbacks', () => {
  it('an alias chain serves from the next provider when the first keeps failing, and says which model answered', async () => {
    const { gateway, anthropicProxy } = await setup({ retries: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 20, maxTotalWaitMs: 200 }, aliases: { smart: ['claude-sonnet-4-6', 'gpt-4.1'] } });
    anthropicProxy.failEvery(1, { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const recorded = gateway.nextRecord();
    const response = await post(gateway, '/v1/chat/completions', { model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    expect(response.headers['x-switchyard-provider']).toBe('openai');
    expect(response.headers['x-switchyard-model']).toBe('gpt-4.1');
    expect(response.json.model).toBe('gpt-4.1');
    const record = await recorded;
    expect(record.requestedModel).toBe('smart');
    expect(record.resolvedModel).toBe('gpt-4.1');
    expect(record.provider).toBe('openai');
    expect(record.attemptsDetail!.map((attempt) => [attempt.provider, attempt.model, attempt.httpStatus])).toEqual([
      ['anthropic', 'claude-sonnet-4-6', 529],
      ['anthropic', 'claude-sonnet-4-6', 529],
      ['openai', 'gpt-4.1', 200],
    ]);
  });

  it('a 401 from the first candidate is the answer: fallbacks are for failures a retry could fix', async () => {
    const { anthropicProxy, client } = await setup({ fallbacks: { 'claude-sonnet-4-6': ['gpt-4.1'] } });
    anthropicProxy.fail({ status: 401, body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } });
    const error = await ask(client, 'claude-sonnet-4-6').catch((caught: unknown) => caught);
    expect((error as APIError).status).toBe(401);
  });

  it('a fault run: one upstream fails half its requests, and with a fallback no client sees a failure', async () => {
    const { gateway, client, anthropicProxy } = await setup({
      retries: { maxRetries: 0 },
      fallbacks: { 'claude-sonnet-4-6': ['gpt-4.1'] },
      circuitBreaker: { failureThreshold: 1000, minimumRequests: 1000, window: 1000 },
    });
    anthropicProxy.failEvery(2, { status: 500, body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } });
    const total = 60;
    const results: Array<'ok' | 'failed'> = [];
    const workers = Array.from({ length: 6 }, async (_, worker) => {
      for (let index = worker; index < total; index += 6) {
        try {
          const reply = await ask(client, 'claude-sonnet-4-6', `request ${index}`);
          results.push(reply.choices[0]!.message.content ? 'ok' : 'failed');
        } catch {
          results.push('failed');
        }
      }
    });
    await Promise.all(workers);
    expect(results.filter((result) => result === 'ok')).toHaveLength(total);
    const failedUpstream = anthropicProxy.log.filter((entry) => entry.fault !== null).length;
    expect(failedUpstream).toBeGreaterThanOrEqual(total / 2 - 1);
    const served = gateway.records.filter((record) => record.provider === 'openai').length;
    expect(served).toBe(failedUpstream);
  });
});

describe('circuit breakers', () => {
  it('opens after repeated failures: the next request skips the provider for its fallback, and without one gets a 503 with retry-after', async () => {
    const { gateway, client, anthropicProxy } = await setup({
      retries: { maxRetries: 0 },
      fallbacks: { 'claude-sonnet-4-6': ['gpt-4.1'] },
      circuitBreaker: { failureThreshold: 2, openSeconds: 60 },
    });
    anthropicProxy.failEvery(1, { status: 503, body: { type: 'error', error: { type: 'api_error', message: 'unavailable' } } });
    for (let i = 0; i < 2; i++) await ask(client, 'claude-sonnet-4-6');
    expect(anthropicProxy.log).toHaveLength(2);
    const recorded = gateway.nextRecord();
    const reply = await ask(client, 'claude-sonnet-4-6');
    expect(reply.model).toBe('gpt-4.1');
    expect(anthropicProxy.log).toHaveLength(2);
    const record = await recorded;
    expect(record.attemptsDetail![0]).toMatchObject({ provider: 'anthropic', errorType: 'circuit_open' });
    // Another model of the same provider, with no fallback: its circuit (the provider's) is open too.
    const refused = await post(gateway, '/v1/chat/completions', { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('circuit_open');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(anthropicProxy.log).toHaveLength(2);
  });
});

describe('circuit scope', () => {
  it("Anthropic's 529 overloaded opens that model's circuit only, though the client sees a 503", async () => {
    const { client, anthropicProxy } = await setup({ retries: { maxRetries: 0 }, circuitBreaker: { failureThreshold: 1, openSeconds: 60 } });
    anthropicProxy.fail({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const first = await ask(client, 'claude-sonnet-4-6').catch((caught: unknown) => caught);
    expect((first as APIError).status).toBe(503);
    const second = await ask(client, 'claude-sonnet-4-6').catch((caught: unknown) => caught);
    expect((second as APIError).status).toBe(503);
    expect(((second as APIError).error as { code?: string }).code).toBe('circuit_open');
    expect(anthropicProxy.log).toHaveLength(1);
    const other = await ask(client, 'claude-haiku-4-5');
    expect(other.choices[0]!.message.content).toBeTruthy();
  });
});

describe('concurrency limits', () => {
  it('a full queue answers 429 with retry-after, and the slot frees when the stream ends', async () => {
    const { gateway, client } = await setup({ providers: { openai: { maxConcurrent: 1, maxQueued: 0 } } });
    const controller = new AbortController();
    const slow = await client.chat.completions.create({ model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: '[slow] hi' }] }, { signal: controller.signal });
    const iterator = slow[Symbol.asyncIterator]();
    await iterator.next();
    const refused = await post(gateway, '/v1/chat/completions', { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('provider_concurrency_limit');
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    const cancelled = gateway.nextRecord();
    controller.abort();
    await iterator.next().catch(() => undefined);
    expect((await cancelled).status).toBe('cancelled');
    const reply = await ask(client, 'gpt-4.1-mini');
    expect(reply.choices[0]!.message.content).toContain('Hello from openai');
  }, 30_000);
});

describe('the README', () => {
  it('its fallback config example loads and names a chain', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((block) => block.includes('fallback'));
    expect(blocks.length).toBeGreaterThan(0);
    const config = loadConfig({ file: JSON.parse(blocks[0]!) as ConfigFile, environment: {} });
    const chains = Object.values(config.fallbacks);
    expect(chains.some((chain) => chain.length >= 1)).toBe(true);
  });
});
