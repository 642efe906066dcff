/**
 * `/v1/messages` in front of the Gemini fake and an Ollama-flavoured OpenAI-compatible fake,
 * driven by `@anthropic-ai/sdk`: text, streaming and a tool-use round trip to each, translated
 * through the core; what reaches the fakes passes their validation, usage and the log exact.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ARGS, THOUGHT_TEXT, defaultGeminiReply, geminiPromptTokens, geminiUsageFor, startGeminiFake, type ProviderFake as GeminiFake } from '../../fakes/gemini-fake.js';
import { defaultReplyFor, fakeUsageFor, startOpenAIFake, type OpenAIFake } from '../../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../helpers.js';

const WEATHER: Anthropic.Tool = { name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const GEMINI = 'gemini/gemini-2.5-flash';
const OLLAMA = 'ollama/llama3.2:latest';

let gemini: GeminiFake;
let ollama: OpenAIFake;
let gateway: TestGateway;
let client: Anthropic;

beforeAll(async () => {
  [gemini, ollama] = await Promise.all([startGeminiFake({ apiKey: 'gem-key-0123456789' }), startOpenAIFake({ flavor: 'ollama' })]);
  gateway = await startTestGateway({ environment: { GEMINI_API_KEY: 'gem-key-0123456789', GEMINI_BASE_URL: gemini.url, OLLAMA_BASE_URL: ollama.url } });
  client = new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: gateway.origin, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([gemini?.close(), ollama?.close()]);
});

afterEach(() => {
  expect(gemini.rejected.splice(0)).toEqual([]);
  // The Ollama fake answers what it rejects with a 4xx: every request here must have been a valid JSON body.
  for (const request of ollama.requests.splice(0)) expect(request.body).toBeTypeOf('object');
});

const last = <T>(list: T[]): T => list[list.length - 1]!;

/** A tool-use round trip: the calls come back as tool_use blocks, their results go up in the upstream's shape. */
async function toolRoundTrip(model: string, stream: boolean): Promise<{ first: Anthropic.Message; second: Anthropic.Message; calls: Anthropic.ToolUseBlock[] }> {
  const ask = (params: Anthropic.MessageCreateParamsNonStreaming): Promise<Anthropic.Message> => (stream ? client.messages.stream(params).finalMessage() : client.messages.create(params));
  const first = await ask({ model, max_tokens: 300, tools: [WEATHER], messages: [{ role: 'user', content: 'Weather? [tools]' }] });
  expect(first.stop_reason).toBe('tool_use');
  const calls = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
  expect(calls.map((call) => call.input)).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
  expect(new Set(calls.map((call) => call.id)).size).toBe(2);
  const second = await ask({
    model,
    max_tokens: 300,
    tools: [WEATHER],
    messages: [
      { role: 'user', content: 'Weather? [tools]' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: calls.map((call, index) => ({ type: 'tool_result' as const, tool_use_id: call.id, content: index === 0 ? '21°C' : '18°C' })) },
    ],
  });
  expect(second.stop_reason).toBe('end_turn');
  return { first, second, calls };
}

describe('to Gemini', () => {
  it('a plain message: text, end_turn, usage and the log exact', async () => {
    const recorded = gateway.nextRecord();
    const message = await client.messages.create({ model: GEMINI, max_tokens: 100, system: 'Be terse.', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(message.content).toEqual([{ type: 'text', text: defaultGeminiReply('Hello there') }]);
    expect(message.stop_reason).toBe('end_turn');
    const upstream = last(gemini.requests).body;
    expect(upstream.systemInstruction).toMatchObject({ parts: [{ text: 'Be terse.' }] });
    const usage = geminiUsageFor(upstream) as { promptTokenCount: number; candidatesTokenCount: number; thoughtsTokenCount?: number };
    expect(message.usage.input_tokens).toBe(usage.promptTokenCount);
    expect(message.usage.output_tokens).toBe(usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0));
    const record = await recorded;
    expect(record).toMatchObject({ endpoint: '/v1/messages', provider: 'gemini', status: 'success', finishReason: 'end_turn' });
    expect(record.usage).toMatchObject({ inputTokens: usage.promptTokenCount, outputTokens: usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0) });
    expect(record.requestBody).toMatchObject({ model: GEMINI, system: 'Be terse.' });
    expect(record.upstreamRequestBody).toMatchObject({ systemInstruction: { parts: [{ text: 'Be terse.' }] } });
  });

  it("streaming: Anthropic's event sequence, text and usage", async () => {
    const recorded = gateway.nextRecord();
    const stream = client.messages.stream({ model: GEMINI, max_tokens: 100, messages: [{ role: 'user', content: 'Stream to me' }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(final.content).toEqual([{ type: 'text', text: defaultGeminiReply('Stream to me') }]);
    expect(final.stop_reason).toBe('end_turn');
    const usage = geminiUsageFor(last(gemini.requests).body) as { promptTokenCount: number; candidatesTokenCount: number };
    expect(final.usage.input_tokens).toBe(usage.promptTokenCount);
    const record = await recorded;
    expect(record).toMatchObject({ status: 'success', stream: true, finishReason: 'end_turn' });
    expect(record.usage).toMatchObject({ inputTokens: usage.promptTokenCount, outputTokens: final.usage.output_tokens });
  });

  it('a tool-use round trip, non-streaming (the thought signature survives the trip)', async () => {
    const { first, second } = await toolRoundTrip(GEMINI, false);
    // Gemini signed the first call: the signature rides in an empty thinking block just before it.
    const carrierAt = first.content.findIndex((block) => block.type === 'thinking');
    expect(first.content[carrierAt]).toMatchObject({ type: 'thinking', thinking: '', signature: expect.stringMatching(/^sy1\./) });
    expect(first.content[carrierAt + 1]!.type).toBe('tool_use');
    expect((second.content[0] as Anthropic.TextBlock).text).toContain('Tool results:');
    const contents = last(gemini.requests).body.contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>;
    expect(contents.map((content) => content.role)).toEqual(['user', 'model', 'user']);
    expect(contents[1]!.parts.filter((part) => part.functionCall).map((part) => (part.functionCall as { args: unknown }).args)).toEqual([...FUNCTION_ARGS]);
    expect(contents[2]!.parts.every((part) => part.functionResponse)).toBe(true);
  });

  it('a tool-use round trip, streaming', async () => {
    const { first, second } = await toolRoundTrip(GEMINI, true);
    expect(first.content.map((block) => block.type)).toEqual(['thinking', 'tool_use', 'tool_use']);
    expect((second.content[0] as Anthropic.TextBlock).text).toContain('21°C');
  });
});

describe('to Ollama (OpenAI-compatible)', () => {
  it('a plain message: text, end_turn, usage and the log exact', async () => {
    const recorded = gateway.nextRecord();
    const message = await client.messages.create({ model: OLLAMA, max_tokens: 100, system: 'Be terse.', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(message.content).toEqual([{ type: 'text', text: defaultReplyFor('ollama', 'Hello there') }]);
    expect(message.stop_reason).toBe('end_turn');
    const upstream = last(ollama.requests).body;
    expect(upstream.model).toBe('llama3.2:latest');
    expect(upstream.messages[0]).toEqual({ role: 'system', content: 'Be terse.' });
    const usage = fakeUsageFor('ollama', upstream);
    expect(message.usage).toMatchObject({ input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens });
    const record = await recorded;
    expect(record).toMatchObject({ endpoint: '/v1/messages', provider: 'ollama', status: 'success', finishReason: 'end_turn' });
    expect(record.usage).toMatchObject({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
  });

  it("streaming: Anthropic's event sequence, text and usage", async () => {
    const recorded = gateway.nextRecord();
    const stream = client.messages.stream({ model: OLLAMA, max_tokens: 100, messages: [{ role: 'user', content: 'Stream to me' }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(final.content).toEqual([{ type: 'text', text: defaultReplyFor('ollama', 'Stream to me') }]);
    const upstream = last(ollama.requests).body;
    expect(upstream.stream).toBe(true);
    const usage = fakeUsageFor('ollama', upstream);
    expect(final.usage).toMatchObject({ input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens });
    const record = await recorded;
    expect(record.usage).toMatchObject({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
  });

  it('a tool-use round trip, non-streaming', async () => {
    const { second, calls } = await toolRoundTrip(OLLAMA, false);
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Tool results: 21°C; 18°C' });
    const sent = last(ollama.requests).body.messages as Array<{ role: string; tool_call_id?: string; tool_calls?: Array<{ id: string }> }>;
    expect(sent.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    expect(sent[1]!.tool_calls!.map((call) => call.id)).toEqual(calls.map((call) => call.id));
    expect(sent.slice(2).map((message) => message.tool_call_id)).toEqual(calls.map((call) => call.id));
  });

  it('a tool-use round trip, streaming', async () => {
    const { second } = await toolRoundTrip(OLLAMA, true);
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Tool results: 21°C; 18°C' });
  });
});

describe('count_tokens', () => {
  it("is exact from Gemini's countTokens, for the request Gemini would be sent (system and tools included)", async () => {
    const params = { model: GEMINI, system: 'Answer in one short sentence.', tools: [WEATHER], messages: [{ role: 'user' as const, content: 'How many tokens is this question?' }] };
    const counted = await client.messages.countTokens(params);
    const request = last(gemini.requests);
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:countTokens');
    expect(request.body.generateContentRequest).toMatchObject({ model: 'models/gemini-2.5-flash', systemInstruction: { parts: [{ text: 'Answer in one short sentence.' }] } });
    expect(counted.input_tokens).toBe(geminiPromptTokens(request.body.generateContentRequest));
    const bare = await client.messages.countTokens({ model: GEMINI, messages: params.messages });
    expect(bare.input_tokens).toBeLessThan(counted.input_tokens);
    const raw = await client.messages.countTokens(params).asResponse();
    expect(raw.headers.get('x-switchyard-token-count')).toBe('exact');
  });

  it('is estimated, and says so, for an upstream with no count endpoint (Ollama)', async () => {
    const raw = await client.messages.countTokens({ model: OLLAMA, messages: [{ role: 'user', content: 'count these words please' }] }).asResponse();
    expect(raw.headers.get('x-switchyard-token-count')).toBe('estimated');
    expect(((await raw.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
  });
});

describe('a thinking round trip to Gemini', () => {
  it.each([false, true])('thinking comes back as a thinking block, the text signature rides after the text and is given back (stream %s)', async (stream) => {
    const params: Anthropic.MessageCreateParamsNonStreaming = { model: GEMINI, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'Think about the sky.' }] };
    const first = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
    expect(first.content.map((block) => block.type)).toEqual(['thinking', 'text', 'thinking']);
    expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHT_TEXT });
    expect(first.content[1]).toMatchObject({ type: 'text', text: defaultGeminiReply('Think about the sky.') });
    expect(first.content[2]).toMatchObject({ type: 'thinking', thinking: '', signature: expect.stringMatching(/^sy1\./) });
    const issued = last(gemini.requests);
    expect(issued.body.generationConfig.thinkingConfig).toMatchObject({ includeThoughts: true });

    const next = { ...params, messages: [...params.messages, { role: 'assistant' as const, content: first.content }, { role: 'user' as const, content: 'And the sea?' }] };
    const second = stream ? await client.messages.stream(next).finalMessage() : await client.messages.create(next);
    expect(second.stop_reason).toBe('end_turn');
    // The fake refuses a text signature it did not issue on a text part (afterEach checks none was refused).
    const replayed = last(gemini.requests).body.contents[1];
    expect(replayed.role).toBe('model');
    const signed = replayed.parts.filter((part: { thoughtSignature?: string }) => part.thoughtSignature);
    expect(signed).toHaveLength(1);
    expect(signed[0].text).toBe(defaultGeminiReply('Think about the sky.'));
  });
});

describe('failures and cache usage, translated', () => {
  it.each([GEMINI, OLLAMA])('a failure after the answer began is an Anthropic error event (%s)', async (model) => {
    const events: string[] = [];
    const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'x [error:midstream]' }] });
    stream.on('streamEvent', (event) => events.push(event.type));
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
    expect(events[0]).toBe('message_start');
    expect(events).not.toContain('message_stop');
  });

  it("Gemini's cached prompt tokens arrive as cache_read_input_tokens, outside input_tokens", async () => {
    const message = await client.messages.create({ model: GEMINI, max_tokens: 100, messages: [{ role: 'user', content: 'a cached prompt with several words [cache]' }] });
    const upstream = last(gemini.requests).body;
    const usage = geminiUsageFor(upstream) as { promptTokenCount: number; cachedContentTokenCount: number };
    expect(usage.cachedContentTokenCount).toBeGreaterThan(0);
    expect(message.usage.cache_read_input_tokens).toBe(usage.cachedContentTokenCount);
    expect(message.usage.input_tokens).toBe(usage.promptTokenCount - usage.cachedContentTokenCount);
  });
});
