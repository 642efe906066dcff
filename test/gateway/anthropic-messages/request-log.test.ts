/**
 * `/v1/messages` requests in the request log (the storage writer thread and its database):
 * the endpoint, the client's Anthropic body beside the translated upstream one, usage and cost
 * exact from published prices, and Claude Code's X-Claude-Code-Session-Id grouping a session's
 * requests, whichever provider served each, into one conversation. The messages are stored
 * content-addressed (system apart, content blocks whole) and come back unchanged.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicUsageFor, defaultAnthropicReply, startAnthropicFake, type AnthropicFake } from '../../fakes/anthropic-fake.js';
import { fakeUsageFor, startOpenAIFake, type OpenAIFake } from '../../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../helpers.js';
import { openRequestLog, type RequestLog } from '../../../src/main/storage/request-log.js';
import { getRequest } from '../../../src/main/storage/request-log-queries.js';
import { canonicalJson } from '../../../src/main/storage/content-addressing.js';
import type { RequestRecord } from '../../../src/main/gateway/types.js';

/** Published list prices as nano-USD per token: Claude Haiku 4.5 ($1 / $0.10 cache read / $1.25 cache write / $5), GPT-4.1 ($2 / $0.50 cached / $8). */
const HAIKU = { input: 1000, cacheRead: 100, cacheWrite: 1250, output: 5000 };
const GPT41 = { input: 2000, cached: 500, output: 8000 };

let anthropic: AnthropicFake;
let openai: OpenAIFake;
let gateway: TestGateway;
let client: Anthropic;
let log: RequestLog;
let directory: string;

beforeAll(async () => {
  [anthropic, openai] = await Promise.all([startAnthropicFake({ apiKey: 'sk-ant-log-0123456789' }), startOpenAIFake({ flavor: 'openai', apiKey: 'sk-openai-log-0123456789' })]);
  gateway = await startTestGateway({ environment: { ANTHROPIC_API_KEY: 'sk-ant-log-0123456789', ANTHROPIC_BASE_URL: anthropic.url, OPENAI_API_KEY: 'sk-openai-log-0123456789', OPENAI_BASE_URL: openai.url } });
  client = new Anthropic({ authToken: GATEWAY_KEY, apiKey: null, baseURL: gateway.origin, maxRetries: 0 });
  directory = mkdtempSync(join(tmpdir(), 'switchyard-messages-log-'));
  log = openRequestLog(directory, { flushIntervalMs: 5 });
});

afterAll(async () => {
  await log?.close();
  await gateway?.close();
  await Promise.all([anthropic?.close(), openai?.close()]);
  rmSync(directory, { recursive: true, force: true });
});

/** Runs one call and hands the gateway's record to the request log, as the app's observer does. */
async function logged(call: () => Promise<unknown>): Promise<RequestRecord> {
  const recorded = gateway.nextRecord();
  await call();
  const record = await recorded;
  log.observer.requestFinished(record);
  await log.committed();
  return record;
}

const SYSTEM: Anthropic.TextBlockParam[] = [
  { type: 'text', text: 'You are Claude Code.' },
  { type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } },
];
const FIRST_USER: Anthropic.MessageParam = { role: 'user', content: [{ type: 'text', text: '<system-reminder>context</system-reminder>' }, { type: 'text', text: 'Hello there [cache]' }] };

describe('/v1/messages in the request log', () => {
  it('a session over two providers: bodies, usage, cost and one conversation', async () => {
    const session = { headers: { 'X-Claude-Code-Session-Id': 'cc-session-1' } };
    // Turn 1, streamed, to Anthropic (pass-through).
    const first = { model: 'claude-haiku-4-5', max_tokens: 200, system: SYSTEM, messages: [FIRST_USER] };
    let reply!: Anthropic.Message;
    const one = await logged(async () => {
      reply = await client.messages.stream(first, session).finalMessage();
    });
    // Turn 2, not streamed, the same session to OpenAI (translated).
    const second = { model: 'gpt-4.1', max_tokens: 200, system: SYSTEM, messages: [FIRST_USER, { role: 'assistant' as const, content: reply.content }, { role: 'user' as const, content: 'And now?' }] };
    const two = await logged(() => client.messages.create(second, session));
    // Another session with the same opening is another conversation.
    const three = await logged(() => client.messages.create(first, { headers: { 'X-Claude-Code-Session-Id': 'cc-session-2' } }));

    const stored1 = getRequest(log.database, one.id)!;
    const stored2 = getRequest(log.database, two.id)!;
    const stored3 = getRequest(log.database, three.id)!;
    for (const stored of [stored1, stored2, stored3]) expect(stored.summary.endpoint).toBe('/v1/messages');
    expect(stored1.summary.conversationId).toBe('cc-session-1');
    expect(stored2.summary.conversationId).toBe('cc-session-1');
    expect(stored3.summary.conversationId).toBe('cc-session-2');

    // The client's Anthropic bodies come back whole: system apart, content blocks, cache_control.
    expect(stored1.requestBody).toEqual(JSON.parse(JSON.stringify({ ...first, stream: true })));
    expect(stored2.requestBody).toEqual(JSON.parse(JSON.stringify(second)));
    // Upstream: Anthropic got the client's body; OpenAI the translation.
    expect(stored1.upstreamRequestBody).toEqual(anthropic.requests.at(-2)!.body);
    expect(stored2.upstreamRequestBody).toEqual(openai.requests.at(-1)!.body);
    expect((stored2.upstreamRequestBody as { messages: Array<{ role: string }> }).messages.map((message) => message.role)).toEqual(['system', 'system', 'user', 'assistant', 'user']);
    // The response as the client saw it, in Anthropic's shape.
    expect(stored1.responseBody).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: defaultAnthropicReply('<system-reminder>context</system-reminder> Hello there [cache]') }] });
    expect(stored2.responseBody).toMatchObject({ type: 'message', content: [{ type: 'text', text: expect.stringContaining('And now?') }] });

    // Usage and cost exact.
    const usage1 = anthropicUsageFor(anthropic.requests.at(-2)!.body);
    expect(stored1.summary).toMatchObject({ inputTokens: usage1.input_tokens + 150, cachedInputTokens: 100, outputTokens: usage1.output_tokens, priced: true, usageEstimated: false });
    expect(stored1.summary.costNanoUsd).toBe(usage1.input_tokens * HAIKU.input + 100 * HAIKU.cacheRead + 50 * HAIKU.cacheWrite + usage1.output_tokens * HAIKU.output);
    const usage2 = fakeUsageFor('openai', openai.requests.at(-1)!.body);
    const cached2 = usage2.prompt_tokens_details.cached_tokens as number;
    expect(stored2.summary).toMatchObject({ inputTokens: usage2.prompt_tokens, outputTokens: usage2.completion_tokens, priced: true });
    expect(stored2.summary.costNanoUsd).toBe((usage2.prompt_tokens - cached2) * GPT41.input + cached2 * GPT41.cached + usage2.completion_tokens * GPT41.output);

    // One conversation row for the session, its totals the sum of its requests.
    const conversation = log.database.prepare('SELECT requests, input_tokens, output_tokens, cost_nano_usd, title FROM conversations WHERE id = ?').get('cc-session-1') as Record<string, unknown>;
    expect(conversation).toMatchObject({
      requests: 2,
      input_tokens: stored1.summary.inputTokens + stored2.summary.inputTokens,
      output_tokens: stored1.summary.outputTokens + stored2.summary.outputTokens,
      cost_nano_usd: stored1.summary.costNanoUsd! + stored2.summary.costNanoUsd!,
    });
    expect(String(conversation.title)).toContain('Hello there');

    // The opening message the three requests (and Anthropic's upstream body) share is stored once.
    const firstUserRows = log.database.prepare('SELECT COUNT(*) FROM messages WHERE content_json = ?').pluck().get(canonicalJson(FIRST_USER, true));
    expect(firstUserRows).toBe(1);
  });
});
