/**
 * Core request → Anthropic Messages request. The golden fixtures map OpenAI chat requests to
 * Anthropic requests; they run by composition: OpenAI request → openai-chat decode → the
 * adapter's prepare. Plus the cases that must fail, and what only the core can say (replayed
 * signatures, Anthropic extensions, hosted tools and native parts).
 */
import { describe, expect, it } from 'vitest';
import type { CoreRequest } from '../../../src/main/core/types.js';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { decodeChatRequest } from '../../../src/main/gateway/formats/openai-chat/decode.js';
import type { ChatCompletionRequest } from '../../../src/main/gateway/openai-types.js';
import { anthropicModelFamily } from '../../../src/main/gateway/providers/anthropic/model-defaults.js';
import { buildAnthropicRequest, prepareAnthropicRequest } from '../../../src/main/gateway/providers/anthropic/request.js';
import { anthropicToolCallId } from '../../../src/main/gateway/providers/anthropic/tool-call-id.js';
import { expectGolden, fixtureNames, readFixture } from './fixture-files.js';

interface RequestFixture {
  description: string;
  model: string;
  request: ChatCompletionRequest;
  expected?: unknown;
  [key: string]: unknown;
}

function anthropicTarget(apiKey: string | null = 'sk-ant-test') {
  const provider = loadConfig({ environment: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999/' } }).providers.find((candidate) => candidate.id === 'anthropic')!;
  return { provider, model: 'claude-sonnet-4-5', apiKey };
}

describe('OpenAI request → Anthropic request (golden fixtures)', () => {
  const names = fixtureNames('request-');
  it('has fixtures', () => expect(names.length).toBeGreaterThanOrEqual(30));
  for (const name of names) {
    const fixture = readFixture<RequestFixture>(name);
    it(`${name.replace(/^request-|\.json$/g, '')}: ${fixture.description}`, () => {
      const before = JSON.stringify(fixture.request);
      const core = decodeChatRequest(fixture.request);
      const coreBefore = JSON.stringify(core);
      const { body, warnings } = buildAnthropicRequest(core, fixture.model);
      expect(JSON.stringify(fixture.request), 'the client request is not mutated').toBe(before);
      expect(JSON.stringify(core), 'the core request is not mutated').toBe(coreBefore);
      expectGolden(name, fixture, 'expected', { body, warnings });
    });
  }
});

describe('prepared Anthropic request', () => {
  it('posts to {baseUrl}/v1/messages with x-api-key and anthropic-version', () => {
    const { request } = prepareAnthropicRequest(decodeChatRequest({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }], stream: true }), anthropicTarget());
    expect(request.method).toBe('POST');
    expect(request.url).toBe('http://127.0.0.1:9999/v1/messages');
    expect(request.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json', accept: 'text/event-stream' });
    expect(request.headers.authorization).toBeUndefined();
    expect(JSON.parse(request.body!)).toEqual(request.json);
  });

  it('uses the target model, not the name the client sent', () => {
    const { request } = prepareAnthropicRequest(decodeChatRequest({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] }), anthropicTarget());
    expect((request.json as { model: string }).model).toBe('claude-sonnet-4-5');
  });
});

describe('requests the gateway refuses', () => {
  const base = { model: 'claude-sonnet-4-5' };
  const refused = (request: Partial<ChatCompletionRequest>) => () => buildAnthropicRequest(decodeChatRequest({ ...base, messages: [{ role: 'user', content: 'Hi' }], ...request } as ChatCompletionRequest), base.model);

  it('an image URL that is neither http(s) nor data:', () => {
    const run = refused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] });
    expect(run).toThrow(GatewayError);
    expect(run).toThrow(/http\(s\) URL or a data: URL/);
  });

  it('a data: image of a type Anthropic cannot take', () => {
    expect(refused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' } }] }] })).toThrow(/image\/jpeg, image\/png/);
  });

  it('tool_choice naming a function that is not in tools', () => {
    expect(refused({ tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } })).toThrow(/'b', which is not in 'tools'/);
  });

  it('a tool whose parameters are not an object schema', () => {
    expect(refused({ tools: [{ type: 'function', function: { name: 'a', parameters: { type: 'string' } } }] })).toThrow(/"type": "object"/);
  });
});

describe('tool-call ids', () => {
  it('keeps valid ids and rewrites others deterministically without collisions', () => {
    expect(anthropicToolCallId('toolu_01A-b')).toBe('toolu_01A-b');
    const rewritten = anthropicToolCallId('functions.get_weather:0');
    expect(rewritten).toMatch(/^functions_get_weather_0_[0-9a-f]{8}$/);
    expect(anthropicToolCallId('functions.get_weather:0')).toBe(rewritten);
    expect(anthropicToolCallId('functions:get_weather.0')).not.toBe(rewritten);
    expect(anthropicToolCallId('')).toMatch(/^call_[0-9a-f]{8}$/);
  });
});

describe('model families', () => {
  it.each([
    ['claude-opus-4-8', 'claude-opus-4-7+'],
    ['claude-opus-4-7-20260416', 'claude-opus-4-7+'],
    ['claude-sonnet-5', 'claude-5+'],
    ['claude-opus-4-6', 'claude-opus-4-6'],
    ['claude-sonnet-4-6', 'claude-sonnet-4-6'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-haiku-4-5', 'claude-haiku-4-5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-opus-4-0', 'claude-opus-4'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
    ['claude-3-5-haiku-20241022', 'claude-3-5'],
    ['claude-3-haiku-20240307', 'claude-3'],
    ['claude-something-new', 'claude (unknown)'],
  ])('%s → %s', (model, family) => {
    expect(anthropicModelFamily(model).name).toBe(family);
  });
});

// ───────────────────────────── what only the core carries ─────────────────────────────

function coreRequest(overrides: Partial<CoreRequest>): CoreRequest {
  return {
    model: 'claude-sonnet-4-5',
    system: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    tools: [],
    toolChoice: null,
    parallelToolCalls: null,
    maxOutputTokens: 1024,
    temperature: null,
    topP: null,
    topK: null,
    stop: [],
    seed: null,
    presencePenalty: null,
    frequencyPenalty: null,
    choices: 1,
    reasoning: null,
    responseFormat: null,
    stream: false,
    streamUsage: false,
    user: null,
    metadata: null,
    promptCacheKey: null,
    extensions: null,
    ...overrides,
  };
}

describe('core → Anthropic', () => {
  // Signatures and redacted data as Anthropic minted them: odd characters, padding, long.
  const signature = 'EqQBCkYIBxgCKkB+/=="\\u00e9 ✓'.repeat(40);
  const redacted = 'EmwKAhgBEgy3va3pzix/+==';

  it('replays thinking and redacted thinking byte for byte, in the order the model produced them', () => {
    const core = coreRequest({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'Think ✓\n', providerData: { family: 'anthropic', data: { signature } } },
            { type: 'reasoning', text: '', redacted: true, providerData: { family: 'anthropic', data: { data: redacted } } },
            { type: 'tool-call', id: 'toolu_1', name: 'w', input: '{"city":"Lisbon"}', kind: 'function' },
            { type: 'reasoning', text: 'Again', providerData: { family: 'anthropic', data: { signature: 'sig-2' } } },
            { type: 'tool-call', id: 'toolu_2', name: 'w', input: '{"city":"Porto"}', kind: 'function' },
          ],
        },
        { role: 'tool', content: [{ type: 'tool-result', callId: 'toolu_1', content: 'sunny', isError: false }] },
        { role: 'tool', content: [{ type: 'tool-result', callId: 'toolu_2', content: 'boom', isError: true, cacheControl: { type: 'ephemeral' } }] },
      ],
      reasoning: { enabled: true, effort: 'medium' },
      maxOutputTokens: 8000,
    });
    const { request, warnings } = prepareAnthropicRequest(core, anthropicTarget());
    expect(warnings).toEqual([]);
    const body = request.body!;
    expect(body).toContain(JSON.stringify(signature));
    expect(body).toContain(JSON.stringify(redacted));
    const json = request.json as { messages: Array<{ content: unknown[] }>; thinking: unknown };
    expect(json.messages[1]!.content).toEqual([
      { type: 'thinking', thinking: 'Think ✓\n', signature },
      { type: 'redacted_thinking', data: redacted },
      { type: 'tool_use', id: 'toolu_1', name: 'w', input: { city: 'Lisbon' } },
      { type: 'thinking', thinking: 'Again', signature: 'sig-2' },
      { type: 'tool_use', id: 'toolu_2', name: 'w', input: { city: 'Porto' } },
    ]);
    expect(json.messages[2]!.content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
      { type: 'tool_result', tool_use_id: 'toolu_2', content: 'boom', is_error: true, cache_control: { type: 'ephemeral' } },
    ]);
    expect(json.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });

  it('drops reasoning signed by another family, with a warning', () => {
    const core = coreRequest({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: [{ type: 'reasoning', text: 'hmm', providerData: { family: 'openai', data: { encryptedContent: 'x' } } }, { type: 'text', text: 'Hello' }] },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
    });
    const { body, warnings } = buildAnthropicRequest(core, 'claude-sonnet-4-5');
    expect(body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hello' }] });
    expect(warnings.map((warning) => warning.parameter)).toEqual(['messages[1].reasoning_content']);
  });

  it('passes Anthropic extensions, hosted tools and native parts through; anthropic-beta and anthropic-version as headers', () => {
    const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
    const searchResult = { type: 'search_result', source: 'https://example.com', title: 'T', content: [{ type: 'text', text: 'x' }], citations: { enabled: true } };
    const serverUse = { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } };
    const serverResult = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] };
    const core = coreRequest({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Find' }, { type: 'native', family: 'anthropic', kind: 'search_result', value: searchResult }] },
        { role: 'assistant', content: [{ type: 'native', family: 'anthropic', kind: 'server_tool_use', value: serverUse }, { type: 'native', family: 'anthropic', kind: 'web_search_tool_result', value: serverResult }, { type: 'text', text: 'Found.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
      ],
      tools: [{ type: 'hosted', family: 'anthropic', kind: 'web_search_20250305', value: webSearch }, { type: 'hosted', family: 'openai', kind: 'file_search', value: { type: 'file_search' } }],
      extensions: { family: 'anthropic', fields: { context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] }, 'anthropic-beta': ['context-management-2025-06-27', 'web-search-2025-03-05'], 'anthropic-version': '2023-06-01' } },
    });
    const { request, warnings } = prepareAnthropicRequest(core, anthropicTarget());
    const json = request.json as Record<string, unknown> & { messages: Array<{ content: unknown[] }> };
    expect(json.tools).toEqual([webSearch]);
    expect(json.context_management).toEqual({ edits: [{ type: 'clear_tool_uses_20250919' }] });
    expect(json['anthropic-beta']).toBeUndefined();
    expect(json.messages[0]!.content[1]).toEqual(searchResult);
    expect(json.messages[1]!.content).toEqual([serverUse, serverResult, { type: 'text', text: 'Found.' }]);
    expect(request.headers['anthropic-beta']).toBe('context-management-2025-06-27,web-search-2025-03-05');
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(warnings).toEqual([{ type: 'unsupported-parameter', parameter: 'tools[1]', message: "tools[1] dropped: Anthropic takes function tools only, got 'file_search'" }]);
  });

  it("drops another family's extensions with a warning each", () => {
    const core = coreRequest({ extensions: { family: 'gemini', fields: { safetySettings: [], cachedContent: 'c' } } });
    const { body, warnings } = buildAnthropicRequest(core, 'claude-sonnet-4-5');
    expect(body).not.toHaveProperty('safetySettings');
    expect(warnings.map((warning) => warning.message)).toEqual(['safetySettings dropped: Anthropic does not support it', 'cachedContent dropped: Anthropic does not support it']);
  });

  it('a thinking budget without an effort (an Anthropic client) is used as given; adaptive models get adaptive thinking', () => {
    const budget = buildAnthropicRequest(coreRequest({ maxOutputTokens: 16_000, reasoning: { enabled: true, budgetTokens: 10_000 } }), 'claude-sonnet-4-5');
    expect(budget.body.thinking).toEqual({ type: 'enabled', budget_tokens: 10_000 });
    expect(budget.body.max_tokens).toBe(16_000);
    const adaptive = buildAnthropicRequest(coreRequest({ reasoning: { enabled: true } }), 'claude-opus-4-7');
    expect(adaptive.body.thinking).toEqual({ type: 'adaptive', display: 'summarized' });
    expect(adaptive.body.output_config).toBeUndefined();
  });

  it('documents: text and URL sources, title, cache control', () => {
    const core = coreRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'file', source: { kind: 'text', text: 'Plain.', mediaType: 'text/plain' }, title: 'Notes', cacheControl: { type: 'ephemeral', ttl: '1h' } },
            { type: 'file', source: { kind: 'url', url: 'https://example.com/a.pdf' } },
            { type: 'text', text: 'Summarise.' },
          ],
        },
      ],
    });
    expect(buildAnthropicRequest(core, 'claude-sonnet-4-5').body.messages[0]!.content).toEqual([
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Plain.' }, title: 'Notes', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
      { type: 'text', text: 'Summarise.' },
    ]);
  });
});
