/**
 * The Anthropic Messages adapter over the core: core request → Messages request, Messages
 * answers and SSE → core. claude-* models for every client format; no embeddings.
 */
import type { CoreProviderAdapter } from '../types.js';
import { anthropicError } from './errors.js';
import { listAnthropicModels } from './models.js';
import { prepareAnthropicRequest } from './request.js';
import { parseAnthropicResponse } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

export const anthropicAdapter: CoreProviderAdapter = {
  nativeFormat: null,
  prepare: prepareAnthropicRequest,
  parseResponse: (body, target) => ({ response: parseAnthropicResponse(body, target) }),
  createStreamTranslator: (target) => new AnthropicStreamTranslator(target),
  parseError: (status, body, headers, target) => anthropicError(target.provider.name, status, body, headers),
  listModels: listAnthropicModels,
};
