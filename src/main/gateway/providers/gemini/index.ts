/** The Google Gemini adapter (generativelanguage.googleapis.com, v1beta), behind the OpenAI API. */
import type { ProviderAdapter } from '../types.js';
import { parseGeminiEmbeddingsResponse, prepareGeminiEmbeddings } from './embeddings.js';
import { geminiUpstreamError } from './errors.js';
import { listGeminiModels } from './models.js';
import { prepareGeminiChat } from './request.js';
import { parseGeminiChatResponse } from './response.js';
import { GeminiStreamTranslator } from './stream.js';

export const geminiAdapter: ProviderAdapter = {
  prepareChat: prepareGeminiChat,
  parseChatResponse: (body, target) =>
    parseGeminiChatResponse(body, { providerName: target.provider.name, model: target.model, created: Math.floor(Date.now() / 1000) }),
  createStreamTranslator: (target) => new GeminiStreamTranslator(target),
  parseError: (status, body, headers, target) => geminiUpstreamError(target.provider.name, status, body, headers),
  prepareEmbeddings: prepareGeminiEmbeddings,
  parseEmbeddingsResponse: parseGeminiEmbeddingsResponse,
  listModels: listGeminiModels,
};
