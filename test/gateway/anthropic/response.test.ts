/** Anthropic Message → OpenAI chat.completion: golden fixtures and malformed bodies. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { mapStopReason } from '../../../src/main/gateway/providers/anthropic/finish-reason.js';
import { parseAnthropicResponse } from '../../../src/main/gateway/providers/anthropic/response.js';
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
      const parsed = parseAnthropicResponse(Buffer.from(JSON.stringify(fixture.message)), target, CREATED);
      expect(parsed.passthrough).toBeUndefined();
      expectGolden(name, fixture, 'expected', { response: parsed.response, usage: parsed.usage, finishReason: parsed.finishReason });
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
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['something_new', 'other'],
  ])('%s → %s, raw kept', (raw, unified) => {
    expect(mapStopReason(raw)).toEqual({ unified, raw });
  });
  it('null → other with raw null', () => expect(mapStopReason(null)).toEqual({ unified: 'other', raw: null }));
});
