/**
 * Gemini behind the OpenAI API, end to end: the real gateway (listening on 127.0.0.1:0)
 * in front of the strict Gemini fake, driven by the official `openai` SDK, streaming and
 * not. The fake rejects what the real API rejects and checks thought signatures; after
 * every valid request `fake.rejected` must be empty.
 */
import OpenAI, { type APIError, type RateLimitError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_GEMINI_MODELS,
  FUNCTION_ARGS,
  THOUGHT_TEXT,
  countWords,
  defaultGeminiReply,
  fakeGeminiEmbedding,
  geminiUsageFor,
  startGeminiFake,
  type ProviderFake,
  type RecordedRequest,
} from '../../fakes/gemini-fake.js';
import { startTestGateway, type TestGateway } from '../../helpers.js';

const KEY = 'gemini-test-key-0123456789';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const SYNTHETIC_ID = /^call_[0-9a-f]{24}$/;

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { $ref: '#/$defs/City' } }, required: ['city'], $defs: { City: { type: 'string', description: 'a city' } } },
  },
};
const timeTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
};

let fake: ProviderFake;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  fake = await startGeminiFake({ apiKey: KEY });
  gateway = await startTestGateway({ environment: { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: fake.url } });
  client = gateway.client();
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
});

afterEach(() => {
  // Drained so that one test's rejection is reported once, by that test.
  const rejected = fake.rejected.splice(0);
  expect(rejected).toEqual([]);
});

/** The last generateContent / streamGenerateContent request the fake received. */
function lastGenerate(): RecordedRequest {
  const found = [...fake.requests].reverse().find((request) => /:(stream)?[gG]enerateContent$/.test(request.path));
  if (!found) throw new Error('no generate request reached the fake');
  return found;
}

/** The OpenAI usage the fake's formula gives for the last upstream request. */
function expectedUsage(model = 'gemini-2.5-flash') {
  const usage = geminiUsageFor(lastGenerate().body, model) as Record<string, number | undefined>;
  const prompt = usage.promptTokenCount ?? 0;
  const thoughts = usage.thoughtsTokenCount ?? 0;
  const completion = (usage.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

interface Collected {
  content: string;
  reasoning: string;
  toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string }; extra_content?: unknown }>;
  finishReason: string | null;
  usage: OpenAI.CompletionUsage | null | undefined;
  chunks: OpenAI.ChatCompletionChunk[];
}

async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<Collected> {
  const out: Collected = { content: '', reasoning: '', toolCalls: [], finishReason: null, usage: undefined, chunks: [] };
  for await (const chunk of stream) {
    out.chunks.push(chunk);
    if (chunk.usage) out.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    const delta = choice.delta as OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };
    if (delta.content) out.content += delta.content;
    if (delta.reasoning_content) out.reasoning += delta.reasoning_content;
    for (const call of delta.tool_calls ?? []) {
      const slot = (out.toolCalls[call.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (call.id) slot.id = call.id;
      if (call.function?.name) slot.function.name = call.function.name;
      if (call.function?.arguments) slot.function.arguments += call.function.arguments;
      const extra = (call as { extra_content?: unknown }).extra_content;
      if (extra) slot.extra_content = extra;
    }
    if (choice.finish_reason) out.finishReason = choice.finish_reason;
  }
  return out;
}

async function streamOf(body: Omit<OpenAI.ChatCompletionCreateParamsStreaming, 'stream'>): Promise<Collected> {
  return collect(await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }));
}

describe('Gemini through the gateway: text, system and turns', () => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hi there' },
    { role: 'developer', content: 'Be kind.' },
    { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'friend' }] },
  ];

  it('answers with system/developer as systemInstruction, merged turns and exact usage (non-stream)', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, temperature: 0.3, top_p: 0.8, seed: 3, max_tokens: 200 });
    const upstream = lastGenerate();
    expect(upstream.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(upstream.headers['x-goog-api-key']).toBe(KEY);
    expect(upstream.query.key).toBeUndefined();
    expect(upstream.body.systemInstruction).toEqual({ parts: [{ text: 'You are terse.' }, { text: 'Be kind.' }] });
    expect(upstream.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hi there' }, { text: 'friend' }] }]);
    expect(upstream.body.generationConfig).toEqual({ temperature: 0.3, topP: 0.8, seed: 3, maxOutputTokens: 200 });

    const reply = defaultGeminiReply('Hi there friend');
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gemini-2.5-flash');
    expect(completion.choices[0]!.message.content).toBe(reply);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    // By hand: prompt = 5 (system words) + 3 ("Hi there friend") + 2 per content; completion = reply words.
    const prompt = countWords('You are terse. Be kind.') + countWords('Hi there friend') + 2;
    expect(completion.usage).toEqual({
      prompt_tokens: prompt,
      completion_tokens: countWords(reply),
      total_tokens: prompt + countWords(reply),
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('streams the same answer with usage last (stream)', async () => {
    const result = await streamOf({ model: 'gemini-2.5-flash', messages });
    expect(lastGenerate().path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(lastGenerate().query.alt).toBe('sse');
    expect(result.content).toBe(defaultGeminiReply('Hi there friend'));
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual(expectedUsage());
    expect(result.chunks.length).toBeGreaterThan(5);
    expect(result.chunks.at(-1)!.choices).toEqual([]);
  });

  it('counts cached tokens as a subset of prompt tokens', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'remember this long context [cache]' }] });
    const usage = expectedUsage();
    expect(usage.prompt_tokens_details.cached_tokens).toBe(Math.floor(usage.prompt_tokens / 2));
    expect(completion.usage).toEqual(usage);
  });

  it('passes stop sequences and response_format json_object', async () => {
    await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'json' }], stop: ['END', 'STOP'], response_format: { type: 'json_object' } });
    expect(lastGenerate().body.generationConfig).toEqual({ stopSequences: ['END', 'STOP'], responseMimeType: 'application/json' });
  });

  it('sends response_format json_schema as responseJsonSchema with $refs inlined', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'a person' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          strict: true,
          schema: {
            type: 'object',
            properties: { name: { type: 'string' }, home: { $ref: '#/$defs/Address' } },
            required: ['name', 'home'],
            additionalProperties: false,
            $defs: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
          },
        },
      },
    });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(lastGenerate().body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseJsonSchema: {
        type: 'object',
        properties: { name: { type: 'string' }, home: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
        required: ['name', 'home'],
        additionalProperties: false,
      },
    });
  });

  it('records dropped parameters as warnings', async () => {
    const record = gateway.nextRecord();
    const response = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 1 }, user: 'someone' })
      .withResponse();
    expect(response.response.headers.get('x-switchyard-warnings')).toBe('2');
    expect((await record).warnings.map((warning) => warning.parameter)).toEqual(['logit_bias', 'user']);
    expect(lastGenerate().body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
  });
});

describe('Gemini through the gateway: images', () => {
  it('sends data: URL images inline', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
    });
    expect(completion.choices[0]!.message.content).toBe(defaultGeminiReply('What is this?'));
    expect(lastGenerate().body.contents[0].parts).toEqual([{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG } }]);
  });

  it('refuses http(s) image URLs with a 400 naming the part, without calling Gemini', async () => {
    const before = fake.requests.length;
    const error = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'http://169.254.169.254/latest' } }] }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).param).toBe('messages[0].content[1]');
    expect((error as APIError).message).toMatch(/messages\[0\]\.content\[1\].*data: URL/);
    expect(fake.requests.length).toBe(before);
  });
});

describe('Gemini through the gateway: tools', () => {
  function checkToolCalls(toolCalls: Collected['toolCalls']): void {
    expect(toolCalls).toHaveLength(2);
    for (const [index, call] of toolCalls.entries()) {
      expect(call.id).toMatch(SYNTHETIC_ID);
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual(FUNCTION_ARGS[index]);
    }
    expect(toolCalls[0]!.id).not.toBe(toolCalls[1]!.id);
    // gemini-2.5 signs the first call; the signature rides on extra_content.
    expect(toolCalls[0]!.extra_content).toEqual({ google: { thought_signature: expect.any(String) } });
    expect(toolCalls[1]!.extra_content).toBeUndefined();
  }

  function checkReplay(): void {
    const contents = lastGenerate().body.contents;
    expect(contents).toHaveLength(3);
    expect(contents[1].role).toBe('model');
    expect(contents[1].parts.map((part: { functionCall: unknown }) => part.functionCall)).toEqual([
      { name: 'get_weather', args: FUNCTION_ARGS[0] },
      { name: 'get_weather', args: FUNCTION_ARGS[1] },
    ]);
    expect(contents[1].parts[0].thoughtSignature).toEqual(expect.any(String));
    // Parallel results in one user turn, names recovered, made-up ids not sent.
    expect(contents[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { output: { temp_c: 21 } } } },
        { functionResponse: { name: 'get_weather', response: { output: 'rainy' } } },
      ],
    });
  }

  function toolResults(calls: Collected['toolCalls']): OpenAI.ChatCompletionMessageParam[] {
    return [
      { role: 'tool', tool_call_id: calls[0]!.id, content: '{"temp_c":21}' },
      { role: 'tool', tool_call_id: calls[1]!.id, content: 'rainy' },
    ];
  }

  const replyToTools = 'Tool results: {"output":{"temp_c":21}}; {"output":"rainy"}';

  it('runs a multi-turn conversation with parallel calls and a thought-signature round trip (non-stream)', async () => {
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Lisbon and Porto? [tools]' };
    const first = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [question], tools: [weatherTool, timeTool] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    checkToolCalls(choice.message.tool_calls as Collected['toolCalls']);
    expect(first.usage).toEqual(expectedUsage());
    const declared = lastGenerate().body.tools[0].functionDeclarations;
    expect(declared[0].parametersJsonSchema).toEqual({ type: 'object', properties: { city: { type: 'string', description: 'a city' } }, required: ['city'] });

    const second = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [question, choice.message as OpenAI.ChatCompletionMessageParam, ...toolResults(choice.message.tool_calls as Collected['toolCalls'])],
      tools: [weatherTool, timeTool],
    });
    checkReplay();
    expect(second.choices[0]!.message.content).toBe(replyToTools);
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.usage).toEqual(expectedUsage());
  });

  it('runs the same conversation streamed, with identical ids and the signature in the deltas (stream)', async () => {
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Lisbon and Porto? [tools]' };
    const first = await streamOf({ model: 'gemini-2.5-flash', messages: [question], tools: [weatherTool] });
    expect(first.finishReason).toBe('tool_calls');
    checkToolCalls(first.toolCalls);
    expect(first.usage).toEqual(expectedUsage());

    const assistant = { role: 'assistant', content: null, tool_calls: first.toolCalls } as OpenAI.ChatCompletionAssistantMessageParam;
    const second = await streamOf({ model: 'gemini-2.5-flash', messages: [question, assistant, ...toolResults(first.toolCalls)], tools: [weatherTool] });
    checkReplay();
    expect(second.content).toBe(replyToTools);
    expect(second.finishReason).toBe('stop');
    expect(second.usage).toEqual(expectedUsage());
  });

  it('is refused by Gemini when a client drops the thought signature (the fake checks it)', async () => {
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather? [tools]' };
    const first = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [question], tools: [weatherTool] });
    const calls = (first.choices[0]!.message.tool_calls as Collected['toolCalls']).map(({ extra_content: _dropped, ...call }) => call);
    const error = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [question, { role: 'assistant', content: null, tool_calls: calls }, ...toolResults(calls)], tools: [weatherTool] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toMatch(/thought_signature/);
    expect(fake.rejected.splice(0).map((rejection) => rejection.message)).toEqual([expect.stringMatching(/thought_signature/)]);
  });

  it('answers a tool result whose id matches no call with a 400 before calling Gemini', async () => {
    const before = fake.requests.length;
    const error = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_nope', content: '1' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).param).toBe('messages[1].tool_call_id');
    expect(fake.requests.length).toBe(before);
  });

  it('maps tool_choice required → ANY (a call without the marker)', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'anything' }], tools: [weatherTool, timeTool], tool_choice: 'required' });
    expect(lastGenerate().body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]!.message.tool_calls!.map((call) => (call as { function: { name: string } }).function.name)).toEqual(['get_weather', 'get_weather']);
  });

  it('maps a named tool_choice → ANY with allowedFunctionNames', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'what time' }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect(lastGenerate().body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } });
    expect(completion.choices[0]!.message.tool_calls!.map((call) => (call as { function: { name: string } }).function.name)).toEqual(['get_time', 'get_time']);
  });

  it('maps tool_choice none → NONE (text even with the marker) and auto → AUTO', async () => {
    const none = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'call it [tools]' }], tools: [weatherTool], tool_choice: 'none' });
    expect(lastGenerate().body.toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(none.choices[0]!.finish_reason).toBe('stop');
    expect(none.choices[0]!.message.tool_calls).toBeUndefined();
    const auto = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'just chat' }], tools: [weatherTool], tool_choice: 'auto' });
    expect(lastGenerate().body.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(auto.choices[0]!.message.content).toBe(defaultGeminiReply('just chat'));
  });

  it('does not sign calls of non-thinking models and still round-trips them (gemini-2.0-flash)', async () => {
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather? [tools]' };
    const first = await client.chat.completions.create({ model: 'gemini-2.0-flash', messages: [question], tools: [weatherTool] });
    const calls = first.choices[0]!.message.tool_calls as Collected['toolCalls'];
    expect(calls.every((call) => call.extra_content === undefined)).toBe(true);
    const second = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [question, first.choices[0]!.message as OpenAI.ChatCompletionMessageParam, ...toolResults(calls)],
      tools: [weatherTool],
    });
    expect(second.choices[0]!.message.content).toBe(replyToTools);
  });
});

describe('Gemini through the gateway: reasoning', () => {
  it('maps reasoning_effort to thinkingConfig; thoughts → reasoning_content and reasoning_tokens inside completion_tokens (non-stream)', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Say hi' }], reasoning_effort: 'low' });
    expect(lastGenerate().body.generationConfig).toEqual({ thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } });
    const message = completion.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content).toBe(THOUGHT_TEXT);
    expect(message.content).toBe(defaultGeminiReply('Say hi'));
    const thoughts = countWords(THOUGHT_TEXT);
    expect(completion.usage!.completion_tokens_details!.reasoning_tokens).toBe(thoughts);
    expect(completion.usage!.completion_tokens).toBe(countWords(defaultGeminiReply('Say hi')) + thoughts);
    expect(completion.usage).toEqual(expectedUsage());
  });

  it('streams reasoning deltas before the content, with the same usage (stream)', async () => {
    const result = await streamOf({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'Say hi' }], reasoning_effort: 'high' });
    expect(lastGenerate().body.generationConfig).toEqual({ thinkingConfig: { includeThoughts: true, thinkingBudget: 24576 } });
    expect(result.reasoning).toBe(THOUGHT_TEXT);
    expect(result.content).toBe(defaultGeminiReply('Say hi'));
    const firstReasoning = result.chunks.findIndex((chunk) => (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content);
    const firstContent = result.chunks.findIndex((chunk) => chunk.choices[0]?.delta.content);
    expect(firstReasoning).toBeGreaterThan(-1);
    expect(firstReasoning).toBeLessThan(firstContent);
    expect(result.usage).toEqual(expectedUsage('gemini-2.5-pro'));
    expect(result.usage!.completion_tokens_details!.reasoning_tokens).toBe(countWords(THOUGHT_TEXT));
  });

  it("turns thinking off with reasoning_effort 'none' on 2.5 Flash", async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'quick [thinking]' }], reasoning_effort: 'none' as never });
    expect(lastGenerate().body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 0 } });
    expect((completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBeUndefined();
    expect(completion.usage!.completion_tokens_details!.reasoning_tokens).toBe(0);
  });
});

describe('Gemini through the gateway: finish reasons and errors', () => {
  it('MAX_TOKENS → length, streamed and not', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'long story [length]' }], max_completion_tokens: 5 });
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(lastGenerate().body.generationConfig).toEqual({ maxOutputTokens: 5 });
    const streamed = await streamOf({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'long story [length]' }] });
    expect(streamed.finishReason).toBe('length');
    expect(streamed.usage).toEqual(expectedUsage());
  });

  it('SAFETY → content_filter, streamed and not', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'something bad [safety]' }] });
    expect(completion.choices[0]!.finish_reason).toBe('content_filter');
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.usage).toEqual(expectedUsage());
    const streamed = await streamOf({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'something bad [safety]' }] });
    expect(streamed.finishReason).toBe('content_filter');
    expect(streamed.content).toBe('');
  });

  it('a blocked prompt is a clear 400 error (non-stream) and an error event (stream)', async () => {
    const error = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'blocked words [blocked]' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).code).toBe('content_filter');
    expect((error as Error).message).toMatch(/blocked the prompt \(blockReason: SAFETY\)/);

    const stream = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'blocked words [blocked]' }], stream: true });
    const streamError = await collect(stream).catch((caught: unknown) => caught);
    expect(streamError).toBeInstanceOf(OpenAI.APIError);
    expect((streamError as Error).message).toMatch(/blockReason: SAFETY/);
  });

  it('429 RESOURCE_EXHAUSTED → RateLimitError with retry-after from RetryInfo, streamed and not', async () => {
    const error = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'again [error:429]' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get('retry-after')).toBe('1');
    expect(rateLimit.headers.get('retry-after-ms')).toBe('1000');
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.message).toMatch(/exceeded your current quota/);

    const streamError = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'again [error:429]' }], stream: true })
      .catch((caught: unknown) => caught);
    expect(streamError).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('a bad key is a 401 AuthenticationError', async () => {
    const error = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-provider-api-key': 'wrong-key' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as APIError).code).toBe('invalid_api_key');
    // The fake records the bad key as a rejection: expected here.
    expect(fake.rejected.splice(0).map((rejection) => rejection.status)).toEqual([400]);
  });

  it('a mid-stream error frame makes the SDK throw after the content so far', async () => {
    const stream = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'go [error:midstream]' }], stream: true });
    let content = '';
    const error = await (async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/Internal error/);
    expect(content.length).toBeGreaterThan(0);
  });

  it('a client that stops reading aborts the upstream stream', async () => {
    const stream = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'tell me [slow]' }], stream: true });
    const aborted = fake.waitForAbort();
    let received = 0;
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta.content ? 1 : 0;
      if (received >= 2) break;
    }
    await aborted;
    expect(fake.abortedStreams).toBeGreaterThanOrEqual(1);
  });
});

describe('Gemini through the gateway: embeddings and models', () => {
  it('embeds with the SDK default (base64), decoded to the fake’s floats', async () => {
    const response = await client.embeddings.create({ model: 'gemini-embedding-001', input: ['hello world', 'second text'] });
    const upstream = [...fake.requests].reverse().find((request) => request.path.endsWith(':batchEmbedContents'))!;
    expect(upstream.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(upstream.body.requests.map((item: { model: string }) => item.model)).toEqual(['models/gemini-embedding-001', 'models/gemini-embedding-001']);
    expect(response.data.map((item) => item.index)).toEqual([0, 1]);
    expect(response.data[0]!.embedding).toEqual(fakeGeminiEmbedding('hello world'));
    expect(response.data[1]!.embedding).toEqual(fakeGeminiEmbedding('second text'));
    expect(response.model).toBe('gemini-embedding-001');
  });

  it('embeds as float with dimensions → outputDimensionality', async () => {
    const response = await client.embeddings.create({ model: 'gemini-embedding-001', input: 'just one', encoding_format: 'float', dimensions: 4 });
    const upstream = [...fake.requests].reverse().find((request) => request.path.endsWith(':batchEmbedContents'))!;
    expect(upstream.body.requests).toEqual([{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'just one' }] }, outputDimensionality: 4 }]);
    expect(response.data).toEqual([{ object: 'embedding', index: 0, embedding: fakeGeminiEmbedding('just one', 4) }]);
  });

  it('lists every Gemini model, following the pages', async () => {
    const before = fake.requests.filter((request) => request.path === '/v1beta/models').length;
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    const pageRequests = fake.requests.filter((request) => request.path === '/v1beta/models');
    // The fake serves two models per page, so five models take three pages.
    expect(pageRequests.length - before).toBe(3);
    expect(pageRequests.every((request) => request.headers['x-goog-api-key'] === KEY && request.query.key === undefined)).toBe(true);
    for (const model of DEFAULT_GEMINI_MODELS) expect(ids.includes(model) || ids.includes(`gemini/${model}`), model).toBe(true);
    expect(ids).toContain('gemini-2.5-flash');
  });
});
