/**
 * OpenAI-compatible responses → core responses (formats/openai-chat/decode-response.ts reads
 * the completion), with this provider's usage normalisation. The answer is OpenAI's own
 * format, so an OpenAI client gets it back as it is (`passthrough`): the upstream's bytes
 * unchanged, unless reasoning came under another name (`reasoning` → `reasoning_content`) or
 * usage left reasoning out of `completion_tokens` (xAI), in which case the rewritten answer,
 * serialised once.
 */
import { GatewayError } from '../../errors.js';
import { decodeChatCompletion } from '../../formats/openai-chat/decode-response.js';
import type { ChatCompletionResponse, ChatCompletionUsage, EmbeddingsRequest, EmbeddingsResponse } from '../../openai-types.js';
import type { ParsedCoreResponse, ParsedEmbeddings, UpstreamTarget } from '../types.js';
import { adjustUsageInPlace, normaliseUsage } from './usage.js';

export function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new GatewayError(502, `upstream returned a ${what} that is not valid JSON`, { type: 'upstream_error', code: 'bad_upstream_response' });
  }
}

export function parseChatResponse(body: Buffer, target: UpstreamTarget, json: unknown = parseJson(body, 'chat completion')): ParsedCoreResponse {
  const parsed = json as ChatCompletionResponse;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.choices)) {
    throw new GatewayError(502, `${target.provider.name} returned a chat completion without choices`, { type: 'upstream_error', code: 'bad_upstream_response' });
  }
  let changed = false;
  for (const choice of parsed.choices) {
    const message = choice?.message as Record<string, unknown> | undefined;
    if (!message) continue;
    if (typeof message.reasoning === 'string') {
      if (message.reasoning_content == null) message.reasoning_content = message.reasoning;
      delete message.reasoning;
      changed = true;
    }
  }
  const rawUsage = parsed.usage as ChatCompletionUsage | undefined;
  // A copy: the raw object is kept for the log as the provider sent it, and is adjusted below.
  const usage = normaliseUsage(rawUsage && { ...rawUsage }, target.provider.quirks);
  if (rawUsage && adjustUsageInPlace(rawUsage, target.provider.quirks)) changed = true;
  const response = decodeChatCompletion(parsed);
  // This provider's own counting (xAI reasoning inside output), the object as the server sent it kept as raw.
  response.usage = usage;
  return { response, passthrough: changed ? Buffer.from(JSON.stringify(parsed)) : body, passthroughJson: parsed };
}

function toBase64(values: number[]): string {
  const floats = new Float32Array(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function parseEmbeddingsResponse(body: Buffer, target: UpstreamTarget, request: EmbeddingsRequest): ParsedEmbeddings {
  const parsed = parseJson(body, 'embeddings response') as EmbeddingsResponse;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.data)) {
    throw new GatewayError(502, `${target.provider.name} returned an embeddings response without data`, { type: 'upstream_error', code: 'bad_upstream_response' });
  }
  const promptTokens = typeof parsed.usage?.prompt_tokens === 'number' ? parsed.usage.prompt_tokens : 0;
  const usage = parsed.usage
    ? { inputTokens: promptTokens, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0, raw: parsed.usage }
    : null;
  let changed = false;
  if (request.encoding_format === 'base64') {
    for (const item of parsed.data) {
      if (Array.isArray(item.embedding)) {
        item.embedding = toBase64(item.embedding);
        changed = true;
      }
    }
  }
  return changed ? { response: parsed, usage } : { response: parsed, usage, passthrough: body };
}
