/** OpenAI embeddings ↔ Gemini batchEmbedContents (fixtures/embeddings.json). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import type { EmbeddingsRequest } from '../../../src/main/gateway/openai-types.js';
import { parseGeminiEmbeddingsResponse, prepareGeminiEmbeddings } from '../../../src/main/gateway/providers/gemini/embeddings.js';
import type { UpstreamTarget } from '../../../src/main/gateway/providers/types.js';
import { UPDATE, readFixture, updateFixture } from './golden.js';

const gemini = loadConfig({ environment: { GEMINI_BASE_URL: 'https://gemini.test/' } }).providers.find((provider) => provider.id === 'gemini')!;
const target: UpstreamTarget = { provider: gemini, model: 'gemini-embedding-001', apiKey: 'key-1' };

interface EmbeddingsFixture {
  request: EmbeddingsRequest;
  gemini: unknown;
  upstreamRequest?: unknown;
  url?: string;
  warnings?: unknown;
  floatResponse?: unknown;
  base64Response?: unknown;
}

function floatsFromBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

describe('Gemini embeddings', () => {
  it('translates the request and both encodings of the answer (golden fixture)', () => {
    const fixture = readFixture<EmbeddingsFixture>('.', 'embeddings');
    const prepared = prepareGeminiEmbeddings(fixture.request, target);
    expect(prepared.request.headers['x-goog-api-key']).toBe('key-1');
    const body = Buffer.from(JSON.stringify(fixture.gemini));
    const floatResponse = parseGeminiEmbeddingsResponse(body, target, { ...fixture.request, encoding_format: 'float' }).response;
    const base64Response = parseGeminiEmbeddingsResponse(body, target, { ...fixture.request, encoding_format: 'base64' }).response;
    const actual = { url: prepared.request.url, upstreamRequest: prepared.request.json, warnings: prepared.warnings, floatResponse, base64Response };
    if (UPDATE) updateFixture('.', 'embeddings', actual);
    else expect(actual).toEqual({ url: fixture.url, upstreamRequest: fixture.upstreamRequest, warnings: fixture.warnings, floatResponse: fixture.floatResponse, base64Response: fixture.base64Response });
    // base64 is little-endian float32 of the same values.
    const values = (fixture.gemini as { embeddings: Array<{ values: number[] }> }).embeddings.map((item) => item.values.map(Math.fround));
    expect(base64Response.data.map((item) => floatsFromBase64(item.embedding as string))).toEqual(values);
  });

  it('refuses token-array input with a 400 naming input', () => {
    expect(() => prepareGeminiEmbeddings({ model: 'gemini-embedding-001', input: [1, 2, 3] }, target)).toThrowError(GatewayError);
    try {
      prepareGeminiEmbeddings({ model: 'gemini-embedding-001', input: [[1, 2]] }, target);
    } catch (error) {
      expect(error).toMatchObject({ status: 400, param: 'input' });
    }
  });

  it('answers a response without embeddings with a 502', () => {
    expect(() => parseGeminiEmbeddingsResponse(Buffer.from('{}'), target, { model: 'm', input: 'x' })).toThrowError(/without embeddings/);
  });
});
