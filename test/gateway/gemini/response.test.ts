/**
 * Gemini response in → OpenAI chat completion out, one golden fixture per case
 * (fixtures/response/<case>.json: `gemini`, and the expected `openai`, `usage` and
 * `finishReason`, or the expected `error`), by composition: the Gemini adapter's
 * parseResponse (native → core), then the openai-chat response encoder (core → wire).
 */
import { describe, expect, it } from 'vitest';
import type { CoreUsage } from '../../../src/main/core/types.js';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { encodeChatCompletion } from '../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { geminiAdapter } from '../../../src/main/gateway/providers/gemini/index.js';
import type { UpstreamTarget } from '../../../src/main/gateway/providers/types.js';
import { UPDATE, errorShape, fixtureNames, readFixture, updateFixture } from './golden.js';

interface ResponseFixture {
  description: string;
  gemini: unknown;
  openai?: unknown;
  usage?: unknown;
  finishReason?: string | null;
  error?: unknown;
}

const gemini = loadConfig({ environment: {} }).providers.find((provider) => provider.id === 'gemini')!;
const target: UpstreamTarget = { provider: gemini, model: 'gemini-2.5-flash', apiKey: 'k' };
const CREATED = 1_760_000_000;

/** Core usage as the log records it (the Gemini-family native usage is checked apart). */
function logged(usage: CoreUsage | null): unknown {
  if (!usage) return null;
  const { native, ...rest } = usage;
  expect(native).toEqual({ family: 'gemini', data: usage.raw });
  return rest;
}

describe('Gemini response translation (golden fixtures)', () => {
  for (const name of fixtureNames('response')) {
    it(name, () => {
      const fixture = readFixture<ResponseFixture>('response', name);
      const body = typeof fixture.gemini === 'string' ? Buffer.from(fixture.gemini) : Buffer.from(JSON.stringify(fixture.gemini));
      let outcome: Record<string, unknown>;
      try {
        const parsed = geminiAdapter.parseResponse(body, target, {} as never);
        expect(parsed.passthrough).toBeUndefined();
        const completion = encodeChatCompletion({ ...parsed.response, created: CREATED });
        outcome = { openai: completion, usage: logged(parsed.response.usage), finishReason: completion.choices[0]?.finish_reason ?? null, error: undefined };
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        outcome = { openai: undefined, usage: undefined, finishReason: undefined, error: errorShape(error) };
      }
      // Round-trip through JSON: what a client receives.
      outcome = JSON.parse(JSON.stringify(outcome)) as Record<string, unknown>;
      if (UPDATE) updateFixture('response', name, outcome);
      else expect(outcome).toEqual({ openai: fixture.openai, usage: fixture.usage, finishReason: fixture.finishReason, error: fixture.error });
    });
  }

  it('keeps Gemini part order: reasoning, text and calls as the model produced them, signatures as Gemini provider data', () => {
    const body = Buffer.from(
      JSON.stringify({
        responseId: 'r1',
        candidates: [
          {
            index: 0,
            finishReason: 'STOP',
            content: {
              role: 'model',
              parts: [{ text: 'Hmm.', thought: true }, { text: 'Calling.' }, { functionCall: { name: 'f', args: { a: 1 } }, thoughtSignature: 'c2ln' }, { text: '', thoughtSignature: 'dHh0' }],
            },
          },
        ],
        usageMetadata: { promptTokenCount: 5, cachedContentTokenCount: 2, candidatesTokenCount: 3, thoughtsTokenCount: 4, totalTokenCount: 12 },
      }),
    );
    const { response } = geminiAdapter.parseResponse(body, target, {} as never);
    expect(response.choices[0]!.content).toEqual([
      { type: 'reasoning', text: 'Hmm.' },
      { type: 'text', text: 'Calling.', providerData: { family: 'gemini', data: { thoughtSignature: 'dHh0' } } },
      { type: 'tool-call', id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'f', input: '{"a":1}', kind: 'function', providerData: { family: 'gemini', data: { thoughtSignature: 'c2ln' } } },
    ]);
    expect(response.choices[0]!.finish).toEqual({ unified: 'tool-calls', raw: 'STOP' });
    expect(response.usage).toMatchObject({ inputTokens: 5, cachedInputTokens: 2, cacheWriteInputTokens: 0, outputTokens: 7, reasoningTokens: 4 });
    expect(response.id).toBe('chatcmpl-r1');
  });
});
