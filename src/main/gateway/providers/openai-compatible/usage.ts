/** Usage from OpenAI-compatible servers, normalised (see the token table in DESIGN.md). */
import type { CoreUsage } from '../../../core/types.js';
import type { ChatCompletionUsage } from '../../openai-types.js';
import type { OpenAICompatibleQuirks } from './quirks.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * The upstream's usage in core terms: output counts reasoning (xAI's completion_tokens leaves
 * it out), a count the server did not give reads as 0 (as the log has always counted it), the
 * object kept as `raw`.
 */
export function normaliseUsage(raw: ChatCompletionUsage | null | undefined, quirks: Pick<OpenAICompatibleQuirks, 'reasoningTokensExcludedFromCompletion'>): CoreUsage | null {
  if (!raw || typeof raw !== 'object') return null;
  const completion = count(raw.completion_tokens);
  const reasoning = count(raw.completion_tokens_details?.reasoning_tokens);
  const details = raw.prompt_tokens_details;
  return {
    inputTokens: count(raw.prompt_tokens),
    cachedInputTokens: count(details?.cached_tokens),
    cacheWriteInputTokens: count(details?.cache_write_tokens),
    outputTokens: quirks.reasoningTokensExcludedFromCompletion ? completion + reasoning : completion,
    reasoningTokens: reasoning,
    raw,
  };
}

/**
 * Rewrites an upstream usage object in place so that `completion_tokens` includes the
 * reasoning tokens (OpenAI's meaning) when the server excludes them (xAI). Returns whether
 * anything changed.
 */
export function adjustUsageInPlace(raw: ChatCompletionUsage, quirks: Pick<OpenAICompatibleQuirks, 'reasoningTokensExcludedFromCompletion'>): boolean {
  if (!quirks.reasoningTokensExcludedFromCompletion) return false;
  const reasoning = count(raw.completion_tokens_details?.reasoning_tokens);
  if (reasoning === 0) return false;
  raw.completion_tokens = count(raw.completion_tokens) + reasoning;
  raw.total_tokens = count(raw.prompt_tokens) + raw.completion_tokens;
  return true;
}
