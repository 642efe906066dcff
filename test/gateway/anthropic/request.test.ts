/** OpenAI chat request → Anthropic Messages request: golden fixtures plus the cases that must fail. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import type { ChatCompletionRequest } from '../../../src/main/gateway/openai-types.js';
import { anthropicModelFamily } from '../../../src/main/gateway/providers/anthropic/model-defaults.js';
import { buildAnthropicRequest, prepareAnthropicChat } from '../../../src/main/gateway/providers/anthropic/request.js';
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
      const { body, warnings } = buildAnthropicRequest(fixture.request, fixture.model);
      expect(JSON.stringify(fixture.request), 'the client request is not mutated').toBe(before);
      expectGolden(name, fixture, 'expected', { body, warnings });
    });
  }
});

describe('prepared Anthropic request', () => {
  it('posts to {baseUrl}/v1/messages with x-api-key and anthropic-version', () => {
    const { request } = prepareAnthropicChat({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }], stream: true }, anthropicTarget());
    expect(request.method).toBe('POST');
    expect(request.url).toBe('http://127.0.0.1:9999/v1/messages');
    expect(request.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json', accept: 'text/event-stream' });
    expect(request.headers.authorization).toBeUndefined();
    expect(JSON.parse(request.body!)).toEqual(request.json);
  });

  it('uses the target model, not the name the client sent', () => {
    const { request } = prepareAnthropicChat({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] }, anthropicTarget());
    expect((request.json as { model: string }).model).toBe('claude-sonnet-4-5');
  });
});

describe('requests the gateway refuses', () => {
  const base = { model: 'claude-sonnet-4-5' };
  const refused = (request: Partial<ChatCompletionRequest>) => () => buildAnthropicRequest({ ...base, messages: [{ role: 'user', content: 'Hi' }], ...request } as ChatCompletionRequest, base.model);

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
