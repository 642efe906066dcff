/**
 * `/v1/messages` in front of OpenAI-compatible fakes (OpenAI, xAI), driven by
 * `@anthropic-ai/sdk`: the Messages request is translated through the core, the answer and
 * the stream come back in Anthropic's shapes (event sequence, stop reasons, usage with input
 * excluding cache tokens), Anthropic-only fields are dropped with recorded warnings, and what
 * reaches the fakes passes their validation.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake, type OpenAIFake as ProviderFake } from '../../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../helpers.js';
import { rawRequest } from '../support.js';

const WEATHER: Anthropic.Tool = { name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

let openai: ProviderFake;
let xai: ProviderFake;
let gateway: TestGateway;
let client: Anthropic;

beforeAll(async () => {
  [openai, xai] = await Promise.all([startOpenAIFake({ flavor: 'openai' }), startOpenAIFake({ flavor: 'xai' })]);
  gateway = await startTestGateway({ environment: { OPENAI_API_KEY: 'sk-openai-test-0123456789', OPENAI_BASE_URL: openai.url, XAI_API_KEY: 'xai-test-0123456789', XAI_BASE_URL: xai.url } });
  client = new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: gateway.origin, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), xai?.close()]);
});

afterEach(() => {
  // The OpenAI fakes answer what they reject with a 4xx: no test here expects one from them.
  for (const fake of [openai, xai]) for (const request of fake.requests.splice(0)) expect(request.body).toBeTypeOf('object');
});

function lastUpstream(fake: ProviderFake) {
  return fake.requests[fake.requests.length - 1]!;
}

describe('to OpenAI', () => {
  it('a plain message: text, end_turn, usage', async () => {
    const recorded = gateway.nextRecord();
    const message = await client.messages.create({ model: 'gpt-4.1', max_tokens: 100, system: 'Be terse.', messages: [{ role: 'user', content: 'Hello' }] });
    expect(message.type).toBe('message');
    expect(message.id).toMatch(/^msg_/);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from openai! You said: Hello' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.usage.cache_read_input_tokens).toBe(0);
    const upstream = lastUpstream(openai).body;
    expect(upstream.messages[0]).toEqual({ role: 'system', content: 'Be terse.' });
    const record = await recorded;
    expect(record.endpoint).toBe('/v1/messages');
    expect(record.provider).toBe('openai');
    expect(record.finishReason).toBe('end_turn');
  });

  it('max_tokens → stop_reason max_tokens', async () => {
    const message = await client.messages.create({ model: 'gpt-4.1', max_tokens: 5, messages: [{ role: 'user', content: 'Long [length]' }] });
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('a tool-use round trip, non-streaming', async () => {
    const first = await client.messages.create({ model: 'gpt-4.1', max_tokens: 200, tools: [WEATHER], messages: [{ role: 'user', content: 'Weather? [tools]' }] });
    expect(first.stop_reason).toBe('tool_use');
    const calls = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(calls.map((call) => call.input)).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
    expect(lastUpstream(openai).body.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    const second = await client.messages.create({
      model: 'gpt-4.1',
      max_tokens: 200,
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather? [tools]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: calls.map((call, index) => ({ type: 'tool_result' as const, tool_use_id: call.id, content: index === 0 ? '21°C' : '18°C' })) },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Tool results: 21°C; 18°C' });
    const sent = lastUpstream(openai).body.messages;
    expect(sent.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
  });

  it("streaming: Anthropic's event sequence with indexes, stop reason and usage", async () => {
    const stream = client.messages.stream({ model: 'gpt-4.1', max_tokens: 200, tools: [WEATHER], messages: [{ role: 'user', content: 'Weather? [tools]' }] });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalMessage();
    expect(events[0]!.type).toBe('message_start');
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    expect(events.slice(-2).map((event) => event.type)).toEqual(['message_delta', 'message_stop']);
    // Every delta and stop names a block that was started, indexes count from 0 in order.
    const started: number[] = [];
    for (const event of events) {
      if (event.type === 'content_block_start') started.push(event.index);
      if (event.type === 'content_block_delta' || event.type === 'content_block_stop') expect(started).toContain(event.index);
    }
    expect(started).toEqual(started.map((_, index) => index));
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.filter((block) => block.type === 'tool_use').map((block) => (block as Anthropic.ToolUseBlock).input)).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('Claude Code fields with no OpenAI meaning are dropped with warnings, not a 400', async () => {
    const recorded = gateway.nextRecord();
    const response = await rawRequest(gateway.origin, {
      method: 'POST',
      path: '/v1/messages?beta=true',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219,context-management-2025-06-27', 'x-claude-code-session-id': 'session-42' },
      body: {
        model: 'gpt-4.1',
        max_tokens: 1,
        metadata: { user_id: 'user_abc_account_def_session_0000' },
        context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
        tools: [{ ...WEATHER, cache_control: { type: 'ephemeral' } }, { name: 'Later', input_schema: { type: 'object', properties: {} }, defer_loading: true }, { type: 'web_search_20250305', name: 'web_search' }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'quota', cache_control: { type: 'ephemeral' } }] }],
      },
    });
    expect(response.status).toBe(200);
    expect(response.json.type).toBe('message');
    const upstream = lastUpstream(openai);
    expect(upstream.headers['anthropic-beta']).toBeUndefined();
    expect(upstream.body.context_management).toBeUndefined();
    const record = await recorded;
    expect(record.conversationId).toBe('session-42');
    expect(record.warnings.map((warning) => warning.message).join('\n')).toContain('context_management');
  });

  it('errors come back in Anthropic shape (upstream 429 → rate_limit_error)', async () => {
    const error = await client.messages.create({ model: 'gpt-4.1', max_tokens: 10, messages: [{ role: 'user', content: 'x [error:429]' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as { error?: unknown }).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('a mid-stream failure is an error event', async () => {
    const stream = client.messages.stream({ model: 'gpt-4.1', max_tokens: 100, messages: [{ role: 'user', content: 'x [error:midstream]' }] });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it('count_tokens is estimated and says so', async () => {
    const response = await rawRequest(gateway.origin, { method: 'POST', path: '/v1/messages/count_tokens', headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'count these words please' }] } });
    expect(response.status).toBe(200);
    expect(response.headers['x-switchyard-token-count']).toBe('estimated');
    expect(response.json.input_tokens).toBeGreaterThan(0);
  });
});

describe('to xAI (reasoning)', () => {
  it('a thinking round trip: reasoning comes back as a thinking block and its replay is accepted', async () => {
    const first = await client.messages.create({ model: 'xai/grok-3-mini', max_tokens: 300, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [WEATHER], messages: [{ role: 'user', content: 'Think [reasoning] [tools]' }] });
    const thinking = first.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.type).toBe('thinking');
    expect(thinking.thinking).toContain('Let me think');
    const calls = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(calls.length).toBeGreaterThan(0);
    const second = await client.messages.create({
      model: 'xai/grok-3-mini',
      max_tokens: 300,
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Think [reasoning] [tools]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: calls.map((call) => ({ type: 'tool_result' as const, tool_use_id: call.id, content: 'sunny' })) },
      ],
    });
    expect(second.content.some((block) => block.type === 'text')).toBe(true);
    const replayed = lastUpstream(xai).body.messages[1];
    expect(replayed.role).toBe('assistant');
    expect(replayed.tool_calls).toHaveLength(calls.length);
  });
});
