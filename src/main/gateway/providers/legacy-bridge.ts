/**
 * Wraps an adapter of the OpenAI-pivot contract (ProviderAdapter: ChatCompletionRequest in,
 * OpenAI-shaped answers and legacy StreamEvents out) as a CoreProviderAdapter, until each
 * provider translates core ↔ native itself:
 *
 *   core → openai-chat encode-request → legacy.prepareChat
 *   legacy.parseChatResponse → openai-chat decode-response → core (usage as the adapter normalised it)
 *   legacy StreamEvents → core events (a small state machine: CoreStreamBuilder gives each
 *   block an id, a start and an end)
 *
 * With `sameFormat` (OpenAI-compatible upstreams, whose native format is openai-chat), a
 * client body given as `options.wire` is prepared exactly as before, and the upstream's bytes
 * come back as `passthrough` (or the adapter's rewritten answer, serialised once), so an
 * OpenAI client gets byte-for-byte what it always got.
 */
import { CoreStreamBuilder } from '../../core/stream-builder.js';
import type { CoreFinish, CoreRequest, CoreStreamEvent, CoreUsage, FinishReason as CoreFinishReason } from '../../core/types.js';
import { coreErrorFromBody } from '../core-errors.js';
import { extraContentToProviderData } from '../formats/openai-chat/conventions.js';
import { decodeChatCompletion } from '../formats/openai-chat/decode-response.js';
import { encodeChatRequest } from '../formats/openai-chat/encode-request.js';
import type { ChatCompletionRequest } from '../openai-types.js';
import type { SseEvent } from '../sse/decoder.js';
import type { FinishReason, StreamEvent, Usage } from '../types.js';
import { foreignFieldWarnings } from './foreign-fields.js';
import type { CoreProviderAdapter, CoreStreamTranslator, ParsedCoreResponse, ProviderAdapter, StreamTranslator } from './types.js';

/** Legacy usage → core usage (the legacy numbers are always known; `openAIUsage` rides as native). */
export function coreUsageFromLegacy(usage: Usage, openAIUsage?: Record<string, unknown>): CoreUsage {
  const core: CoreUsage = {
    inputTokens: usage.inputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    cacheWriteInputTokens: usage.cacheWriteInputTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
  };
  if ('raw' in usage) core.raw = usage.raw;
  if (openAIUsage) core.native = { family: 'openai', data: openAIUsage };
  return core;
}

const FINISH: Record<FinishReason, CoreFinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  content_filter: 'content-filter',
  error: 'error',
  other: 'other',
};

function coreFinish(reason: { unified: FinishReason; raw: string | null }): CoreFinish {
  return { unified: FINISH[reason.unified] ?? 'other', raw: reason.raw };
}

/** Legacy stream events → core stream events with block ids, starts and ends. */
export class LegacyStreamBridge implements CoreStreamTranslator {
  private readonly builder = new CoreStreamBuilder();
  private failed = false;
  private closed = false;

  constructor(private readonly inner: StreamTranslator) {}

  get done(): boolean {
    return this.inner.done;
  }

  push(event: SseEvent): CoreStreamEvent[] {
    return this.after(this.convert(this.inner.push(event)));
  }

  end(): CoreStreamEvent[] {
    const out = this.convert(this.inner.end());
    if (!this.failed && !this.closed) {
      this.closed = true;
      this.builder.closeAll(out);
    }
    return out;
  }

  /** Once the upstream said it is done, every block still open is closed. */
  private after(out: CoreStreamEvent[]): CoreStreamEvent[] {
    if (this.inner.done && !this.failed && !this.closed) {
      this.closed = true;
      this.builder.closeAll(out);
    }
    return out;
  }

  private convert(events: StreamEvent[]): CoreStreamEvent[] {
    const out: CoreStreamEvent[] = [];
    const builder = this.builder;
    for (const event of events) {
      switch (event.type) {
        case 'start':
          out.push(event.created === undefined ? { type: 'response-start', id: event.id, model: event.model } : { type: 'response-start', id: event.id, model: event.model, created: event.created });
          break;
        case 'text-delta':
          builder.text(event.choice ?? 0, event.text, out);
          break;
        case 'refusal-delta':
          builder.refusal(event.choice ?? 0, event.text, out);
          break;
        case 'reasoning-delta': {
          const choice = event.choice ?? 0;
          if (event.text.length > 0 || (event.signature === undefined && event.redactedData === undefined)) builder.reasoning(choice, event.text, out);
          if (event.signature !== undefined) builder.endReasoning(choice, { family: 'anthropic', data: { signature: event.signature } }, out);
          if (event.redactedData !== undefined) builder.redactedReasoning(choice, { family: 'anthropic', data: { data: event.redactedData } }, out);
          break;
        }
        case 'tool-call-start':
          builder.toolStart(event.choice ?? 0, event.index, event.id, event.name, extraContentToProviderData(event.extraContent), out);
          break;
        case 'tool-call-delta':
          builder.toolDelta(event.choice ?? 0, event.index, event.argumentsDelta, out);
          break;
        case 'finish':
          builder.finish(event.choice ?? 0, coreFinish(event.reason), out);
          break;
        case 'usage':
          out.push({ type: 'usage', usage: coreUsageFromLegacy(event.usage, event.openAIUsage) });
          break;
        case 'error':
          this.failed = true;
          out.push({ type: 'error', error: coreErrorFromBody(event.error.status, event.error.body) });
          break;
      }
    }
    return out;
  }
}

/** The OpenAI body each core request was prepared from, so parsing needs no second encoding. */
const wireBodies = new WeakMap<CoreRequest, ChatCompletionRequest>();

function wireFor(core: CoreRequest): ChatCompletionRequest {
  let body = wireBodies.get(core);
  if (!body) {
    body = encodeChatRequest(core);
    wireBodies.set(core, body);
  }
  return body;
}

export function bridgeLegacyAdapter(legacy: ProviderAdapter, options: { sameFormat: boolean }): CoreProviderAdapter {
  const adapter: CoreProviderAdapter = {
    nativeFormat: options.sameFormat ? 'openai-chat' : null,
    prepare(core, target, prepareOptions) {
      const wire = options.sameFormat && prepareOptions?.wire?.format === 'openai-chat' ? prepareOptions.wire.body : null;
      if (wire) wireBodies.set(core, wire);
      const prepared = legacy.prepareChat(wire ?? wireFor(core), target);
      // What only another family understands (an Anthropic client's fields) is left out by the encoding: said so.
      if (!wire && core.extensions && core.extensions.family !== 'openai') prepared.warnings.push(...foreignFieldWarnings(core, 'openai'));
      return prepared;
    },
    parseResponse(body, target, core): ParsedCoreResponse {
      const parsed = legacy.parseChatResponse(body, target, wireFor(core));
      const response = decodeChatCompletion(parsed.response);
      // The adapter's own normalisation counts (xAI reasoning, Anthropic cache tokens).
      response.usage = parsed.usage ? coreUsageFromLegacy(parsed.usage) : null;
      if (!options.sameFormat) return { response };
      return { response, passthrough: parsed.passthrough ?? Buffer.from(JSON.stringify(parsed.response)), passthroughJson: parsed.response };
    },
    createStreamTranslator(target, core) {
      return new LegacyStreamBridge(legacy.createStreamTranslator(target, wireFor(core)));
    },
    parseError: legacy.parseError,
    listModels: legacy.listModels,
  };
  if (legacy.prepareEmbeddings) adapter.prepareEmbeddings = legacy.prepareEmbeddings;
  if (legacy.parseEmbeddingsResponse) adapter.parseEmbeddingsResponse = legacy.parseEmbeddingsResponse;
  return adapter;
}
