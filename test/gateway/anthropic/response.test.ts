/**
 * Anthropic Message → core response. The golden fixtures map Anthropic answers to OpenAI
 * chat.completions; they run by composition: the adapter's parseResponse → openai-chat
 * encode-response (and the usage the log records). Plus malformed bodies, stop reasons, and
 * what only the core keeps (signatures, citations, server tool blocks, native usage).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { openAIFinishReason } from '../../../src/main/gateway/formats/openai-chat/conventions.js';
import { encodeChatCompletion } from '../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { recordUsage } from '../../../src/main/gateway/pipeline/record-usage.js';
import { anthropicAdapter } from '../../../src/main/gateway/providers/anthropic/index.js';
import { mapStopReason } from '../../../src/main/gateway/providers/anthropic/finish-reason.js';
import { parseAnthropicResponse } from '../../../src/main/gateway/providers/anthropic/response.js';
import { decodeChatRequest } from '../../../src/main/gateway/formats/openai-chat/decode.js';
import { expectGolden, fixtureNames, readFixture } from './fixture-files.js';

const CREATED = 1_700_000_000;
const provider = loadConfig({ environment: {} }).providers.find((candidate) => candidate.id === 'anthropic')!;
const target = { provider, model: 'claude-sonnet-4-5', apiKey: 'sk-ant-test' };

describe('Anthropic response → OpenAI response (golden fixtures)', () => {
  const names = fixtureNames('response-');
  it('has fixtures', () => expect(names.length).toBeGreaterThanOrEqual(10));
  for (const name of names) {
    const fixture = readFixture(name);
    it(`${name.replace(/^response-|\.json$/g, '')}: ${String(fixture.description)}`, () => {
      const core = parseAnthropicResponse(Buffer.from(JSON.stringify(fixture.message)), target, CREATED);
      const finish = core.choices[0]!.finish;
      expectGolden(name, fixture, 'expected', { response: encodeChatCompletion(core), usage: recordUsage(core.usage), finishReason: finish?.raw ?? openAIFinishReason(finish) });
      // Byte for byte what the OpenAI client got before the core.
      expect(JSON.stringify(encodeChatCompletion(core))).toBe(JSON.stringify((fixture.expected as { response: unknown }).response));
    });
  }
});

describe('malformed responses', () => {
  it('invalid JSON → 502 bad_upstream_response', () => {
    try {
      parseAnthropicResponse(Buffer.from('<html>'), target);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).status).toBe(502);
      expect((error as GatewayError).code).toBe('bad_upstream_response');
    }
  });

  it('a body without content → 502', () => {
    expect(() => parseAnthropicResponse(Buffer.from('{"type":"message"}'), target)).toThrow(/without content/);
  });
});

describe('stop reasons', () => {
  it.each([
    ['end_turn', 'stop', 'stop'],
    ['stop_sequence', 'stop-sequence', 'stop'],
    ['pause_turn', 'pause', 'stop'],
    ['max_tokens', 'length', 'length'],
    ['model_context_window_exceeded', 'length', 'length'],
    ['tool_use', 'tool-calls', 'tool_calls'],
    ['refusal', 'content-filter', 'content_filter'],
    ['something_new', 'other', 'stop'],
  ])('%s → %s (OpenAI %s), raw kept', (raw, unified, openAI) => {
    expect(mapStopReason(raw)).toEqual({ unified, raw });
    expect(openAIFinishReason(mapStopReason(raw))).toBe(openAI);
  });
  it('null → other with raw null', () => expect(mapStopReason(null)).toEqual({ unified: 'other', raw: null }));
  it('the stop sequence is kept', () => expect(mapStopReason('stop_sequence', '###')).toEqual({ unified: 'stop-sequence', raw: 'stop_sequence', stopSequence: '###' }));
});

describe('what the core keeps of an Anthropic answer', () => {
  const signature = 'EqQBCkYIBxgCKkB+/=="\\u00e9 ✓'.repeat(20);
  const citations = [{ type: 'web_search_result_location', url: 'https://example.com', title: 'E', encrypted_index: 'Eo8B', cited_text: 'x' }];
  const serverUse = { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } };
  const serverResult = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', url: 'https://example.com', title: 'E', encrypted_content: 'abc', page_age: null }] };
  const usage = { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 20, server_tool_use: { web_search_requests: 1 } };
  const message = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [
      { type: 'thinking', thinking: 'Search first.', signature },
      { type: 'redacted_thinking', data: 'EmwK/+==' },
      serverUse,
      serverResult,
      { type: 'text', text: 'It is sunny.', citations },
      { type: 'tool_use', id: 'toolu_1', name: 'w', input: { city: 'Lisbon' } },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage,
  };

  it('every block in order: signatures and redacted data untouched, citations, server tool blocks native, tool calls', () => {
    const { response } = anthropicAdapter.parseResponse(Buffer.from(JSON.stringify(message)), target, decodeChatRequest({ model: 'm', messages: [] }));
    expect(response.choices[0]!.content).toEqual([
      { type: 'reasoning', text: 'Search first.', providerData: { family: 'anthropic', data: { signature } } },
      { type: 'reasoning', text: '', redacted: true, providerData: { family: 'anthropic', data: { data: 'EmwK/+==' } } },
      { type: 'native', family: 'anthropic', kind: 'server_tool_use', value: serverUse },
      { type: 'native', family: 'anthropic', kind: 'web_search_tool_result', value: serverResult },
      { type: 'text', text: 'It is sunny.', citations: { family: 'anthropic', data: { citations } } },
      { type: 'tool-call', id: 'toolu_1', name: 'w', input: '{"city":"Lisbon"}', kind: 'function' },
    ]);
    expect(response.choices[0]!.finish).toEqual({ unified: 'tool-calls', raw: 'tool_use', stopSequence: null });
    expect(response.usage).toEqual({
      inputTokens: 115,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 5,
      outputTokens: 20,
      reasoningTokens: null,
      raw: usage,
      native: { family: 'anthropic', data: usage },
    });
  });

  it('usage Anthropic did not report is unknown, not zero', () => {
    const core = parseAnthropicResponse(Buffer.from(JSON.stringify({ ...message, usage: { output_tokens: 3 } })), target);
    expect(core.usage).toMatchObject({ inputTokens: null, cachedInputTokens: null, cacheWriteInputTokens: null, outputTokens: 3, reasoningTokens: null });
  });
});
