/**
 * The real gateway in front of the Anthropic fake (which validates every request as strictly as
 * the real API), driven by the official `openai` SDK, streaming and not. After every test the
 * fake must have rejected nothing.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_ANTHROPIC_MODELS,
  THINKING_TEXT,
  TOOL_PREAMBLE,
  anthropicUsageFor,
  countWords,
  startAnthropicFake,
  type ProviderFake,
  type RecordedRequest,
} from '../../fakes/anthropic-fake.js';
import { startTestGateway, type TestGateway } from '../../helpers.js';

const API_KEY = 'sk-ant-integration-0123456789';
const MODEL = 'claude-sonnet-4-5';
const RESOLVED = 'claude-sonnet-4-5-20250929';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]).toString('base64');

const WEATHER: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const CLOCK: OpenAI.Chat.Completions.ChatCompletionTool = { type: 'function', function: { name: 'get_time' } };

let fake: ProviderFake;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY });
  gateway = await startTestGateway({ environment: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: fake.url } });
  client = gateway.client();
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
});

afterEach(() => {
  // Drained per test, so a rejection fails the test that caused it and no other.
  const rejected = fake.rejected.splice(0);
  expect(rejected).toEqual([]);
});

// ───────────── helpers ─────────────

type Params = Record<string, unknown> & { messages: unknown[] };

/** What a client ends up with, whether it streamed or not. */
interface Outcome {
  id: string;
  model: string;
  content: string | null;
  reasoning_content?: string;
  thinking_blocks?: Array<Record<string, unknown>>;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  finish_reason: string | null;
  usage: OpenAI.CompletionUsage | undefined;
  headers: Headers;
}

async function complete(params: Params): Promise<Outcome> {
  const { data, response } = await client.chat.completions
    .create({ model: MODEL, ...params } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)
    .withResponse();
  const message = data.choices[0]!.message as unknown as Record<string, unknown>;
  const outcome: Outcome = {
    id: data.id,
    model: data.model,
    content: (message.content as string | null) ?? null,
    finish_reason: data.choices[0]!.finish_reason,
    usage: data.usage,
    headers: response.headers,
  };
  if (message.reasoning_content !== undefined) outcome.reasoning_content = message.reasoning_content as string;
  if (message.thinking_blocks !== undefined) outcome.thinking_blocks = message.thinking_blocks as Array<Record<string, unknown>>;
  if (message.tool_calls !== undefined) outcome.tool_calls = message.tool_calls as Outcome['tool_calls'];
  return outcome;
}

async function streamed(params: Params): Promise<Outcome> {
  const { data: stream, response } = await client.chat.completions
    .create({ model: MODEL, ...params, stream: true, stream_options: { include_usage: true } } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming)
    .withResponse();
  const outcome: Outcome = { id: '', model: '', content: null, finish_reason: null, usage: undefined, headers: response.headers };
  let content = '';
  let reasoning = '';
  const blocks: Array<Record<string, unknown>> = [];
  const calls: NonNullable<Outcome['tool_calls']> = [];
  for await (const chunk of stream) {
    outcome.id = chunk.id;
    outcome.model = chunk.model;
    if (chunk.usage) outcome.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    const delta = choice.delta as Record<string, unknown>;
    if (typeof delta.content === 'string') content += delta.content;
    if (typeof delta.reasoning_content === 'string') reasoning += delta.reasoning_content;
    if (Array.isArray(delta.thinking_blocks)) blocks.push(...(delta.thinking_blocks as Array<Record<string, unknown>>));
    for (const call of choice.delta.tool_calls ?? []) {
      const slot = (calls[call.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (call.id) slot.id = call.id;
      if (call.function?.name) slot.function.name = call.function.name;
      if (call.function?.arguments) slot.function.arguments += call.function.arguments;
    }
    if (choice.finish_reason) outcome.finish_reason = choice.finish_reason;
  }
  outcome.content = content.length > 0 ? content : null;
  if (reasoning.length > 0) outcome.reasoning_content = reasoning;
  if (blocks.length > 0) outcome.thinking_blocks = blocks;
  if (calls.length > 0) outcome.tool_calls = calls;
  return outcome;
}

const modes = [
  ['json', complete],
  ['stream', streamed],
] as const;

function lastUpstream(): RecordedRequest {
  const found = [...fake.requests].reverse().find((request) => request.method === 'POST' && request.path === '/v1/messages');
  if (!found) throw new Error('no upstream /v1/messages request');
  return found;
}

/** The OpenAI usage the gateway must report for the fake's answer to the last upstream request. */
function expectedUsage(body: unknown): OpenAI.CompletionUsage {
  const usage = anthropicUsageFor(body);
  const prompt = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
  const details: Record<string, number> = { cached_tokens: usage.cache_read_input_tokens };
  if (usage.cache_creation_input_tokens > 0) details.cache_write_tokens = usage.cache_creation_input_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: details,
    completion_tokens_details: { reasoning_tokens: 0 },
  } as OpenAI.CompletionUsage;
}

// ───────────── tests ─────────────

describe.each(modes)('Anthropic through the gateway (%s)', (mode, run) => {
  const streaming = mode === 'stream';

  it('answers a plain message with exact usage, the resolved model and the auth headers', async () => {
    const outcome = await run({ messages: [{ role: 'user', content: 'Hi there' }] });
    expect(outcome.content).toBe('Hello from anthropic! You said: Hi there');
    expect(outcome.finish_reason).toBe('stop');
    expect(outcome.model).toBe(RESOLVED);
    expect(outcome.id).toMatch(/^msg_/);
    // 2 words + 3 per message in; 7 words out
    expect(outcome.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
    const upstream = lastUpstream();
    expect(upstream.headers['x-api-key']).toBe(API_KEY);
    expect(upstream.headers['anthropic-version']).toBe('2023-06-01');
    expect(upstream.body.max_tokens).toBe(8192);
    expect(upstream.body.stream).toBe(streaming ? true : undefined);
  });

  it('ignores ping events between deltas', async () => {
    const outcome = await run({ messages: [{ role: 'user', content: 'Ping me [ping]' }] });
    expect(outcome.content).toBe('Hello from anthropic! You said: Ping me [ping]');
    expect(outcome.usage).toEqual(expectedUsage(lastUpstream().body));
  });

  it('sends system and developer messages as top-level system blocks, in order', async () => {
    const outcome = await run({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
        { role: 'user', content: 'Hello' },
      ],
    });
    const upstream = lastUpstream();
    expect(upstream.body.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Answer in English.' },
    ]);
    expect(upstream.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
    expect(outcome.usage).toEqual(expectedUsage(upstream.body));
  });

  it('merges consecutive same-role turns and drops empty ones', async () => {
    const outcome = await run({
      messages: [
        { role: 'user', content: 'One' },
        { role: 'user', content: 'Two' },
        { role: 'assistant', content: [{ type: 'text', text: 'Three' }, { type: 'text', text: '' }] },
        { role: 'assistant', content: 'Four' },
        { role: 'user', content: 'Five' },
        { role: 'assistant', content: '' },
        { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'Six' }] },
      ],
    });
    const roles = (lastUpstream().body.messages as Array<{ role: string }>).map((message) => message.role);
    expect(roles).toEqual(['user', 'assistant', 'user']);
    expect(outcome.content).toBe('Hello from anthropic! You said: Five Six');
  });

  it('runs a multi-turn tool conversation with parallel calls and parallel results', async () => {
    const first = await run({ tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Lisbon and Porto? [tools]' }] });
    expect(first.finish_reason).toBe('tool_calls');
    expect(first.content).toBe(TOOL_PREAMBLE);
    expect(first.tool_calls).toHaveLength(2);
    expect(first.tool_calls!.map((call) => [call.function.name, call.function.arguments])).toEqual([
      ['get_weather', '{"city":"Lisbon"}'],
      ['get_weather', '{"city":"Porto"}'],
    ]);
    for (const call of first.tool_calls!) expect(call.id).toMatch(/^toolu_/);
    expect(first.usage).toEqual(expectedUsage(lastUpstream().body));

    const second = await run({
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather in Lisbon and Porto? [tools]' },
        { role: 'assistant', content: first.content, tool_calls: first.tool_calls },
        { role: 'tool', tool_call_id: first.tool_calls![0]!.id, content: '21°C, sunny' },
        { role: 'tool', tool_call_id: first.tool_calls![1]!.id, content: [{ type: 'text', text: '18°C, cloudy' }] },
      ],
    });
    expect(second.content).toBe('Tool results: 21°C, sunny; 18°C, cloudy');
    expect(second.finish_reason).toBe('stop');
    const messages = lastUpstream().body.messages as Array<{ role: string; content: Array<{ type: string }> }>;
    expect(messages).toHaveLength(3);
    expect(messages[2]!.content.map((block) => block.type)).toEqual(['tool_result', 'tool_result']);
    expect(second.usage).toEqual(expectedUsage(lastUpstream().body));
  });

  it('a tool call without arguments comes back as "{}"', async () => {
    const outcome = await run({ tools: [CLOCK], messages: [{ role: 'user', content: 'What time is it? [tools-noargs]' }] });
    expect(outcome.finish_reason).toBe('tool_calls');
    expect(outcome.tool_calls).toEqual([{ id: expect.stringMatching(/^toolu_/), type: 'function', function: { name: 'get_time', arguments: '{}' } }]);
    expect(lastUpstream().body.tools).toEqual([{ name: 'get_time', input_schema: { type: 'object', properties: {} } }]);
  });

  it('rewrites tool-call ids Anthropic would reject, the same way on the call and on its result', async () => {
    const outcome = await run({
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'functions.get_weather:0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Faro"}' } }] },
        { role: 'tool', tool_call_id: 'functions.get_weather:0', content: 'warm' },
      ],
    });
    expect(outcome.content).toBe('Tool results: warm');
    const messages = lastUpstream().body.messages as Array<{ content: Array<{ id?: string; tool_use_id?: string }> }>;
    expect(messages[1]!.content[0]!.id).toMatch(/^functions_get_weather_0_[0-9a-f]{8}$/);
    expect(messages[2]!.content[0]!.tool_use_id).toBe(messages[1]!.content[0]!.id);
  });

  it('sends data: images as base64 (type from the bytes) and http images as url sources', async () => {
    const outcome = await run({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe.' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${JPEG}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/postcard.png' } },
          ],
        },
      ],
    });
    expect(outcome.content).toBe('Hello from anthropic! You said: Describe.');
    const blocks = (lastUpstream().body.messages as Array<{ content: Array<Record<string, unknown>> }>)[0]!.content;
    expect(blocks.slice(1).map((block) => block.source)).toEqual([
      { type: 'base64', media_type: 'image/png', data: PNG },
      { type: 'base64', media_type: 'image/jpeg', data: JPEG },
      { type: 'url', url: 'https://example.com/postcard.png' },
    ]);
  });

  it('tool_choice required → any (a tool call without the marker); parallel_tool_calls false → one call', async () => {
    const outcome = await run({ tools: [WEATHER], tool_choice: 'required', parallel_tool_calls: false, messages: [{ role: 'user', content: 'Anything' }] });
    expect(lastUpstream().body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(outcome.finish_reason).toBe('tool_calls');
    expect(outcome.tool_calls).toHaveLength(1);
  });

  it('tool_choice naming a function → tool', async () => {
    const outcome = await run({ tools: [WEATHER, CLOCK], tool_choice: { type: 'function', function: { name: 'get_time' } }, messages: [{ role: 'user', content: 'Go' }] });
    expect(lastUpstream().body.tool_choice).toEqual({ type: 'tool', name: 'get_time' });
    expect(outcome.tool_calls!.every((call) => call.function.name === 'get_time')).toBe(true);
  });

  it('tool_choice none → none, and the model answers in text', async () => {
    const outcome = await run({ tools: [WEATHER], tool_choice: 'none', messages: [{ role: 'user', content: 'Just chat [tools]' }] });
    expect(lastUpstream().body.tool_choice).toEqual({ type: 'none' });
    expect(outcome.tool_calls).toBeUndefined();
    expect(outcome.finish_reason).toBe('stop');
  });

  it('tool_choice auto → auto', async () => {
    const outcome = await run({ tools: [WEATHER], tool_choice: 'auto', messages: [{ role: 'user', content: 'Weather? [tools]' }] });
    expect(lastUpstream().body.tool_choice).toEqual({ type: 'auto' });
    expect(outcome.tool_calls).toHaveLength(2);
  });

  it('response_format json_schema → output_config.format on a structured-outputs model', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    await run({ response_format: { type: 'json_schema', json_schema: { name: 'city', strict: true, schema } }, messages: [{ role: 'user', content: 'City?' }] });
    expect(lastUpstream().body.output_config).toEqual({ format: { type: 'json_schema', schema } });
  });

  it('response_format json_schema on an older model, and json_object → a system instruction with a warning', async () => {
    const record = gateway.nextRecord();
    const old = await run({
      model: 'claude-3-5-haiku-20241022',
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object', properties: { city: { type: 'string' } } } } },
      messages: [{ role: 'user', content: 'City?' }],
    });
    expect(old.headers.get('x-switchyard-warnings')).toBe('1');
    expect((await record).warnings.map((warning) => warning.parameter)).toEqual(['response_format']);
    expect(lastUpstream().body.system[0].text).toMatch(/conform to this JSON Schema \(city\)/);
    expect(lastUpstream().body.max_tokens).toBe(4096);
    await run({ response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'JSON please' }] });
    expect(lastUpstream().body.system[0].text).toMatch(/^Respond with one valid JSON object/);
    expect(lastUpstream().body.output_config).toBeUndefined();
  });

  it('stop → stop_sequences, and stop_sequence finishes with stop', async () => {
    const outcome = await run({ stop: ['END', 'HALT'], messages: [{ role: 'user', content: 'Count [stop-seq]' }] });
    expect(lastUpstream().body.stop_sequences).toEqual(['END', 'HALT']);
    expect(outcome.finish_reason).toBe('stop');
  });

  it('max_tokens → length; refusal → content_filter', async () => {
    const length = await run({ max_tokens: 50, messages: [{ role: 'user', content: 'Long story [length]' }] });
    expect(length.finish_reason).toBe('length');
    expect(lastUpstream().body.max_tokens).toBe(50);
    const refusal = await run({ messages: [{ role: 'user', content: 'Bad idea [refusal]' }] });
    expect(refusal.finish_reason).toBe('content_filter');
    expect(refusal.content).toBeNull();
  });

  it('reports cache reads and writes exactly, inside prompt_tokens', async () => {
    const outcome = await run({ messages: [{ role: 'user', content: '[cache] Count tokens' }] });
    // 3 words + 3 uncached, + 100 read + 50 written; 8 words out
    expect(outcome.usage).toEqual({
      prompt_tokens: 156,
      completion_tokens: 8,
      total_tokens: 164,
      prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 50 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('clamps temperature, drops what Anthropic lacks, and maps user → metadata.user_id', async () => {
    const record = gateway.nextRecord();
    await run({ temperature: 1.6, top_p: 0.9, seed: 3, presence_penalty: 0.2, user: 'user-42', max_completion_tokens: 300, messages: [{ role: 'user', content: 'Hi' }] });
    const body = lastUpstream().body;
    expect(body).toMatchObject({ temperature: 1, max_tokens: 300, metadata: { user_id: 'user-42' } });
    expect(body.top_p).toBeUndefined(); // sonnet-4-5 takes temperature or top_p, not both
    expect(body.seed).toBeUndefined();
    const finished = await record;
    expect(finished.provider).toBe('anthropic');
    expect(finished.warnings.map((warning) => warning.parameter).sort()).toEqual(['presence_penalty', 'seed', 'temperature', 'top_p']);
  });

  it('reasoning_effort → thinking, and a tool conversation with thinking round-trips its signed blocks', async () => {
    const first = await run({ reasoning_effort: 'low', temperature: 0.2, tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Lisbon and Porto? [tools]' }] });
    const firstBody = lastUpstream().body;
    expect(firstBody.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(firstBody.temperature).toBeUndefined();
    expect(first.reasoning_content).toBe(THINKING_TEXT);
    expect(first.thinking_blocks).toEqual([{ type: 'thinking', thinking: THINKING_TEXT, signature: expect.any(String) }]);
    expect(first.tool_calls).toHaveLength(2);
    expect(first.finish_reason).toBe('tool_calls');
    expect(first.usage!.completion_tokens).toBe(countWords(TOOL_PREAMBLE) + countWords(THINKING_TEXT) + 10);

    const second = await run({
      reasoning_effort: 'low',
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather in Lisbon and Porto? [tools]' },
        { role: 'assistant', content: first.content, reasoning_content: first.reasoning_content, thinking_blocks: first.thinking_blocks, tool_calls: first.tool_calls },
        { role: 'tool', tool_call_id: first.tool_calls![0]!.id, content: '21°C' },
        { role: 'tool', tool_call_id: first.tool_calls![1]!.id, content: '18°C' },
      ],
    });
    expect(second.content).toBe('Tool results: 21°C; 18°C');
    expect(second.reasoning_content).toBe(THINKING_TEXT);
    const replayed = (lastUpstream().body.messages as Array<{ content: Array<Record<string, unknown>> }>)[1]!.content;
    expect(replayed[0]).toEqual(first.thinking_blocks![0]);
    expect(replayed.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
  });

  it('reasoning_effort on Opus 4.7+ → adaptive thinking with summarized display and an effort', async () => {
    const outcome = await run({ model: 'claude-opus-4-8', reasoning_effort: 'high', messages: [{ role: 'user', content: 'Think' }] });
    expect(lastUpstream().body).toMatchObject({ thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: 'high' } });
    expect(outcome.reasoning_content).toBe(THINKING_TEXT);
    expect(outcome.model).toBe('claude-opus-4-8');
  });

  it('an upstream 529 → 503 overloaded_error with retry-after', async () => {
    const error = await run({ messages: [{ role: 'user', content: 'Busy? [error:529]' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(503);
    expect((error as APIError).type).toBe('overloaded_error');
    expect((error as APIError).headers?.get('retry-after')).toBe('1');
  });

  it('an upstream 429 keeps its status and retry-after', async () => {
    const error = (await run({ messages: [{ role: 'user', content: 'Again [error:429]' }] }).catch((caught: unknown) => caught)) as APIError;
    expect(error.status).toBe(429);
    expect(error.type).toBe('rate_limit_error');
    expect(error.headers?.get('retry-after')).toBe('1');
  });
});

describe('Anthropic streaming failures and cancellation', () => {
  it('an error event mid-stream makes the SDK throw, after the text already sent', async () => {
    const record = gateway.nextRecord();
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Go [error:midstream]' }] });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect(String((error as APIError).message)).toMatch(/Overloaded/);
    expect(text).toBe('Hel');
    const finished = await record;
    expect(finished.status).toBe('error');
    expect(finished.httpStatus).toBe(503);
  });

  it('a streaming client that goes away aborts the upstream request', async () => {
    const aborted = fake.waitForAbort();
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Talk [slow]' }] });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks >= 3) break;
    }
    await aborted;
  });

  it('a non-streaming client that goes away aborts the upstream request', async () => {
    const aborted = fake.waitForAbort();
    const controller = new AbortController();
    const messagesSent = (): number => fake.requests.filter((request) => request.path === '/v1/messages').length;
    const sent = messagesSent();
    const pending = client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Wait [slow]' }] }, { signal: controller.signal }).catch((caught: unknown) => caught);
    // Aborted once the upstream holds the request (a fixed delay could abort it before it got there).
    await vi.waitFor(() => expect(messagesSent()).toBeGreaterThan(sent), { timeout: 10_000 });
    controller.abort();
    await aborted;
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('Anthropic models', () => {
  it('/v1/models lists every model of every page of Anthropic’s list', async () => {
    const before = fake.requests.filter((request) => request.path === '/v1/models').length;
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    for (const id of DEFAULT_ANTHROPIC_MODELS) expect(ids).toContain(id);
    const pages = fake.requests.filter((request) => request.path === '/v1/models').slice(before);
    expect(pages.length).toBe(3);
    expect(pages[1]!.query.after_id).toBe(DEFAULT_ANTHROPIC_MODELS[1]);
  });
});
