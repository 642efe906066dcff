/**
 * The adapter every OpenAI-compatible preset (OpenAI, xAI, Ollama, LM Studio, custom) shares,
 * over the core. Its native format is the client-facing openai-chat one: an OpenAI client's
 * body is prepared as it came (same-format pass-through) and the upstream's answer goes back
 * as its bytes; any other request is encoded core → OpenAI wire first. Either way the preset's
 * quirks apply (request.ts). A server that also serves OpenAI's Responses API (OpenAI itself)
 * takes a Responses client's body the same way (responses-api.ts).
 */
import { encodeChatRequest } from '../../formats/openai-chat/encode-request.js';
import type { ModelEntry } from '../../openai-types.js';
import type { CoreStreamEvent } from '../../../core/types.js';
import type { SseEvent } from '../../sse/decoder.js';
import type { CoreProviderAdapter, CoreStreamTranslator, UpstreamTarget } from '../types.js';
import { foreignFieldWarnings } from '../foreign-fields.js';
import { upstreamError } from './errors.js';
import { authorizationHeaders, prepareChatRequest, prepareEmbeddingsRequest } from './request.js';
import { parseChatResponse, parseEmbeddingsResponse, parseJson } from './response.js';
import { isResponseObject, parseResponsesResponse, prepareResponsesRequest, servesResponses } from './responses-api.js';
import { ResponsesStreamTranslator } from './responses-stream.js';
import { OpenAICompatibleStreamTranslator } from './stream.js';

/**
 * A stream from a server that serves the Responses API too: read as Responses events when it
 * opens with one (`response.created`), else as chat completion chunks.
 */
class ChatOrResponsesStreamTranslator implements CoreStreamTranslator {
  private inner: CoreStreamTranslator | null = null;

  constructor(private readonly target: UpstreamTarget) {}

  get done(): boolean {
    return this.inner?.done ?? false;
  }

  push(event: SseEvent): CoreStreamEvent[] {
    this.inner ??= (event.event ?? '').startsWith('response.') ? new ResponsesStreamTranslator(this.target) : new OpenAICompatibleStreamTranslator(this.target);
    return this.inner.push(event);
  }

  end(): CoreStreamEvent[] {
    this.inner ??= new OpenAICompatibleStreamTranslator(this.target);
    return this.inner.end();
  }
}

export const openAICompatibleAdapter: CoreProviderAdapter = {
  nativeFormat: 'openai-chat',
  // OpenAI also serves its Responses API: a Responses client's body passes through to it.
  speaks: (format, target) => format === 'openai-responses' && servesResponses(target),
  prepare(core, target, options) {
    if (options?.wire?.format === 'openai-responses' && servesResponses(target)) return prepareResponsesRequest(options.wire.body, target, options.wire.text);
    const clientBody = options?.wire?.format === 'openai-chat' ? options.wire.body : null;
    const prepared = clientBody ? prepareChatRequest(clientBody, target, options?.wire?.text) : prepareChatRequest(encodeChatRequest(core), target);
    // What only another family understands (an Anthropic client's fields) is left out by the encoding: said so.
    if (!clientBody) prepared.warnings.push(...foreignFieldWarnings(core, 'openai'));
    return prepared;
  },
  parseResponse(body, target) {
    if (!servesResponses(target)) return parseChatResponse(body, target);
    const json = parseJson(body, 'response');
    return isResponseObject(json) ? parseResponsesResponse(body, json, target) : parseChatResponse(body, target, json);
  },
  createStreamTranslator: (target) => (servesResponses(target) ? new ChatOrResponsesStreamTranslator(target) : new OpenAICompatibleStreamTranslator(target)),
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
