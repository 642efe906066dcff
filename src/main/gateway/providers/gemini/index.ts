/**
 * The Google Gemini adapter (generativelanguage.googleapis.com, v1beta), over the
 * format-neutral core: core request → generateContent / streamGenerateContent, Gemini
 * answers and SSE frames → core response and stream events. Embeddings (OpenAI-shaped, as
 * the embeddings route speaks) and model listing as before.
 */
import type { CoreProviderAdapter } from '../types.js';
import { parseGeminiEmbeddingsResponse, prepareGeminiEmbeddings } from './embeddings.js';
import { geminiUpstreamError } from './errors.js';
import { listGeminiModels } from './models.js';
import { prepareGeminiCountTokens, prepareGeminiRequest, readGeminiTokenCount } from './request.js';
import { parseGeminiResponse } from './response.js';
import { GeminiStreamTranslator } from './stream.js';

export const geminiAdapter: CoreProviderAdapter = {
  nativeFormat: null,
  prepare: (core, target) => prepareGeminiRequest(core, target),
  prepareCoreCountTokens: prepareGeminiCountTokens,
  readTokenCount: readGeminiTokenCount,
  parseResponse: (body, target) => ({
    response: parseGeminiResponse(body, { providerName: target.provider.name, model: target.model, created: Math.floor(Date.now() / 1000) }),
  }),
  createStreamTranslator: (target) => new GeminiStreamTranslator(target),
  parseError: (status, body, headers, target) => geminiUpstreamError(target.provider.name, status, body, headers),
  prepareEmbeddings: prepareGeminiEmbeddings,
  parseEmbeddingsResponse: parseGeminiEmbeddingsResponse,
  listModels: listGeminiModels,
};
