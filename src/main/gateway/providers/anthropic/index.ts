/** The Anthropic Messages adapter: claude-* models behind the OpenAI chat-completions API. No embeddings. */
import type { ProviderAdapter } from '../types.js';
import { anthropicError } from './errors.js';
import { listAnthropicModels } from './models.js';
import { prepareAnthropicChat } from './request.js';
import { parseAnthropicResponse } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

export const anthropicAdapter: ProviderAdapter = {
  prepareChat: prepareAnthropicChat,
  parseChatResponse: (body, target) => parseAnthropicResponse(body, target),
  createStreamTranslator: (target) => new AnthropicStreamTranslator(target),
  parseError: (status, body, headers, target) => anthropicError(target.provider.name, status, body, headers),
  listModels: listAnthropicModels,
};
