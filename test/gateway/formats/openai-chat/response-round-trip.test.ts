/**
 * Non-streamed answers through the core: for every recorded Anthropic response, the OpenAI
 * completion the gateway answered with before the core, decoded to core and encoded again, is
 * the same JSON text. (Anthropic and Gemini translate core ↔ native themselves: their recorded
 * answers go through parseResponse and this encoder in test/gateway/anthropic and
 * test/gateway/gemini.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/main/gateway/config.js';
import { decodeChatCompletion } from '../../../../src/main/gateway/formats/openai-chat/decode-response.js';
import { encodeChatCompletion } from '../../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { openAIErrorBody } from '../../../../src/main/gateway/formats/openai-chat/errors.js';
import { coreErrorFrom, gatewayErrorFrom } from '../../../../src/main/gateway/core-errors.js';
import { GatewayError } from '../../../../src/main/gateway/errors.js';
import { openAICompatibleAdapter } from '../../../../src/main/gateway/providers/openai-compatible/index.js';
import { prepareChatRequest } from '../../../../src/main/gateway/providers/openai-compatible/request.js';
import type { UpstreamTarget } from '../../../../src/main/gateway/providers/types.js';
import { decodeChatRequest } from '../../../../src/main/gateway/formats/openai-chat/decode.js';

const config = loadConfig({ environment: {} });
function target(providerId: string, model: string): UpstreamTarget {
  return { provider: config.providers.find((candidate) => candidate.id === providerId)!, model, apiKey: 'k' };
}
const GATEWAY = join(__dirname, '..', '..');
const core = decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

let compared = 0;

describe('non-streamed answers: encode(decode(completion)) is the same JSON', () => {
  for (const name of readdirSync(join(GATEWAY, 'anthropic', 'fixtures')).filter((file) => file.startsWith('response-'))) {
    it(`anthropic ${name}`, () => {
      const fixture = JSON.parse(readFileSync(join(GATEWAY, 'anthropic', 'fixtures', name), 'utf8'));
      const completion = fixture.expected.response;
      compared++;
      expect(JSON.stringify(encodeChatCompletion(decodeChatCompletion(completion)))).toBe(JSON.stringify(completion));
    });
  }
});

describe('coverage', () => {
  it('compared most recorded answers', () => {
    expect(compared).toBeGreaterThanOrEqual(10);
  });
});

describe('same-format pass-through (OpenAI-compatible)', () => {
  const body = Buffer.from(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'gpt', system_fingerprint: 'fp', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));

  it('hands the upstream bytes back unchanged, usage in core', () => {
    const parsed = openAICompatibleAdapter.parseResponse(body, target('openai', 'gpt'), core);
    expect(parsed.passthrough).toBe(body);
    expect(parsed.response.usage).toMatchObject({ inputTokens: 1, outputTokens: 1 });
    expect(parsed.response.choices[0]!.content).toEqual([{ type: 'text', text: 'Hi' }]);
  });

  it('rewrites the answer once when reasoning comes under another name or xAI leaves reasoning out of completion_tokens', () => {
    const rawUsage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, completion_tokens_details: { reasoning_tokens: 4 } };
    const xai = Buffer.from(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'grok-3-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', reasoning: 'Hmm.' }, finish_reason: 'stop' }], usage: rawUsage }));
    const parsed = openAICompatibleAdapter.parseResponse(xai, target('xai', 'grok-3-mini'), core);
    const expected = { id: 'x', object: 'chat.completion', created: 1, model: 'grok-3-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', reasoning_content: 'Hmm.' }, finish_reason: 'stop' }], usage: { ...rawUsage, completion_tokens: 6, total_tokens: 9 } };
    expect(parsed.passthroughJson).toEqual(expected);
    expect(parsed.passthrough!.toString()).toBe(JSON.stringify(expected));
    expect(parsed.response.usage).toEqual({ inputTokens: 3, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 6, reasoningTokens: 4, raw: rawUsage });
    expect(parsed.response.choices[0]!.content).toEqual([
      { type: 'reasoning', text: 'Hmm.' },
      { type: 'text', text: 'Hi' },
    ]);
  });

  it('prepares from the client body when given, exactly as before', () => {
    const wire = { model: 'gpt', messages: [{ role: 'user' as const, content: 'hi' }], logit_bias: { 1: 2 }, stream: false };
    const prepared = openAICompatibleAdapter.prepare(decodeChatRequest(wire), target('openai', 'gpt'), { wire: { format: 'openai-chat', body: wire } });
    expect(prepared).toEqual(prepareChatRequest(wire, target('openai', 'gpt')));
    // Without the client's body, the core is encoded to OpenAI's wire first (logit_bias rides in extensions).
    expect(openAICompatibleAdapter.prepare(decodeChatRequest(wire), target('openai', 'gpt')).request.json).toEqual({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], logit_bias: { 1: 2 } });
  });
});

describe('errors', () => {
  it('a GatewayError keeps its OpenAI body through the core', () => {
    const error = new GatewayError(429, 'slow down', { type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: { 'retry-after': '3' } });
    const core = coreErrorFrom(error);
    expect(core).toMatchObject({ kind: 'rate-limit', status: 429, retryAfterSeconds: 3 });
    expect(openAIErrorBody(core)).toEqual(error.toBody());
    expect(gatewayErrorFrom(core, { keepParam: true }).toBody()).toEqual(error.toBody());
    expect(openAIErrorBody({ kind: 'upstream', status: 502, message: 'x' })).toEqual({ message: 'x', type: 'upstream_error', param: null, code: null });
  });
});
