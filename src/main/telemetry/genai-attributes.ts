/**
 * OpenTelemetry GenAI semantic-convention attributes of one gateway request and of each of
 * its upstream attempts, from what the pipeline already knows (the core request and the
 * final record). Pure: nothing here loads the OpenTelemetry SDK.
 */
import type { AttemptRecord, RequestRecord } from '../core/record.js';
import type { CoreRequest } from '../core/types.js';

export type Attributes = Record<string, string | number | boolean | string[]>;

/** `gen_ai.provider.name` values the conventions define, for the gateway's provider ids. */
const PROVIDER_NAMES: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini', xai: 'x_ai', ollama: 'ollama', lmstudio: 'lmstudio' };

export function providerName(provider: string | null): string {
  return provider === null ? 'switchyard' : (PROVIDER_NAMES[provider] ?? provider);
}

/** What the gateway's endpoint does, as `gen_ai.operation.name`. */
export function operationName(endpoint: string): string {
  if (endpoint.startsWith('/v1/embeddings')) return 'embeddings';
  return 'chat';
}

/** Attributes known when the request arrives (the span's name and sampling input). */
export function requestAttributes(endpoint: string, core: CoreRequest, server: { address: string; port: number } | null): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': operationName(endpoint),
    'gen_ai.request.model': core.model,
    'switchyard.endpoint': endpoint,
  };
  if (core.maxOutputTokens !== null) attributes['gen_ai.request.max_tokens'] = core.maxOutputTokens;
  if (core.temperature !== null) attributes['gen_ai.request.temperature'] = core.temperature;
  if (core.topP !== null) attributes['gen_ai.request.top_p'] = core.topP;
  if (core.topK !== null) attributes['gen_ai.request.top_k'] = core.topK;
  if (core.seed !== null) attributes['gen_ai.request.seed'] = core.seed;
  if (core.presencePenalty !== null) attributes['gen_ai.request.presence_penalty'] = core.presencePenalty;
  if (core.frequencyPenalty !== null) attributes['gen_ai.request.frequency_penalty'] = core.frequencyPenalty;
  if (core.stop.length > 0) attributes['gen_ai.request.stop_sequences'] = core.stop;
  if (core.choices > 1) attributes['gen_ai.request.choice.count'] = core.choices;
  if (server) {
    attributes['server.address'] = server.address;
    attributes['server.port'] = server.port;
  }
  return attributes;
}

/** The response id in the answer the client got, when it has one. */
function responseId(record: Readonly<RequestRecord>): string | null {
  if (record.responseId) return record.responseId;
  const body = record.responseBody as { id?: unknown } | null;
  return body && typeof body === 'object' && typeof body.id === 'string' ? body.id : null;
}

/** Attributes known once the request has ended: provider, response, usage, error. */
export function responseAttributes(record: Readonly<RequestRecord>): Attributes {
  const attributes: Attributes = { 'gen_ai.provider.name': providerName(record.provider) };
  if (record.resolvedModel) attributes['gen_ai.response.model'] = record.resolvedModel;
  const id = responseId(record);
  if (id) attributes['gen_ai.response.id'] = id;
  if (record.finishReason) attributes['gen_ai.response.finish_reasons'] = [record.finishReason];
  if (record.usage) {
    attributes['gen_ai.usage.input_tokens'] = record.usage.inputTokens;
    attributes['gen_ai.usage.output_tokens'] = record.usage.outputTokens;
    if (record.usage.cachedInputTokens > 0) attributes['gen_ai.usage.cache_read.input_tokens'] = record.usage.cachedInputTokens;
    if (record.usage.cacheWriteInputTokens > 0) attributes['gen_ai.usage.cache_creation.input_tokens'] = record.usage.cacheWriteInputTokens;
    if (record.usage.reasoningTokens > 0) attributes['gen_ai.usage.reasoning.output_tokens'] = record.usage.reasoningTokens;
  }
  if (record.status !== 'success') attributes['error.type'] = record.errorType ?? String(record.httpStatus);
  attributes['http.response.status_code'] = record.httpStatus;
  attributes['switchyard.request_id'] = record.id;
  attributes['switchyard.attempts'] = record.attempts;
  if (record.cacheHit) attributes['switchyard.cache_hit'] = true;
  if (record.timeToFirstTokenMs !== null) attributes['switchyard.time_to_first_token_ms'] = record.timeToFirstTokenMs;
  return attributes;
}

/** One upstream attempt as a child span's attributes. */
export function attemptAttributes(attempt: AttemptRecord, index: number, operation: string): Attributes {
  const attributes: Attributes = { 'gen_ai.operation.name': operation, 'gen_ai.provider.name': providerName(attempt.provider), 'switchyard.attempt.index': index };
  if (attempt.model) attributes['gen_ai.request.model'] = attempt.model;
  if (attempt.httpStatus !== null && attempt.httpStatus !== undefined) attributes['http.response.status_code'] = attempt.httpStatus;
  if (attempt.status && attempt.status !== 'success') attributes['error.type'] = attempt.errorType ?? attempt.status;
  return attributes;
}

/** The conversation as the conventions' `gen_ai.input.messages` / `gen_ai.output.messages` (only when the user opted in). */
export function contentAttributes(record: Readonly<RequestRecord>): Attributes {
  const attributes: Attributes = {};
  if (record.requestBody !== null && record.requestBody !== undefined) attributes['gen_ai.input.messages'] = JSON.stringify((record.requestBody as { messages?: unknown; input?: unknown }).messages ?? (record.requestBody as { input?: unknown }).input ?? null);
  if (record.responseBody !== null && record.responseBody !== undefined) {
    const body = record.responseBody as { choices?: unknown; content?: unknown; output?: unknown };
    attributes['gen_ai.output.messages'] = JSON.stringify(body.choices ?? body.content ?? body.output ?? null);
  }
  return attributes;
}
