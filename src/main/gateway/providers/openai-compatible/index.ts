/**
 * The adapter every OpenAI-compatible preset (OpenAI, xAI, Ollama, LM Studio, custom) shares,
 * over the core. Its native format is the client-facing openai-chat one: an OpenAI client's
 * body is prepared as it came (same-format pass-through) and the upstream's answer goes back
 * as its bytes; any other request is encoded core → OpenAI wire first. Either way the preset's
 * quirks apply (request.ts).
 */
import { encodeChatRequest } from '../../formats/openai-chat/encode-request.js';
import type { ModelEntry } from '../../openai-types.js';
import type { CoreProviderAdapter } from '../types.js';
import { foreignFieldWarnings } from '../foreign-fields.js';
import { upstreamError } from './errors.js';
import { authorizationHeaders, prepareChatRequest, prepareEmbeddingsRequest } from './request.js';
import { parseChatResponse, parseEmbeddingsResponse } from './response.js';
import { OpenAICompatibleStreamTranslator } from './stream.js';

export const openAICompatibleAdapter: CoreProviderAdapter = {
  nativeFormat: 'openai-chat',
  prepare(core, target, options) {
    const clientBody = options?.wire?.format === 'openai-chat' ? options.wire.body : null;
    const prepared = prepareChatRequest(clientBody ?? encodeChatRequest(core), target);
    // What only another family understands (an Anthropic client's fields) is left out by the encoding: said so.
    if (!clientBody) prepared.warnings.push(...foreignFieldWarnings(core, 'openai'));
    return prepared;
  },
  parseResponse: (body, target) => parseChatResponse(body, target),
  createStreamTranslator: (target) => new OpenAICompatibleStreamTranslator(target),
  parseError: (status, body, headers, target) => upstreamError(target.provider.name, status, body, headers),
  prepareEmbeddings: prepareEmbeddingsRequest,
  parseEmbeddingsResponse,
  async listModels(target, fetchJson, timeoutMs) {
    const headers = authorizationHeaders(target);
    delete headers['content-type'];
    const { status, json } = await fetchJson({ method: 'GET', url: `${target.provider.baseUrl}/models`, headers }, timeoutMs);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    const data = (json as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new Error('model list without data');
    const models: ModelEntry[] = [];
    for (const item of data) {
      if (typeof item !== 'object' || item === null || typeof (item as { id?: unknown }).id !== 'string') continue;
      const entry = item as Record<string, unknown>;
      models.push({
        id: entry.id as string,
        object: 'model',
        created: typeof entry.created === 'number' ? entry.created : 0,
        owned_by: typeof entry.owned_by === 'string' ? entry.owned_by : target.provider.id,
      });
    }
    return models;
  },
};
