/**
 * The response cache and the Responses API: what reaches an OpenAI pass-through upstream beyond
 * the core request (hosted tools, `include`, `store`, `text.verbosity` …) is part of the cache
 * key, so requests that differ only there each go upstream; identical ones share one entry, and a
 * plain prompt keys the same as through chat completions. Driven by the official `openai` SDK
 * against the OpenAI fake's /v1/responses, which counts what reaches it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake, type OpenAIFake } from '../../../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../../helpers.js';
import { DEFAULT_CACHE_CONFIG } from '../../../../src/main/gateway/config.js';
import { ResponseCache } from '../../../../src/main/gateway/policies/response-cache.js';
import { nativeExtras } from '../../../../src/main/gateway/formats/openai-responses/decode.js';

const OPENAI_KEY = 'sk-openai-responses-cache-0123456789';

let openai: OpenAIFake;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  openai = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY });
  gateway = await startTestGateway({
    environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url },
    policies: [new ResponseCache({ ...DEFAULT_CACHE_CONFIG, enabled: true, ttlMs: 60_000 })],
  });
  client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await openai?.close();
});

const responsesCalls = (): number => openai.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/responses')).length;
const chatCalls = (): number => openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

let counter = 0;
const fresh = (label: string): string => `${label} #${++counter} ${Math.random().toString(36).slice(2)}`;

const weather: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Weather of a city', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

async function ask(params: OpenAI.Responses.ResponseCreateParamsNonStreaming): Promise<{ response: OpenAI.Responses.Response; cache: string | null }> {
  const { data, response } = await client.responses.create(params).withResponse();
  return { response: data, cache: response.headers.get('x-switchyard-cache') };
}

describe('response cache key of a Responses request', () => {
  it('a hosted tool is part of the key: with and without web_search each go upstream; the same request again is a hit', async () => {
    const input = fresh('hosted');
    const before = responsesCalls();
    const plain = await ask({ model: 'gpt-4.1', input, tools: [weather] });
    expect(plain.cache).toBe('miss');
    const hosted = await ask({ model: 'gpt-4.1', input, tools: [weather, { type: 'web_search' }] });
    expect(hosted.cache).toBe('miss');
    expect(responsesCalls()).toBe(before + 2);
    // The hosted tool reached OpenAI as the client sent it.
    expect(openai.requests.at(-1)!.body.tools).toEqual([weather, { type: 'web_search' }]);
    const again = await ask({ model: 'gpt-4.1', input, tools: [weather, { type: 'web_search' }] });
    expect(again.cache).toBe('hit');
    expect(again.response.output_text).toBe(hosted.response.output_text);
    const otherHosted = await ask({ model: 'gpt-4.1', input, tools: [weather, { type: 'web_search', search_context_size: 'high' }] });
    expect(otherHosted.cache).toBe('miss');
    expect(responsesCalls()).toBe(before + 3);
  });

  it('include, store, text.verbosity and a custom tool grammar are part of the key', async () => {
    const input = fresh('fields');
    const before = responsesCalls();
    const variants: OpenAI.Responses.ResponseCreateParamsNonStreaming[] = [
      { model: 'gpt-4.1', input },
      { model: 'gpt-4.1', input, include: ['reasoning.encrypted_content'] },
      { model: 'gpt-4.1', input, store: false },
      { model: 'gpt-4.1', input, text: { verbosity: 'low' } },
      { model: 'gpt-4.1', input, tools: [{ type: 'custom', name: 'apply_patch' }] },
      { model: 'gpt-4.1', input, tools: [{ type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } }] },
    ];
    for (const variant of variants) expect((await ask(variant)).cache).toBe('miss');
    expect(responsesCalls()).toBe(before + variants.length);
    for (const variant of variants) expect((await ask(variant)).cache).toBe('hit');
    expect(responsesCalls()).toBe(before + variants.length);
  });

  it('what changes only delivery or attribution is not: metadata, user, prompt_cache_key, service_tier, streaming', async () => {
    const input = fresh('delivery');
    const before = responsesCalls();
    expect((await ask({ model: 'gpt-4.1', input })).cache).toBe('miss');
    expect((await ask({ model: 'gpt-4.1', input, metadata: { run: '1' }, user: 'u-1', prompt_cache_key: 'k-1', service_tier: 'default' })).cache).toBe('hit');
    const { response } = await client.responses.create({ model: 'gpt-4.1', input, stream: true }).withResponse();
    expect(response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(responsesCalls()).toBe(before + 1);
  });

  it('a plain prompt keys the same through chat completions and /v1/responses', async () => {
    const input = fresh('cross');
    const beforeChat = chatCalls();
    const beforeResponses = responsesCalls();
    const chat = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: input }] });
    const responses = await ask({ model: 'gpt-4.1', input });
    expect(responses.cache).toBe('hit');
    expect(responses.response.output_text).toBe(chat.choices[0]!.message.content);
    expect(chatCalls()).toBe(beforeChat + 1);
    expect(responsesCalls()).toBe(beforeResponses);
  });
});

describe('nativeExtras', () => {
  it('is null for what the core request carries whole', () => {
    expect(
      nativeExtras({
        model: 'gpt-4.1',
        input: [{ role: 'user', content: 'hi' }],
        instructions: 'Be brief.',
        tools: [{ ...weather }, { type: 'custom', name: 'apply_patch', description: 'Patch' }],
        tool_choice: { type: 'function', name: 'get_weather' },
        reasoning: { effort: 'low', summary: 'auto' },
        text: { format: { type: 'text' } },
        metadata: { a: 'b' },
        prompt_cache_key: 'k',
        client_metadata: { session_id: 's' },
        stream: true,
      }),
    ).toBeNull();
  });

  it('keeps the hosted and native-only parts, and only those', () => {
    expect(
      nativeExtras({
        model: 'gpt-4.1',
        input: 'hi',
        tools: [{ ...weather }, { type: 'web_search' }],
        tool_choice: { type: 'web_search' },
        reasoning: { effort: 'low', generate_summary: 'auto' },
        text: { format: { type: 'json_object' }, verbosity: 'high' },
        include: ['web_search_call.action.sources'],
        store: false,
        truncation: 'auto',
        previous_response_id: 'resp_at_openai',
      }),
    ).toEqual({
      tools: [{ type: 'web_search' }],
      tool_choice: { type: 'web_search' },
      reasoning: { generate_summary: 'auto' },
      text: { verbosity: 'high' },
      include: ['web_search_call.action.sources'],
      store: false,
      truncation: 'auto',
      previous_response_id: 'resp_at_openai',
    });
  });
});
