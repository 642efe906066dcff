/**
 * The Anthropic Messages adapter over the core: core request → Messages request, Messages
 * answers and SSE → core. claude-* models for every client format; no embeddings. An
 * Anthropic-format client (`anthropic-messages`) is passed through: its body goes upstream
 * unchanged but for the model name, and the upstream's answer comes back byte for byte.
 */
import type { CoreProviderAdapter } from '../types.js';
import { anthropicError } from './errors.js';
import { listAnthropicModels } from './models.js';
import { prepareAnthropicCountTokens, prepareAnthropicRequest } from './request.js';
import { parseAnthropicMessage } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

export const anthropicAdapter: CoreProviderAdapter = {
  // An Anthropic client's body goes upstream as it came, and the upstream's bytes come back.
  nativeFormat: 'anthropic-messages',
  prepare: prepareAnthropicRequest,
  parseResponse: (body, target) => {
    const { response, json } = parseAnthropicMessage(body, target);
    return { response, passthrough: body, passthroughJson: json };
  },
  createStreamTranslator: (target) => new AnthropicStreamTranslator(target),
  parseError: (status, body, headers, target) => anthropicError(target.provider.name, status, body, headers),
  prepareCountTokens: prepareAnthropicCountTokens,
  listModels: listAnthropicModels,
};
