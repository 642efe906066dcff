/**
 * `/v1/messages` in front of the Anthropic fake (strict like the real API), driven by the
 * official `@anthropic-ai/sdk`: the same-format pass-through. What the client sent reaches
 * Anthropic unchanged but for the model name; what Anthropic answered comes back unchanged;
 * usage and the log are exact.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { THINKING_TEXT, TOOL_INPUTS, TOOL_PREAMBLE, anthropicUsageFor, countWords, startAnthropicFake, type ProviderFake } from '../../fakes/anthropic-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../helpers.js';
import { CLAUDE_CODE_CAPTURE, readCaptured, withSchemasRepaired } from '../../helpers/captured.js';
import { rawRequest } from '../support.js';

const API_KEY = 'sk-ant-passthrough-0123456789';
const MODEL = 'claude-sonnet-4-5';
const RESOLVED = 'claude-sonnet-4-5-20250929';
const WEATHER: Anthropic.Tool = { name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

let fake: ProviderFake;
let gateway: TestGateway;
let client: Anthropic;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY });
  gateway = await startTestGateway({ environment: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: fake.url } });
  client = new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: gateway.origin, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
});

afterEach(() => {
  expect(fake.rejected.splice(0)).toEqual([]);
});

function lastUpstream() {
  return fake.requests[fake.requests.length - 1]!;
}

describe('non-streaming', () => {
  it('answers with the upstream message, usage exact, logged with cache tokens', async () => {
    const params = { model: MODEL, max_tokens: 200, system: [{ type: 'text' as const, text: 'Be terse.', cache_control: { type: 'ephemeral' as const } }], messages: [{ role: 'user' as const, content: 'Hi there [cache]' }] };
    const recorded = gateway.nextRecord();
    const message = await client.messages.create(params);
    expect(message.type).toBe('message');
    expect(message.model).toBe(RESOLVED);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hello from anthropic! You said: Hi there [cache]' });
    const usage = anthropicUsageFor({ ...params, model: RESOLVED });
    expect(message.usage.input_tokens).toBe(usage.input_tokens);
    expect(message.usage.cache_read_input_tokens).toBe(100);
    expect(message.usage.cache_creation_input_tokens).toBe(50);
    // The client's body went up as it was, only the model renamed, cache_control included.
    expect(lastUpstream().body).toEqual(params);
    const record = await recorded;
    expect(record.endpoint).toBe('/v1/messages');
    expect(record.provider).toBe('anthropic');
    expect(record.status).toBe('success');
    expect(record.finishReason).toBe('end_turn');
    expect(record.usage).toMatchObject({ inputTokens: usage.input_tokens + 150, cachedInputTokens: 100, cacheWriteInputTokens: 50, outputTokens: usage.output_tokens });
  });

  it('a tool-use round trip', async () => {
    const first = await client.messages.create({ model: MODEL, max_tokens: 300, tools: [WEATHER], messages: [{ role: 'user', content: 'Weather? [tools]' }] });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content[0]).toMatchObject({ type: 'text', text: TOOL_PREAMBLE });
    const calls = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(calls.map((call) => call.input)).toEqual(TOOL_INPUTS);
    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 300,
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather? [tools]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: calls.map((call, index) => ({ type: 'tool_result' as const, tool_use_id: call.id, content: index === 0 ? '21°C' : '18°C' })) },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Tool results: 21°C; 18°C' });
  });

  it('a thinking round trip: the signature comes back and is replayed byte for byte', async () => {
    const first = await client.messages.create({ model: MODEL, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [WEATHER], messages: [{ role: 'user', content: 'Think [tools]' }] });
    const thinking = first.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.type).toBe('thinking');
    expect(thinking.thinking).toBe(THINKING_TEXT);
    expect(thinking.signature.length).toBeGreaterThan(10);
    const calls = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    await client.messages.create({
      model: MODEL,
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Think [tools]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: calls.map((call) => ({ type: 'tool_result' as const, tool_use_id: call.id, content: 'sunny' })) },
      ],
    });
    const replayed = lastUpstream().body.messages[1].content[0];
    expect(replayed).toEqual({ type: 'thinking', thinking: THINKING_TEXT, signature: thinking.signature });
  });
});

describe('streaming', () => {
  it("Anthropic's event sequence, with the upstream's usage in message_start and message_delta", async () => {
    const stream = client.messages.stream({ model: MODEL, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [WEATHER], messages: [{ role: 'user', content: 'Stream it [tools] [cache]' }] });
    const types: string[] = [];
    let startUsage: Anthropic.Usage | null = null;
    for await (const event of stream) {
      types.push(event.type === 'content_block_delta' ? `${event.type}:${event.delta.type}` : event.type);
      if (event.type === 'message_start') startUsage = event.message.usage;
    }
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    // the signature arrives once, just before the thinking block stops
    const signatureAt = types.indexOf('content_block_delta:signature_delta');
    expect(types[signatureAt + 1]).toBe('content_block_stop');
    expect(startUsage!.input_tokens).toBeGreaterThan(0);
    expect(startUsage!.cache_read_input_tokens).toBe(100);
    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
    expect((final.content[0] as Anthropic.ThinkingBlock).signature.length).toBeGreaterThan(10);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.output_tokens).toBe(countWords(TOOL_PREAMBLE) + countWords(THINKING_TEXT) + 10);
  });

  it('an error event mid-stream reaches the SDK as an APIError', async () => {
    const recorded = gateway.nextRecord();
    const stream = client.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Break [error:midstream]' }] });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded|overloaded/);
    const record = await recorded;
    expect(record.status).toBe('error');
  });
});

describe('errors in Anthropic shape', () => {
  it('401 for a wrong gateway key', async () => {
    const response = await rawRequest(gateway.origin, { method: 'POST', path: '/v1/messages', headers: { 'x-api-key': 'wrong-key-0123456789', 'anthropic-version': '2023-06-01' }, body: { model: MODEL, max_tokens: 10, messages: [] } });
    expect(response.status).toBe(401);
    expect(response.json.type).toBe('error');
    expect(response.json.error.type).toBe('authentication_error');
    const bad = new Anthropic({ apiKey: 'wrong-key-0123456789', baseURL: gateway.origin, maxRetries: 0 });
    await expect(bad.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('the gateway key works as x-api-key too', async () => {
    const keyed = new Anthropic({ apiKey: GATEWAY_KEY, baseURL: gateway.origin, maxRetries: 0 });
    const message = await keyed.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] });
    expect(message.content[0]).toMatchObject({ type: 'text' });
  });

  it('400 naming the field', async () => {
    const error = await client.messages.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
  });

  it('a malformed JSON body on /v1/messages', async () => {
    const response = await rawRequest(gateway.origin, { method: 'POST', path: '/v1/messages?beta=true', headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: '{"model":' });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('529 overloaded from the upstream stays overloaded_error', async () => {
    const error = await client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x [error:529]' }] }).catch((caught: unknown) => caught);
    expect((error as { status?: number }).status).toBe(529);
    expect((error as { error?: unknown }).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });
});

describe('Claude Code', () => {
  const captured = readCaptured(CLAUDE_CODE_CAPTURE);
  captured.body = withSchemasRepaired(captured.body);

  it('the captured request (beta=true, headers, context_management, output_config) is passed through and grouped by session', async () => {
    const headers: Record<string, string> = { ...captured.headers, authorization: `Bearer ${GATEWAY_KEY}` };
    delete headers['accept-encoding'];
    delete headers.connection;
    const body = { ...captured.body, metadata: { user_id: 'user_abc_account_def_session_6d9891cd-e582-4827-bab4-5226d832d1f4' } };
    const recorded = gateway.nextRecord();
    const response = await rawRequest(gateway.origin, { method: 'POST', path: captured.url ?? '', headers, body });
    expect(response.status).toBe(200);
    expect(response.text).toContain('event: message_start');
    expect(response.text).toContain('event: message_stop');
    const upstream = lastUpstream();
    expect(upstream.headers['anthropic-beta']).toBe(captured.headers['anthropic-beta']);
    expect(upstream.body.context_management).toEqual(captured.body.context_management);
    expect(upstream.body.output_config).toEqual(captured.body.output_config);
    expect(upstream.body.tools).toEqual(captured.body.tools);
    const record = await recorded;
    expect(record.conversationId).toBe('6d9891cd-e582-4827-bab4-5226d832d1f4');
  });

  it('a max_tokens 1 probe, session from metadata.user_id', async () => {
    const recorded = gateway.nextRecord();
    const message = await client.messages.create({ model: MODEL, max_tokens: 1, metadata: { user_id: 'user_x_account_y_session_abcdef12-3456' }, messages: [{ role: 'user', content: 'quota' }] });
    expect(message.type).toBe('message');
    expect((await recorded).conversationId).toBe('abcdef12-3456');
  });

  it('count_tokens is exact from Anthropic', async () => {
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'count these four words' }] };
    const response = await rawRequest(gateway.origin, { method: 'POST', path: '/v1/messages/count_tokens?beta=true', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'anthropic-version': '2023-06-01' }, body });
    expect(response.status).toBe(200);
    expect(response.headers['x-switchyard-token-count']).toBe('exact');
    expect(response.json).toEqual({ input_tokens: anthropicUsageFor({ ...body, model: RESOLVED }).input_tokens });
  });

  it('GET /v1/models is Anthropic-shaped with anthropic-version', async () => {
    const page = await client.models.list();
    const ids = page.data.map((model) => model.id);
    expect(ids).toContain(RESOLVED);
    expect(page.data[0]).toMatchObject({ type: 'model', display_name: expect.any(String), created_at: expect.any(String) });
  });

  it('GET /v1/models pages as Anthropic does: limit, after_id, before_id, has_more, first_id, last_id', async () => {
    const headers = { authorization: `Bearer ${GATEWAY_KEY}`, 'anthropic-version': '2023-06-01' };
    const all = await rawRequest(gateway.origin, { method: 'GET', path: '/v1/models?limit=1000', headers });
    const ids = (all.json.data as Array<{ id: string }>).map((model) => model.id);
    expect(ids.length).toBeGreaterThan(3);
    expect(all.json).toMatchObject({ has_more: false, first_id: ids[0], last_id: ids[ids.length - 1] });
    // The SDK's auto-paging walks every page of two and finds the same list.
    const paged: string[] = [];
    for await (const model of client.models.list({ limit: 2 })) paged.push(model.id);
    expect(paged).toEqual(ids);
    const first = await rawRequest(gateway.origin, { method: 'GET', path: '/v1/models?limit=2', headers });
    expect(first.json).toMatchObject({ has_more: true, first_id: ids[0], last_id: ids[1] });
    const next = await rawRequest(gateway.origin, { method: 'GET', path: `/v1/models?limit=2&after_id=${encodeURIComponent(ids[1]!)}`, headers });
    expect((next.json.data as Array<{ id: string }>).map((model) => model.id)).toEqual(ids.slice(2, 4));
    const back = await rawRequest(gateway.origin, { method: 'GET', path: `/v1/models?limit=2&before_id=${encodeURIComponent(ids[3]!)}`, headers });
    expect(back.json).toMatchObject({ first_id: ids[1], last_id: ids[2], has_more: true });
    const bad = await rawRequest(gateway.origin, { method: 'GET', path: '/v1/models?limit=0', headers });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const unknown = await rawRequest(gateway.origin, { method: 'GET', path: '/v1/models?after_id=no-such-model', headers });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain('after_id');
    const one = await client.models.retrieve(ids[0]!);
    expect(one).toMatchObject({ type: 'model', id: ids[0] });
  });
});
