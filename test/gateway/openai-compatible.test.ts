/**
 * The gateway end to end on its OpenAI-compatible path: a real gateway on 127.0.0.1:0,
 * real OpenAI / xAI / Ollama / LM Studio fakes as HTTP servers, and the official `openai`
 * SDK as the client. Chat (JSON and SSE), usage, tool calls, reasoning, embeddings, models
 * and routing here; error classes, access checks and client aborts in
 * openai-compatible-errors.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers.js';
import {
  DEFAULT_MODELS,
  TOOL_ARGUMENTS,
  defaultReplyFor,
  embeddingToBase64,
  fakeEmbedding,
  fakeUsageFor,
  reasoningTextFor,
  startOpenAIFake,
  type OpenAIFake,
  type OpenAIFlavor,
} from '../fakes/openai-fake.js';
import { AUTH, parseSse, post, rawRequest, recordFor } from './support.js';

const OPENAI_KEY = 'sk-openai-fake-key-4242';
const XAI_KEY = 'xai-fake-key-4242';

let fakes: Record<OpenAIFlavor, OpenAIFake>;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  const [openai, xai, ollama, lmstudio] = await Promise.all([
    startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY }),
    startOpenAIFake({ flavor: 'xai', apiKey: XAI_KEY }),
    startOpenAIFake({ flavor: 'ollama' }),
    startOpenAIFake({ flavor: 'lmstudio' }),
  ]);
  fakes = { openai, xai, ollama, lmstudio };
  gw = await startTestGateway({
    environment: {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      XAI_API_KEY: XAI_KEY,
      XAI_BASE_URL: xai.url,
      OLLAMA_BASE_URL: ollama.url,
      LMSTUDIO_BASE_URL: lmstudio.url,
    },
    file: { aliases: { fast: 'gpt-4o-mini', 'local-llama': 'ollama/llama3.2:latest', thinker: 'xai/grok-3-mini' } },
  });
  client = gw.client();
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(Object.values(fakes ?? {}).map((fake) => fake.close()));
});

type Params = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

/** A chat model of each fake, as the client names it, and how the fake is reached. */
const CHAT_MODELS: Array<{ flavor: OpenAIFlavor; model: string; reasoningModel: string }> = [
  { flavor: 'openai', model: 'gpt-4o-mini', reasoningModel: 'o3' },
  { flavor: 'xai', model: 'grok-3', reasoningModel: 'grok-3-mini' },
  { flavor: 'ollama', model: 'llama3.2:latest', reasoningModel: 'qwen3:8b' },
  { flavor: 'lmstudio', model: 'qwen2.5-7b-instruct', reasoningModel: 'qwen2.5-7b-instruct' },
];

async function collect(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function lastRequest(flavor: OpenAIFlavor, path = '/v1/chat/completions') {
  const request = fakes[flavor].requests.filter((candidate) => candidate.path === path).at(-1);
  expect(request, `${flavor} received ${path}`).toBeDefined();
  return request!;
}

describe('chat completions (JSON)', () => {
  it('OpenAI: the reply and the exact upstream usage come back; the record holds normalised usage', async () => {
    const body: Params = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are brief.' },
        { role: 'user', content: 'Hello there, gateway of mine' },
      ],
      temperature: 0.5,
    };
    const { data, response } = await client.chat.completions.create(body).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.choices[0]!.message.role).toBe('assistant');
    expect(data.choices[0]!.message.content).toBe(defaultReplyFor('openai', 'Hello there, gateway of mine'));
    expect(data.choices[0]!.finish_reason).toBe('stop');
    const usage = fakeUsageFor('openai', body);
    expect(data.usage).toEqual(usage);

    const upstream = lastRequest('openai');
    expect(upstream.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(upstream.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.5 });

    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({
      endpoint: '/v1/chat/completions',
      status: 'success',
      httpStatus: 200,
      provider: 'openai',
      requestedModel: 'gpt-4o-mini',
      resolvedModel: 'gpt-4o-mini',
      stream: false,
      finishReason: 'stop',
      attempts: 1,
      gatewayKeyId: 'test',
      errorType: null,
    });
    expect(record.usage).toMatchObject({
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      reasoningTokens: 0,
      cachedInputTokens: 0,
      cacheWriteInputTokens: 0,
    });
    expect(record.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('OpenAI: cached and reasoning tokens are normalised', async () => {
    const body: Params = { model: 'o3', messages: [{ role: 'user', content: '[reasoning] why is the sky blue' }], prompt_cache_key: 'k1' };
    const { data, response } = await client.chat.completions.create(body).withResponse();
    const usage = fakeUsageFor('openai', body);
    expect(data.usage).toEqual(usage);
    expect(usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record.usage).toMatchObject({
      inputTokens: usage.prompt_tokens,
      cachedInputTokens: usage.prompt_tokens_details.cached_tokens,
      outputTokens: usage.completion_tokens,
      reasoningTokens: usage.completion_tokens_details.reasoning_tokens,
    });
  });

  it('each flavor answers through the gateway with its exact usage', async () => {
    for (const { flavor, model } of CHAT_MODELS) {
      const body: Params = { model, messages: [{ role: 'user', content: `hi ${flavor} friend` }] };
      const data = await client.chat.completions.create(body);
      expect(data.choices[0]!.message.content, flavor).toBe(defaultReplyFor(flavor, `hi ${flavor} friend`));
      expect(data.usage, flavor).toEqual(fakeUsageFor(flavor, body));
    }
  });

  it('xAI reasoning: reasoning_content kept, completion_tokens includes reasoning, record counts it', async () => {
    const text = '[reasoning] what is two plus two';
    const body: Params = { model: 'grok-3-mini', messages: [{ role: 'user', content: text }], reasoning_effort: 'medium' };
    const { data, response } = await client.chat.completions.create(body).withResponse();
    const message = data.choices[0]!.message as unknown as Record<string, unknown>;
    expect(message.reasoning_content).toBe(reasoningTextFor(text));
    expect(message.content).toBe(defaultReplyFor('xai', text));
    const upstreamUsage = fakeUsageFor('xai', body);
    const reasoning = upstreamUsage.completion_tokens_details.reasoning_tokens as number;
    expect(reasoning).toBeGreaterThan(0);
    expect(data.usage!.completion_tokens).toBe(upstreamUsage.completion_tokens + reasoning);
    expect(data.usage!.prompt_tokens).toBe(upstreamUsage.prompt_tokens);
    expect(data.usage!.total_tokens).toBe(upstreamUsage.total_tokens);
    expect(data.usage!.completion_tokens_details?.reasoning_tokens).toBe(reasoning);
    // medium is not a level grok-3-mini takes: sent as high, with a warning
    expect(lastRequest('xai').body.reasoning_effort).toBe('high');
    expect(response.headers.get('x-switchyard-warnings')).toBe('1');
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record.usage).toMatchObject({ inputTokens: upstreamUsage.prompt_tokens, outputTokens: upstreamUsage.completion_tokens + reasoning, reasoningTokens: reasoning });
    // the provider's own usage object is kept as it was sent, for the log
    expect(record.usage!.raw).toEqual(upstreamUsage);
    expect(record.warnings).toEqual([expect.objectContaining({ parameter: 'reasoning_effort' })]);
  });

  it('Ollama and LM Studio: reasoning → reasoning_content', async () => {
    for (const flavor of ['ollama', 'lmstudio'] as const) {
      const { reasoningModel } = CHAT_MODELS.find((entry) => entry.flavor === flavor)!;
      const text = `[reasoning] think about ${flavor}`;
      const data = await client.chat.completions.create({ model: reasoningModel, messages: [{ role: 'user', content: text }] });
      const message = data.choices[0]!.message as unknown as Record<string, unknown>;
      expect(message.reasoning_content, flavor).toBe(reasoningTextFor(text));
      expect(message, flavor).not.toHaveProperty('reasoning');
      expect(message.content).toBe(defaultReplyFor(flavor, text));
    }
  });

  it('Ollama: tool_choice is dropped with a recorded warning', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'llama3.2:latest', messages: [{ role: 'user', content: 'hello' }], tools: TOOLS, tool_choice: 'auto' })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe(defaultReplyFor('ollama', 'hello'));
    expect(lastRequest('ollama').body).not.toHaveProperty('tool_choice');
    expect(response.headers.get('x-switchyard-warnings')).toBe('1');
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record.warnings).toEqual([expect.objectContaining({ type: 'unsupported-parameter', parameter: 'tool_choice' })]);
  });
});

describe('chat completions (streaming)', () => {
  it('with include_usage: role first, usage null on every chunk, then one usage chunk', async () => {
    const body: Params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream me a reply please' }] };
    const { data: stream, response } = await client.chat.completions
      .create({ ...body, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const chunks = await collect(stream);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    const usage = fakeUsageFor('openai', body);
    // The upstream's usage object is passed on whole, detail fields included.
    expect(usageChunk.usage).toEqual(usage);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk).toHaveProperty('usage', null);
      expect(chunk.choices).toHaveLength(1);
    }
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(defaultReplyFor('openai', 'stream me a reply please'));
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(lastRequest('openai').body.stream_options).toMatchObject({ include_usage: true });

    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ status: 'success', stream: true, provider: 'openai', finishReason: 'stop' });
    expect(record.usage).toMatchObject({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
    expect(record.timeToFirstTokenMs).not.toBeNull();
    expect((record.responseBody as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(text);
  });

  it('without include_usage: no usage anywhere, yet the upstream was asked for it and the record has it', async () => {
    const body: Params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'no usage for me' }] };
    const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true }).withResponse();
    const chunks = await collect(stream);
    for (const chunk of chunks) {
      expect(chunk).not.toHaveProperty('usage');
      expect(chunk.choices).toHaveLength(1);
    }
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(lastRequest('openai').body.stream_options).toEqual({ include_usage: true });
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record.usage).toMatchObject({ inputTokens: fakeUsageFor('openai', body).prompt_tokens, outputTokens: fakeUsageFor('openai', body).completion_tokens });
  });

  it('the raw SSE bytes: role chunk first, [DONE] last, no usage frame unless asked', async () => {
    for (const includeUsage of [false, true]) {
      const response = await post(gw, '/v1/chat/completions', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'raw bytes' }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      expect(response.status).toBe(200);
      const frames = parseSse(response.text);
      expect(frames.at(-1)).toBe('[DONE]');
      expect(frames.filter((frame) => frame === '[DONE]')).toHaveLength(1);
      const chunks = frames.slice(0, -1) as Array<Record<string, any>>;
      expect(chunks[0]!.choices[0].delta).toMatchObject({ role: 'assistant' });
      expect(chunks.some((chunk) => chunk.choices.length === 0 && chunk.usage)).toBe(includeUsage);
      expect(response.text.includes('"usage"')).toBe(includeUsage);
    }
  });

  it('every flavor streams: role first, its text, finish, its usage', async () => {
    for (const { flavor, model } of CHAT_MODELS) {
      const body: Params = { model, messages: [{ role: 'user', content: `stream ${flavor} ✓ é 🎉` }] };
      const chunks = await collect(await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }));
      expect(chunks[0]!.choices[0]!.delta.role, flavor).toBe('assistant');
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), flavor).toBe(defaultReplyFor(flavor, `stream ${flavor} ✓ é 🎉`));
      const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason);
      expect(finishes.map((chunk) => chunk.choices[0]!.finish_reason), flavor).toEqual(['stop']);
      const usage = fakeUsageFor(flavor, body);
      expect(chunks.at(-1)!.usage, flavor).toMatchObject({ prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens });
    }
  });

  it('xAI reasoning streamed: reasoning_content deltas, usage chunk completion_tokens includes reasoning', async () => {
    const text = '[reasoning] stream your thoughts';
    const body: Params = { model: 'thinker', messages: [{ role: 'user', content: text }] };
    const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }).withResponse();
    const chunks = await collect(stream);
    const deltas = chunks.map((chunk) => (chunk.choices[0]?.delta ?? {}) as Record<string, unknown>);
    expect(deltas.map((delta) => delta.reasoning_content ?? '').join('')).toBe(reasoningTextFor(text));
    expect(deltas.map((delta) => delta.content ?? '').join('')).toBe(defaultReplyFor('xai', text));
    const upstreamUsage = fakeUsageFor('xai', { ...body, model: 'grok-3-mini' });
    const reasoning = upstreamUsage.completion_tokens_details.reasoning_tokens as number;
    expect(chunks.at(-1)!.usage).toMatchObject({
      prompt_tokens: upstreamUsage.prompt_tokens,
      completion_tokens: upstreamUsage.completion_tokens + reasoning,
      total_tokens: upstreamUsage.total_tokens,
      completion_tokens_details: { reasoning_tokens: reasoning },
    });
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ provider: 'xai', resolvedModel: 'grok-3-mini', requestedModel: 'thinker' });
    expect(record.usage).toMatchObject({ outputTokens: upstreamUsage.completion_tokens + reasoning, reasoningTokens: reasoning });
    expect((record.responseBody as any).choices[0].message.reasoning_content).toBe(reasoningTextFor(text));
  });

  it('Ollama and LM Studio reasoning streamed → reasoning_content deltas', async () => {
    for (const flavor of ['ollama', 'lmstudio'] as const) {
      const { reasoningModel } = CHAT_MODELS.find((entry) => entry.flavor === flavor)!;
      const text = `[reasoning] stream thoughts ${flavor}`;
      const chunks = await collect(await client.chat.completions.create({ model: reasoningModel, messages: [{ role: 'user', content: text }], stream: true }));
      const deltas = chunks.map((chunk) => (chunk.choices[0]?.delta ?? {}) as Record<string, unknown>);
      expect(deltas.some((delta) => 'reasoning' in delta), flavor).toBe(false);
      expect(deltas.map((delta) => delta.reasoning_content ?? '').join(''), flavor).toBe(reasoningTextFor(text));
      expect(deltas.map((delta) => delta.content ?? '').join(''), flavor).toBe(defaultReplyFor(flavor, text));
    }
  });

  it('finish_reason length and OpenAI refusals pass through the stream', async () => {
    const length = await collect(await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[length] go on' }], stream: true }));
    expect(length.filter((chunk) => chunk.choices[0]?.finish_reason).map((chunk) => chunk.choices[0]!.finish_reason)).toEqual(['length']);
    const refusal = await collect(await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[refusal] do bad' }], stream: true }));
    expect(refusal.map((chunk) => chunk.choices[0]?.delta.refusal ?? '').join('')).toContain("I'm sorry");
  });

  it('warnings and the request id reach a streaming response too', async () => {
    const response = await post(gw, '/v1/chat/completions', { model: 'llama3.2:latest', messages: [{ role: 'user', content: 'hi' }], tools: TOOLS, tool_choice: 'auto', stream: true });
    expect(response.status).toBe(200);
    expect(response.headers['x-switchyard-warnings']).toBe('1');
    expect(response.headers['content-type']).toContain('text/event-stream');
    const record = await recordFor(gw, response.headers['x-switchyard-request-id'] as string);
    expect(record.warnings).toEqual([expect.objectContaining({ parameter: 'tool_choice' })]);
  });

  it('many concurrent streams across providers stay apart', async () => {
    const jobs = Array.from({ length: 24 }, (_unused, index) => {
      const { flavor, model } = CHAT_MODELS[index % CHAT_MODELS.length]!;
      const text = `parallel ${index}`;
      return (async () => {
        const chunks = await collect(await client.chat.completions.create({ model, messages: [{ role: 'user', content: text }], stream: true, stream_options: { include_usage: true } }));
        expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(defaultReplyFor(flavor, text));
        expect(chunks.at(-1)!.usage?.prompt_tokens).toBe(fakeUsageFor(flavor, { model, messages: [{ role: 'user', content: text }] }).prompt_tokens);
        expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
      })();
    });
    await Promise.all(jobs);
  });
});

describe('tool calls', () => {
  for (const { flavor, model } of CHAT_MODELS) {
    it(`${flavor}: parallel calls assembled by the SDK stream helper, then the tool-result turn`, async () => {
      const user: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: '[tools] Weather in Lisbon and Porto?' };
      const runner = client.chat.completions.stream({ model, messages: [user], tools: TOOLS, stream_options: { include_usage: true } });
      const final = await runner.finalChatCompletion();
      const choice = final.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      const calls = (choice.message.tool_calls ?? []) as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[];
      expect(calls).toHaveLength(2);
      expect(calls.map((call) => call.function.name)).toEqual(['get_weather', 'get_weather']);
      expect(calls.map((call) => call.function.arguments)).toEqual([...TOOL_ARGUMENTS]);
      expect(calls.map((call) => call.type)).toEqual(['function', 'function']);
      expect(new Set(calls.map((call) => call.id)).size).toBe(2);
      for (const call of calls) expect(call.id).toMatch(/^call_/);
      expect(final.usage?.completion_tokens).toBe(fakeUsageFor(flavor, { model, messages: [user], tools: TOOLS }).completion_tokens);

      const followUp = await client.chat.completions.create({
        model,
        tools: TOOLS,
        messages: [
          user,
          { role: 'assistant', content: null, tool_calls: calls.map(({ id, type, function: fn }) => ({ id, type, function: { name: fn.name, arguments: fn.arguments } })) },
          { role: 'tool', tool_call_id: calls[0]!.id, content: 'sunny, 24°C' },
          { role: 'tool', tool_call_id: calls[1]!.id, content: 'rainy, 17°C' },
        ],
      });
      expect(followUp.choices[0]!.message.content).toBe('Tool results: sunny, 24°C; rainy, 17°C');
    });
  }

  it('non-streaming parallel tool calls', async () => {
    const data = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: '[tools] weather' }], tools: TOOLS });
    const calls = data.choices[0]!.message.tool_calls as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((call) => [call.id, call.function.arguments])).toEqual([
      ['call_1', TOOL_ARGUMENTS[0]],
      ['call_2', TOOL_ARGUMENTS[1]],
    ]);
  });
});

describe('embeddings', () => {
  const inputs = ['hello world', 'Switchyard ✓'];

  it('OpenAI: float and base64 (the SDK default)', async () => {
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: inputs, encoding_format: 'float' });
    expect(floats.data.map((item) => item.embedding)).toEqual(inputs.map((input) => fakeEmbedding(input)));
    expect(floats.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(lastRequest('openai', '/v1/embeddings').body.encoding_format).toBe('float');

    const { data: viaDefault, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: inputs }).withResponse();
    expect(lastRequest('openai', '/v1/embeddings').body.encoding_format).toBe('base64');
    expect(viaDefault.data.map((item) => item.embedding)).toEqual(inputs.map((input) => fakeEmbedding(input)));
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ endpoint: '/v1/embeddings', status: 'success', provider: 'openai', resolvedModel: 'text-embedding-3-small' });
    expect(record.usage).toMatchObject({ inputTokens: 4, outputTokens: 0 });
  });

  it('Ollama: floats as sent, and base64 produced by the gateway itself', async () => {
    const floats = await client.embeddings.create({ model: 'nomic-embed-text:latest', input: inputs, encoding_format: 'float' });
    expect(floats.data.map((item) => item.embedding)).toEqual(inputs.map((input) => fakeEmbedding(input)));

    const viaDefault = await client.embeddings.create({ model: 'nomic-embed-text:latest', input: inputs });
    expect(lastRequest('ollama', '/v1/embeddings').body).not.toHaveProperty('encoding_format');
    expect(viaDefault.data.map((item) => item.embedding)).toEqual(inputs.map((input) => fakeEmbedding(input)));

    const raw = await post(gw, '/v1/embeddings', { model: 'nomic-embed-text:latest', input: 'hello world', encoding_format: 'base64' });
    expect(raw.status).toBe(200);
    expect(raw.json.data[0].embedding).toBe(embeddingToBase64(fakeEmbedding('hello world')));
    const decoded = Buffer.from(raw.json.data[0].embedding, 'base64');
    expect(Array.from(new Float32Array(decoded.buffer, decoded.byteOffset, decoded.byteLength / 4))).toEqual(fakeEmbedding('hello world'));
  });

  it('LM Studio embeddings by explicit provider/model', async () => {
    const data = await client.embeddings.create({ model: 'lmstudio/text-embedding-nomic-embed-text-v1.5', input: 'abc' });
    expect(data.data[0]!.embedding).toEqual(fakeEmbedding('abc'));
    expect(lastRequest('lmstudio', '/v1/embeddings').body.model).toBe('text-embedding-nomic-embed-text-v1.5');
  });
});

describe('models', () => {
  it('lists every provider (openai, xai, ollama, lmstudio) plus aliases, and every id routes', async () => {
    const models: OpenAI.Models.Model[] = [];
    for await (const model of client.models.list()) models.push(model);
    const ids = models.map((model) => model.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [...DEFAULT_MODELS.openai, ...DEFAULT_MODELS.xai, ...DEFAULT_MODELS.ollama, 'qwen2.5-7b-instruct']) expect(ids).toContain(id);
    // the gpt-/text-embedding- prefixes belong to openai: LM Studio's model is listed under its provider
    expect(ids).toContain('lmstudio/text-embedding-nomic-embed-text-v1.5');
    expect(ids).not.toContain('text-embedding-nomic-embed-text-v1.5');
    for (const alias of ['fast', 'local-llama', 'thinker']) expect(ids).toContain(alias);
    for (const model of models) {
      expect(model.object).toBe('model');
      expect(typeof model.owned_by).toBe('string');
      expect(typeof model.created).toBe('number');
    }

    const flavorOf: Record<string, OpenAIFlavor> = { openai: 'openai', xai: 'xai', ollama: 'ollama', lmstudio: 'lmstudio' };
    for (const id of ids) {
      const { data, response } = await client.chat.completions.create({ model: id, messages: [{ role: 'user', content: 'ping' }] }).withResponse();
      const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
      const flavor = flavorOf[record.provider!]!;
      expect(flavor, id).toBeDefined();
      expect(data.choices[0]!.message.content, id).toBe(defaultReplyFor(flavor, 'ping'));
      expect(lastRequest(flavor).body.model, id).toBe(record.resolvedModel);
    }
  });

  it('retrieves one model, including a provider/model id with a slash', async () => {
    expect(await client.models.retrieve('gpt-4.1')).toMatchObject({ id: 'gpt-4.1', object: 'model' });
    expect(await client.models.retrieve('llama3.2:latest')).toMatchObject({ id: 'llama3.2:latest' });
    expect(await client.models.retrieve('fast')).toMatchObject({ id: 'fast', owned_by: 'openai' });
    // Any name chat accepts finds its entry too: an explicit provider/ prefix on a plainly listed model.
    expect(await client.models.retrieve('xai/grok-3')).toMatchObject({ id: 'xai/grok-3', object: 'model' });
    expect(await client.models.retrieve('openai/gpt-4.1')).toMatchObject({ id: 'openai/gpt-4.1' });
    await expect(client.models.retrieve('xai/no-such-grok')).rejects.toMatchObject({ status: 404 });
    const slashed = 'lmstudio/text-embedding-nomic-embed-text-v1.5';
    expect(await client.models.retrieve(slashed)).toMatchObject({ id: slashed });
    // the same, with the slash sent literally and percent-encoded
    for (const path of [`/v1/models/${slashed}`, `/v1/models/${encodeURIComponent(slashed)}`]) {
      const get = await rawRequest(gw.origin, { path, headers: AUTH });
      expect(get.status, path).toBe(200);
      expect(get.json.id).toBe(slashed);
    }
  });

  it('an unknown model id is a 404 model_not_found', async () => {
    const error = await client.models.retrieve('no-such-model').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });
});

describe('routing', () => {
  it('by alias, explicit provider/model and prefix', async () => {
    const cases: Array<[string, OpenAIFlavor, string]> = [
      ['fast', 'openai', 'gpt-4o-mini'],
      ['local-llama', 'ollama', 'llama3.2:latest'],
      ['openai/gpt-4.1', 'openai', 'gpt-4.1'],
      ['xai/grok-4', 'xai', 'grok-4'],
      ['ollama/qwen3:8b', 'ollama', 'qwen3:8b'],
      ['grok-3', 'xai', 'grok-3'],
      ['gpt-4.1-mini', 'openai', 'gpt-4.1-mini'],
      ['o4-mini', 'openai', 'o4-mini'],
    ];
    for (const [model, flavor, upstreamModel] of cases) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'route me' }] }).withResponse();
      expect(data.choices[0]!.message.content, model).toBe(defaultReplyFor(flavor, 'route me'));
      expect(lastRequest(flavor).body.model, model).toBe(upstreamModel);
      const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
      expect(record, model).toMatchObject({ requestedModel: model, resolvedModel: upstreamModel, provider: flavor });
    }
  });

  it('attribution headers reach the record', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'fast', messages: [{ role: 'user', content: 'tagged' }], user: 'body-user' }, { headers: { 'x-tags': 'team:platform, feature:review', 'x-conversation-id': 'conv-1' } })
      .withResponse();
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record.tags).toEqual([
      { key: 'team', value: 'platform' },
      { key: 'feature', value: 'review' },
    ]);
    expect(record.conversationId).toBe('conv-1');
    expect(record.user).toBe('body-user');
  });
});
