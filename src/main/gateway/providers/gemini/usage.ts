/**
 * Gemini `usageMetadata` → core usage. Gemini reports thoughts beside the candidates
 * (`thoughtsTokenCount` is not inside `candidatesTokenCount`), so output = candidates +
 * thoughts with the thoughts as reasoning. `promptTokenCount` already includes the cached
 * tokens (`cachedContentTokenCount`). Tool-use prompt tokens (tools such as code execution
 * feeding the model) are billed as input, so they are added to the input, which keeps
 * input + output equal to Gemini's `totalTokenCount`. Stream usage is cumulative: callers
 * take the last value, never a sum. Gemini reports no cache writes (0). The usage object
 * itself is kept as `raw` and as the Gemini-family `native` usage.
 */
import type { CoreUsage } from '../../../core/types.js';
import type { GeminiUsageMetadata } from './wire-types.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

export function normaliseGeminiUsage(raw: GeminiUsageMetadata | null | undefined): CoreUsage | null {
  if (!raw || typeof raw !== 'object') return null;
  const thoughts = count(raw.thoughtsTokenCount);
  return {
    inputTokens: count(raw.promptTokenCount) + count(raw.toolUsePromptTokenCount),
    cachedInputTokens: count(raw.cachedContentTokenCount),
    cacheWriteInputTokens: 0,
    outputTokens: count(raw.candidatesTokenCount) + thoughts,
    reasoningTokens: thoughts,
    raw,
    native: { family: 'gemini', data: raw },
  };
}
