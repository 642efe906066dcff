/**
 * Anthropic usage → canonical usage. Anthropic's `input_tokens` is only the uncached part of
 * the prompt, so the full prompt is input + cache reads + cache writes; thinking is already
 * inside `output_tokens`, and newer responses say how much in `output_tokens_details`.
 */
import type { Usage } from '../../types.js';
import type { AnthropicUsage } from './wire-types.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

export function normaliseAnthropicUsage(raw: AnthropicUsage): Usage {
  const cacheRead = count(raw.cache_read_input_tokens);
  const cacheWrite = count(raw.cache_creation_input_tokens);
  return {
    inputTokens: count(raw.input_tokens) + cacheRead + cacheWrite,
    cachedInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite,
    outputTokens: count(raw.output_tokens),
    reasoningTokens: count(raw.output_tokens_details?.thinking_tokens),
    raw,
  };
}

/**
 * Stream usage is cumulative: `message_start` has the input side, `message_delta` the final
 * output count and, on newer servers, the input side again. Later non-null values replace
 * earlier ones; nothing is summed.
 */
export function mergeStreamUsage(earlier: AnthropicUsage, later: AnthropicUsage | null | undefined): AnthropicUsage {
  if (!later) return earlier;
  const merged: AnthropicUsage = { ...earlier };
  for (const [key, value] of Object.entries(later)) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}
