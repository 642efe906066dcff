/**
 * Anthropic usage → core usage. Anthropic's `input_tokens` is only the uncached part of the
 * prompt, so the full prompt is input + cache reads + cache writes; thinking is already inside
 * `output_tokens`, and newer responses say how much in `output_tokens_details`. A field
 * Anthropic did not send is null (unknown), not 0; the object itself is kept as `raw` and, for
 * an encoder of the Anthropic family, as `native`.
 */
import type { CoreUsage } from '../../../core/types.js';
import type { AnthropicUsage } from './wire-types.js';

function tokens(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

export function coreUsageFromAnthropic(raw: AnthropicUsage): CoreUsage {
  const input = tokens(raw.input_tokens);
  const cacheRead = tokens(raw.cache_read_input_tokens);
  const cacheWrite = tokens(raw.cache_creation_input_tokens);
  const known = input !== null || cacheRead !== null || cacheWrite !== null;
  return {
    inputTokens: known ? (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0) : null,
    cachedInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite,
    outputTokens: tokens(raw.output_tokens),
    reasoningTokens: tokens(raw.output_tokens_details?.thinking_tokens),
    raw,
    native: { family: 'anthropic', data: raw },
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
