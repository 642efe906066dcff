/**
 * Gemini response in → OpenAI chat completion out, one golden fixture per case
 * (fixtures/response/<case>.json: `gemini`, and the expected `openai`, `usage` and
 * `finishReason`, or the expected `error`).
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { parseGeminiChatResponse } from '../../../src/main/gateway/providers/gemini/response.js';
import { UPDATE, errorShape, fixtureNames, readFixture, updateFixture } from './golden.js';

interface ResponseFixture {
  description: string;
  gemini: unknown;
  openai?: unknown;
  usage?: unknown;
  finishReason?: string | null;
  error?: unknown;
}

const context = { providerName: 'Google Gemini', model: 'gemini-2.5-flash', created: 1_760_000_000 };

describe('Gemini response translation (golden fixtures)', () => {
  for (const name of fixtureNames('response')) {
    it(name, () => {
      const fixture = readFixture<ResponseFixture>('response', name);
      const body = typeof fixture.gemini === 'string' ? Buffer.from(fixture.gemini) : Buffer.from(JSON.stringify(fixture.gemini));
      let outcome: Record<string, unknown>;
      try {
        const parsed = parseGeminiChatResponse(body, context);
        outcome = { openai: parsed.response, usage: parsed.usage, finishReason: parsed.finishReason, error: undefined };
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
});
