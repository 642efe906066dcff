/**
 * Streams from `/v1/messages` to Anthropic are the upstream's own SSE bytes (same-format stream
 * pass-through): the text the official SDK's client receives is exactly what the Anthropic fake
 * wrote, citations_delta where Anthropic put it, pings and newer event types included; usage and
 * the log are still exact, from the same events decoded on the way.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CITATION, THINKING_TEXT, TOOL_PREAMBLE, anthropicUsageFor, countWords, defaultAnthropicReply, startAnthropicFake, type AnthropicFake } from '../../fakes/anthropic-fake.js';
import { startFaultProxy } from '../../fakes/fault-proxy.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../helpers.js';

const API_KEY = 'sk-ant-stream-passthrough-0123456789';
const MODEL = 'claude-sonnet-4-5';
const RESOLVED = 'claude-sonnet-4-5-20250929';
const WEATHER: Anthropic.Tool = { name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

let fake: AnthropicFake;
let gateway: TestGateway;
let client: Anthropic;
/** The body text of every response the client received, in order. */
const received: Array<Promise<string>> = [];

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY });
  gateway = await startTestGateway({ environment: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: fake.url } });
  const capturing: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    received.push(response.clone().text());
    return response;
  };
  client = new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: gateway.origin, maxRetries: 0, fetch: capturing });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
});

afterEach(() => {
  expect(fake.rejected.splice(0)).toEqual([]);
});

/** Streams one request through the SDK: the event types seen, the final message, the raw text received, the fake's raw text. */
async function stream(params: Anthropic.MessageStreamParams) {
  const recorded = gateway.nextRecord();
  const sdkStream = client.messages.stream(params);
  const types: string[] = [];
  for await (const event of sdkStream) types.push(event.type === 'content_block_delta' ? `delta:${(event.delta as { type: string }).type}` : event.type);
  const final = await sdkStream.finalMessage();
  return { types, final, text: await received[received.length - 1]!, upstream: fake.streams[fake.streams.length - 1]!, record: await recorded };
}

describe('stream pass-through to Anthropic', () => {
  it('the client receives the fake’s bytes exactly, pings included; usage and the log exact', async () => {
    const params = { model: MODEL, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Hi there [ping] [cache]' }] };
    const { text, upstream, final, record } = await stream(params);
    expect(text).toBe(upstream);
    expect(text.split('event: ping\n').length - 1).toBeGreaterThan(3);
    const usage = anthropicUsageFor({ ...params, model: RESOLVED });
    expect(final.content).toEqual([{ type: 'text', text: defaultAnthropicReply('Hi there [ping] [cache]') }]);
    expect(final.usage).toMatchObject({ input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_read_input_tokens: 100, cache_creation_input_tokens: 50 });
    expect(record).toMatchObject({ endpoint: '/v1/messages', provider: 'anthropic', status: 'success', stream: true, finishReason: 'end_turn' });
    expect(record.usage).toMatchObject({ inputTokens: usage.input_tokens + 150, cachedInputTokens: 100, cacheWriteInputTokens: 50, outputTokens: usage.output_tokens, reasoningTokens: 0 });
    expect(record.timeToFirstTokenMs).not.toBeNull();
    expect(record.responseBody).toMatchObject({ type: 'message', model: RESOLVED, stop_reason: 'end_turn', content: [{ type: 'text', text: defaultAnthropicReply('Hi there [ping] [cache]') }] });
  });

  it('citations_delta stays where Anthropic put it (after the first text_delta), and the log keeps the citation', async () => {
    const { text, upstream, types, final, record } = await stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Cite it [citations]' }] });
    expect(text).toBe(upstream);
    expect(types.slice(0, 4)).toEqual(['message_start', 'content_block_start', 'delta:text_delta', 'delta:citations_delta']);
    expect(types.indexOf('delta:citations_delta')).toBeLessThan(types.lastIndexOf('delta:text_delta'));
    expect(final.content[0]).toMatchObject({ type: 'text', text: defaultAnthropicReply('Cite it [citations]'), citations: [FAKE_CITATION] });
    expect(record.status).toBe('success');
    expect((record.responseBody as { content: unknown[] }).content[0]).toMatchObject({ type: 'text', citations: [FAKE_CITATION] });
  });

  it('event and delta types newer than the gateway pass through unchanged', async () => {
    const { text, upstream, types, final, record } = await stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Newer things [future]' }] });
    expect(text).toBe(upstream);
    expect(text).toContain('event: message_future\ndata: {"type":"message_future"');
    expect(text).toContain('"delta":{"type":"future_delta"');
    expect(types).toContain('message_future');
    expect(types).toContain('delta:future_delta');
    expect(final.content[0]).toMatchObject({ type: 'text', text: defaultAnthropicReply('Newer things [future]') });
    expect(record.status).toBe('success');
    expect(record.usage?.outputTokens).toBe(countWords(defaultAnthropicReply('Newer things [future]')));
  });

  it('thinking and tool calls: the bytes exact, the signature as issued, usage and the log exact', async () => {
    const params = { model: MODEL, max_tokens: 4000, thinking: { type: 'enabled' as const, budget_tokens: 1024 }, tools: [WEATHER], messages: [{ role: 'user' as const, content: 'Think and call [tools]' }] };
    const { text, upstream, final, record } = await stream(params);
    expect(text).toBe(upstream);
    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
    const signature = (final.content[0] as Anthropic.ThinkingBlock).signature;
    expect(upstream).toContain(JSON.stringify({ type: 'signature_delta', signature }));
    expect(record.finishReason).toBe('tool_use');
    const usage = anthropicUsageFor({ ...params, model: RESOLVED });
    expect(usage.output_tokens).toBe(countWords(TOOL_PREAMBLE) + countWords(THINKING_TEXT) + 10);
    expect(record.usage).toMatchObject({ inputTokens: usage.input_tokens, outputTokens: usage.output_tokens });
    const logged = record.responseBody as { content: Array<Record<string, unknown>> };
    expect(logged.content[0]).toEqual({ type: 'thinking', thinking: THINKING_TEXT, signature });
    expect(logged.content.slice(2).map((block) => block.input)).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
  });

  it("an upstream error mid-stream: the fake's events up to it, then Anthropic's error event; logged as failed", async () => {
    const recorded = gateway.nextRecord();
    const sdkStream = client.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Break [error:midstream]' }] });
    await expect(sdkStream.finalMessage()).rejects.toThrow(/Overloaded/);
    const text = await received[received.length - 1]!;
    const upstream = fake.streams[fake.streams.length - 1]!;
    const before = upstream.slice(0, upstream.indexOf('event: error\n'));
    expect(text.startsWith(before)).toBe(true);
    const frame = text.slice(before.length);
    expect(frame).toMatch(/^event: error\ndata: (.*)\n\n$/);
    expect(JSON.parse(frame.slice(frame.indexOf('data: ') + 6))).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: expect.stringContaining('Overloaded') } });
    const record = await recorded;
    expect(record.status).toBe('error');
    expect(record.responseBody).toMatchObject({ content: [{ type: 'text', text: 'Hel' }] });
  });
});

describe('a gateway-side failure mid-stream', () => {
  it('the upstream stalls inside an event: the whole events before it, then the idle timeout as an Anthropic error event', async () => {
    const proxy = await startFaultProxy(fake.url);
    const stalling = await startTestGateway({ environment: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: proxy.url }, file: { providers: { anthropic: { timeouts: { idleSeconds: 0.3 } } } } });
    try {
      proxy.fail({ stallAfterBytes: 700 });
      const capture: Array<Promise<string>> = [];
      const capturing: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        capture.push(response.clone().text());
        return response;
      };
      const stallingClient = new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: stalling.origin, maxRetries: 0, fetch: capturing });
      const recorded = stalling.nextRecord();
      const sdkStream = stallingClient.messages.stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'A long enough reply to pass seven hundred bytes' }] });
      await expect(sdkStream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
      const text = await capture[0]!;
      const upstream = fake.streams[fake.streams.length - 1]!;
      // What went through the proxy, cut back to the last whole event.
      const forwarded = Buffer.from(upstream, 'utf8').subarray(0, 700).toString('utf8');
      const whole = forwarded.slice(0, forwarded.lastIndexOf('\n\n') + 2);
      expect(whole.length).toBeGreaterThan(0);
      expect(forwarded.length).toBeGreaterThan(whole.length);
      expect(text.startsWith(whole)).toBe(true);
      const frame = text.slice(whole.length);
      expect(frame).toMatch(/^event: error\ndata: .*\n\n$/);
      expect(JSON.parse(frame.slice(frame.indexOf('data: ') + 6))).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
      const record = await recorded;
      expect(record.status).toBe('error');
    } finally {
      await stalling.close();
      await proxy.close();
    }
  });
});
