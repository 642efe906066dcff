/**
 * The response cache end to end: the real gateway with the cache policy in front of the
 * OpenAI and Anthropic fakes (which count what reaches them), driven by the official SDKs.
 * A repeated prompt is answered without an upstream call, as JSON or as a proper stream in
 * the client's format, across formats, per caller's own provider key, until its time to
 * live; the log records the hit with no cost and what it saved.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAnthropicReply, startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { defaultReplyFor, startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../helpers.js';
import { DEFAULT_CACHE_CONFIG, type CacheConfig } from '../../src/main/gateway/config.js';
import { ResponseCache } from '../../src/main/gateway/policies/response-cache.js';
import { openRequestLog, type RequestLog } from '../../src/main/storage/request-log.js';
import { getRequest } from '../../src/main/storage/request-log-queries.js';
import { exportRequests, type ExportedRequest } from '../../src/main/storage/export.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';

const OPENAI_KEY = 'sk-openai-cache-0123456789';
const ANTHROPIC_KEY = 'sk-ant-cache-0123456789';
/** Published list price of GPT-4.1 as nano-USD per token ($2 in, $0.50 cached, $8 out). */
const GPT41 = { input: 2000, cached: 500, output: 8000 };

let openai: OpenAIFake;
let anthropic: AnthropicFake;
let now = 1_000_000;
const TTL_MS = 60_000;

interface Setup {
  gateway: TestGateway;
  cache: ResponseCache;
  messages: Anthropic;
}

async function setup(config: Partial<CacheConfig>): Promise<Setup> {
  const cache = new ResponseCache({ ...DEFAULT_CACHE_CONFIG, enabled: true, ttlMs: TTL_MS, ...config }, { now: () => now });
  const gateway = await startTestGateway({
    environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url, ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url },
    policies: [cache],
  });
  return { gateway, cache, messages: new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: gateway.origin, maxRetries: 0 }) };
}

let on: Setup;
let off: Setup;
let small: Setup;

beforeAll(async () => {
  // No key check in the OpenAI fake: BYOK requests bring keys of their own.
  [openai, anthropic] = await Promise.all([startOpenAIFake({ flavor: 'openai' }), startAnthropicFake({ apiKey: ANTHROPIC_KEY })]);
  [on, off, small] = await Promise.all([setup({}), setup({ enabled: false }), setup({ maxEntries: 2 })]);
});

afterAll(async () => {
  await Promise.all([on?.gateway.close(), off?.gateway.close(), small?.gateway.close()]);
  await Promise.all([openai?.close(), anthropic?.close()]);
});

const chatCalls = (): number => openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
const messageCalls = (): number => anthropic.requests.filter((request) => request.path === '/v1/messages').length;

let counter = 0;
/** A prompt no other test asked. */
const fresh = (label: string): string => `${label} #${++counter} ${Math.random().toString(36).slice(2)}`;

async function chat(target: Setup, prompt: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const { data, response } = await target.gateway
    .client()
    .chat.completions.create({ model: 'gpt-4.1', max_tokens: 100, messages: [{ role: 'user', content: prompt }], ...extra }, { headers })
    .withResponse();
  return { data, cache: response.headers.get('x-switchyard-cache'), provider: response.headers.get('x-switchyard-provider') };
}

async function chatStream(target: Setup, prompt: string, includeUsage: boolean, headers: Record<string, string> = {}) {
  const { data: stream, response } = await target.gateway
    .client()
    .chat.completions.create({ model: 'gpt-4.1', max_tokens: 100, messages: [{ role: 'user', content: prompt }], stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }, { headers })
    .withResponse();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  return { chunks, text, cache: response.headers.get('x-switchyard-cache') };
}

async function messagesStream(target: Setup, params: Anthropic.MessageCreateParamsNonStreaming, headers: Record<string, string> = {}) {
  const { data: stream, response } = await target.messages.messages.create({ ...params, stream: true }, { headers }).withResponse();
  const events: Anthropic.RawMessageStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return { events, cache: response.headers.get('x-switchyard-cache') };
}

/** Event types with runs of the same type folded (a live upstream may split text into several deltas). */
const shape = (events: Array<{ type: string }>): string[] => events.map((event) => event.type).filter((type, index, all) => type !== all[index - 1]);

describe('response cache, OpenAI chat completions', () => {
  it('a miss goes upstream and is stored; the same prompt again is a hit with no upstream call', async () => {
    const prompt = fresh('hello cache');
    const before = chatCalls();
    const first = await chat(on, prompt);
    expect(first.cache).toBe('miss');
    expect(chatCalls()).toBe(before + 1);
    const record = on.gateway.nextRecord();
    const second = await chat(on, prompt);
    expect(second.cache).toBe('hit');
    expect(chatCalls()).toBe(before + 1);
    expect(second.provider).toBe('openai');
    // The same answer (encoded from the core, so without the upstream's own empty extras such as `annotations`), usage as the original reported it.
    expect(second.data.choices).toEqual(first.data.choices.map(({ message: { annotations: _annotations, ...message }, ...choice }) => ({ ...choice, message })));
    expect(second.data.id).toBe(first.data.id);
    expect(second.data.choices[0]!.message.content).toBe(defaultReplyFor('openai', prompt));
    const { prompt_tokens, completion_tokens, total_tokens } = first.data.usage!;
    expect(second.data.usage).toMatchObject({ prompt_tokens, completion_tokens, total_tokens });
    expect(await record).toMatchObject({ cacheHit: true, attempts: 0, status: 'success', provider: 'openai', resolvedModel: first.data.model, upstreamRequestBody: null });
    expect((await record).usage?.inputTokens).toBe(first.data.usage!.prompt_tokens);
  });

  it('a streamed hit is a proper chat stream: role, content, finish, the usage chunk when asked for, [DONE]', async () => {
    const prompt = fresh('stream me');
    const live = await chatStream(on, prompt, true);
    expect(live.cache).toBe('miss');
    const before = chatCalls();
    const replay = await chatStream(on, prompt, true);
    expect(replay.cache).toBe('hit');
    expect(chatCalls()).toBe(before);
    expect(replay.text).toBe(live.text);
    expect(replay.text).toBe(defaultReplyFor('openai', prompt));
    expect(replay.chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(replay.chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    const usage = replay.chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual(live.chunks.at(-1)!.usage);
    // Without include_usage, no usage chunk.
    const bare = await chatStream(on, prompt, false);
    expect(bare.cache).toBe('hit');
    expect(bare.chunks.every((chunk) => !chunk.usage)).toBe(true);
    expect(bare.text).toBe(live.text);
  });

  it('a JSON answer stored is replayed as a stream and a streamed one as JSON', async () => {
    const prompt = fresh('either way');
    const json = await chat(on, prompt);
    const streamed = await chatStream(on, prompt, true);
    expect(streamed.cache).toBe('hit');
    expect(streamed.text).toBe(json.data.choices[0]!.message.content);
    const other = fresh('the other way');
    await chatStream(on, other, true);
    const back = await chat(on, other);
    expect(back.cache).toBe('hit');
    expect(back.data.choices[0]!.message.content).toBe(defaultReplyFor('openai', other));
  });

  it('a parameter that changes the answer is another entry; user and stream options are not', async () => {
    const prompt = fresh('parameters');
    await chat(on, prompt);
    expect((await chat(on, prompt, {}, { temperature: 0.3 })).cache).toBe('miss');
    expect((await chat(on, prompt, {}, { seed: 7 })).cache).toBe('miss');
    expect((await chat(on, prompt, {}, { max_tokens: 101 })).cache).toBe('miss');
    expect((await chat(on, prompt, {}, { user: 'someone-else', metadata: { run: 'x' } })).cache).toBe('hit');
  });

  it('a failed answer is not stored', async () => {
    const prompt = fresh('[error:midstream] break');
    const before = chatCalls();
    await expect(chatStream(on, prompt, true)).rejects.toThrow();
    await expect(chatStream(on, prompt, true)).rejects.toThrow();
    expect(chatCalls()).toBe(before + 2);
  });
});

describe('response cache, Anthropic messages', () => {
  it('a JSON hit and a streamed hit with exactly the event sequence of a live Anthropic stream', async () => {
    const params = { model: 'claude-haiku-4-5', max_tokens: 200, messages: [{ role: 'user' as const, content: fresh('hi claude') }] };
    const live = await messagesStream(on, params);
    expect(live.cache).toBe('miss');
    const before = messageCalls();
    const replay = await messagesStream(on, params);
    expect(replay.cache).toBe('hit');
    expect(messageCalls()).toBe(before);
    expect(shape(replay.events)).toEqual(shape(live.events));
    expect(shape(replay.events)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const text = (events: Anthropic.RawMessageStreamEvent[]): string =>
      events.map((event) => (event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : '')).join('');
    expect(text(replay.events)).toBe(text(live.events));
    const usageOf = (events: Anthropic.RawMessageStreamEvent[]) => (events.find((event) => event.type === 'message_delta') as Anthropic.RawMessageDeltaEvent).usage;
    expect(usageOf(replay.events).output_tokens).toBe(usageOf(live.events).output_tokens);
    expect((replay.events[0] as Anthropic.RawMessageStartEvent).message.usage.input_tokens).toBe((live.events[0] as Anthropic.RawMessageStartEvent).message.usage.input_tokens);

    const { data, response } = await on.messages.messages.create(params).withResponse();
    expect(response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(messageCalls()).toBe(before);
    expect(data.content).toEqual([{ type: 'text', text: text(live.events) }]);
    expect(data.stop_reason).toBe('end_turn');
  });

  it('the same prompt through /v1/chat/completions and /v1/messages shares one entry', async () => {
    const prompt = fresh('cross format');
    const before = chatCalls();
    const first = await chat(on, prompt);
    expect(first.cache).toBe('miss');
    const { data, response } = await on.messages.messages.create({ model: 'gpt-4.1', max_tokens: 100, messages: [{ role: 'user', content: prompt }] }).withResponse();
    expect(response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(chatCalls()).toBe(before + 1);
    expect(data.content).toEqual([{ type: 'text', text: first.data.choices[0]!.message.content }]);
    expect(data.usage.output_tokens).toBe(first.data.usage!.completion_tokens);
    // …and the other way round, streamed: a Claude answer asked for again through chat completions.
    const claude = fresh('claude first');
    const anthropicBefore = messageCalls();
    await on.messages.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: claude }] });
    const replay = await on.gateway
      .client()
      .chat.completions.create({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: claude }], stream: true })
      .withResponse();
    expect(replay.response.headers.get('x-switchyard-cache')).toBe('hit');
    let text = '';
    for await (const chunk of replay.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(defaultAnthropicReply(claude));
    expect(messageCalls()).toBe(anthropicBefore + 1);
  });
});

describe('response cache, OpenAI Responses', () => {
  it('the same prompt through /v1/responses hits the entry chat completions made, JSON and streamed', async () => {
    const prompt = fresh('responses');
    const before = chatCalls();
    const first = await chat(on, prompt);
    expect(first.cache).toBe('miss');
    const answer = first.data.choices[0]!.message.content;
    const json = await on.gateway.client().responses.create({ model: 'gpt-4.1', max_output_tokens: 100, input: prompt }).withResponse();
    expect(json.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(json.data.output_text).toBe(answer);
    expect(json.data.usage?.output_tokens).toBe(first.data.usage!.completion_tokens);
    const streamed = await on.gateway.client().responses.create({ model: 'gpt-4.1', max_output_tokens: 100, input: prompt, stream: true }).withResponse();
    expect(streamed.response.headers.get('x-switchyard-cache')).toBe('hit');
    const types: string[] = [];
    let text = '';
    for await (const event of streamed.data) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(text).toBe(answer);
    expect(chatCalls()).toBe(before + 1);
  });
});

describe('per request control', () => {
  it('off skips the cache, refresh asks the upstream and stores its answer', async () => {
    const prompt = fresh('control');
    const before = chatCalls();
    await chat(on, prompt);
    expect((await chat(on, prompt, { 'x-switchyard-cache': 'off' })).cache).toBe('off');
    expect(chatCalls()).toBe(before + 2);
    expect((await chat(on, prompt, { 'x-switchyard-cache': 'refresh' })).cache).toBe('miss');
    expect(chatCalls()).toBe(before + 3);
    expect((await chat(on, prompt)).cache).toBe('hit');
    expect(chatCalls()).toBe(before + 3);
  });

  it('with the cache off in the configuration, a request may still ask for it with on', async () => {
    const prompt = fresh('opt in');
    const before = chatCalls();
    expect((await chat(off, prompt)).cache).toBe('off');
    expect((await chat(off, prompt)).cache).toBe('off');
    expect((await chat(off, prompt, { 'x-switchyard-cache': 'on' })).cache).toBe('miss');
    expect((await chat(off, prompt, { 'x-switchyard-cache': 'on' })).cache).toBe('hit');
    expect(chatCalls()).toBe(before + 3);
  });

  it('a request with its own provider key never shares another caller’s entry', async () => {
    const prompt = fresh('byok');
    const before = chatCalls();
    expect((await chat(on, prompt)).cache).toBe('miss');
    expect((await chat(on, prompt, { 'x-provider-api-key': 'sk-caller-a-0123456789' })).cache).toBe('miss');
    expect((await chat(on, prompt, { 'x-provider-api-key': 'sk-caller-b-0123456789' })).cache).toBe('miss');
    expect((await chat(on, prompt, { 'x-provider-api-key': 'sk-caller-a-0123456789' })).cache).toBe('hit');
    expect((await chat(on, prompt)).cache).toBe('hit');
    expect(chatCalls()).toBe(before + 3);
    expect(openai.requests.at(-1)!.headers.authorization).toBe('Bearer sk-caller-b-0123456789');
  });

  it('an entry expires after its time to live', async () => {
    const prompt = fresh('ttl');
    await chat(on, prompt);
    now += TTL_MS - 1;
    expect((await chat(on, prompt)).cache).toBe('hit');
    now += 1;
    expect((await chat(on, prompt)).cache).toBe('miss');
    expect((await chat(on, prompt)).cache).toBe('hit');
  });

  it('a full cache evicts the least recently used entry', async () => {
    const [a, b, c] = [fresh('lru a'), fresh('lru b'), fresh('lru c')];
    await chat(small, a);
    await chat(small, b);
    expect((await chat(small, a)).cache).toBe('hit');
    await chat(small, c);
    expect((await small.cache.stats()).entries).toBe(2);
    expect((await chat(small, a)).cache).toBe('hit');
    expect((await chat(small, c)).cache).toBe('hit');
    expect((await chat(small, b)).cache).toBe('miss');
  });

  it('stats count hits and misses; clear empties the store', async () => {
    const prompt = fresh('stats');
    await small.cache.clear();
    await chat(small, prompt);
    await chat(small, prompt);
    expect(await small.cache.stats()).toMatchObject({ enabled: true, ttlSeconds: 60, entries: 1, hits: 1, misses: 1, maxEntries: 2 });
    expect((await small.cache.stats()).bytes).toBeGreaterThan(0);
    await small.cache.clear();
    expect(await small.cache.stats()).toMatchObject({ entries: 0, bytes: 0, hits: 0, misses: 0 });
    expect((await chat(small, prompt)).cache).toBe('miss');
  });
});

describe('a hit in the request log', () => {
  let log: RequestLog;
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'switchyard-cache-log-'));
    log = openRequestLog(directory, { flushIntervalMs: 5 });
  });

  afterAll(async () => {
    await log?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function logged(call: () => Promise<unknown>): Promise<RequestRecord> {
    const recorded = on.gateway.nextRecord();
    await call();
    const record = await recorded;
    log.observer.requestFinished(record);
    await log.committed();
    return record;
  }

  it('costs nothing, saves what the original cost, and is in the export', async () => {
    const prompt = fresh('logged');
    let usage!: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
    const miss = await logged(async () => {
      usage = (await chat(on, prompt)).data.usage as typeof usage;
    });
    const hit = await logged(() => chatStream(on, prompt, true));
    const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
    const cost = (usage.prompt_tokens - cached) * GPT41.input + cached * GPT41.cached + usage.completion_tokens * GPT41.output;

    const original = getRequest(log.database, miss.id)!;
    expect(original.summary.costNanoUsd).toBe(cost);
    const stored = getRequest(log.database, hit.id)!;
    expect(stored.summary).toMatchObject({ status: 'success', stream: true, provider: 'openai', costNanoUsd: 0, priced: true, attempts: 0 });
    expect(stored.responseBody).toMatchObject({ choices: [{ message: { content: defaultReplyFor('openai', prompt) } }] });
    const row = log.database.prepare('SELECT cache_hit, cache_savings_nano_usd, cost_nano_usd FROM requests WHERE id = ?').get(hit.id);
    expect(row).toEqual({ cache_hit: 1, cache_savings_nano_usd: cost, cost_nano_usd: 0 });
    expect(log.database.prepare('SELECT count(*) FROM attempts a JOIN requests r ON r.seq = a.request_seq WHERE r.id = ?').pluck().get(hit.id)).toBe(0);

    let text = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    await exportRequests(log.database, { format: 'jsonl' }, sink);
    const exported = text.trim().split('\n').map((line) => JSON.parse(line) as ExportedRequest);
    expect(exported.find((request) => request.id === hit.id)).toMatchObject({ cacheHit: true, costNanoUsd: 0, cacheSavingsNanoUsd: cost });
    expect(exported.find((request) => request.id === miss.id)).toMatchObject({ cacheHit: false, costNanoUsd: cost, cacheSavingsNanoUsd: 0 });
  });
});
