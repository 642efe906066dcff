/**
 * OpenAI request in → Gemini request out, one golden fixture per case
 * (fixtures/request/<case>.json: `openai`, `model`, and the expected `gemini` + `warnings`,
 * or the expected `error`), by composition: the openai-chat decoder (wire → core), then the
 * Gemini adapter's prepare (core → native).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { decodeChatRequest } from '../../../src/main/gateway/formats/openai-chat/decode.js';
import type { ChatCompletionRequest } from '../../../src/main/gateway/openai-types.js';
import { geminiAdapter } from '../../../src/main/gateway/providers/gemini/index.js';
import type { UpstreamTarget } from '../../../src/main/gateway/providers/types.js';
import { UPDATE, errorShape, fixtureNames, readFixture, updateFixture } from './golden.js';

interface RequestFixture {
  description: string;
  model?: string;
  openai: ChatCompletionRequest;
  gemini?: unknown;
  url?: string;
  warnings?: unknown[];
  error?: ReturnType<typeof errorShape>;
}

const gemini = loadConfig({ environment: { GEMINI_BASE_URL: 'https://gemini.test' } }).providers.find((provider) => provider.id === 'gemini')!;

function target(model: string): UpstreamTarget {
  return { provider: gemini, model, apiKey: 'test-key' };
}

describe('Gemini request translation (golden fixtures)', () => {
  for (const name of fixtureNames('request')) {
    it(name, () => {
      const fixture = readFixture<RequestFixture>('request', name);
      const model = fixture.model ?? fixture.openai.model;
      let outcome: Record<string, unknown>;
      try {
        const prepared = geminiAdapter.prepare(decodeChatRequest(structuredClone(fixture.openai)), target(model));
        expect(prepared.request.headers['x-goog-api-key']).toBe('test-key');
        expect(prepared.request.url).not.toContain('test-key');
        expect(JSON.parse(prepared.request.body!)).toEqual(prepared.request.json);
        outcome = { url: prepared.request.url, gemini: prepared.request.json, warnings: prepared.warnings, error: undefined };
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        outcome = { url: undefined, gemini: undefined, warnings: undefined, error: errorShape(error) };
      }
      if (UPDATE) updateFixture('request', name, outcome);
      else
        expect(outcome).toEqual({ url: fixture.url, gemini: fixture.gemini, warnings: fixture.warnings, error: fixture.error });
    });
  }
});
