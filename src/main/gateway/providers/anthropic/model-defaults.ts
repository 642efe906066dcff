/**
 * What the Anthropic adapter needs to know per model family, declared as data: the
 * `max_tokens` sent when the client gives none (Anthropic requires one), the most a family
 * accepts, how it thinks, whether it has native structured outputs, and which sampling
 * parameters it still takes. The first matching row wins; unknown `claude-*` names get the
 * last row. A new family is a new row, not code.
 */

export type ThinkingMode =
  /** No extended thinking: `reasoning_effort` is dropped with a warning. */
  | 'none'
  /** `thinking: {type:"enabled", budget_tokens}` (Claude 3.7, 4.x up to 4.6). */
  | 'budget'
  /** `thinking: {type:"adaptive"}` plus `output_config.effort` (Opus 4.7 and later reject `enabled`). */
  | 'adaptive';

export interface AnthropicModelFamily {
  /** A name for warnings and tests. */
  name: string;
  match: RegExp;
  /** `max_tokens` sent when the client sets neither `max_tokens` nor `max_completion_tokens`. */
  defaultMaxTokens: number;
  /** The most output tokens the family accepts; larger requests are lowered with a warning. Null: unknown. */
  maxOutputTokens: number | null;
  thinking: ThinkingMode;
  /** Adaptive families that hide thinking text unless asked (`display: "omitted"` is their default). */
  thinkingDisplay?: 'summarized';
  /** `output_config.format` (JSON-schema structured outputs) and `strict` tools are generally available. */
  structuredOutputs: boolean;
  /**
   * Sampling parameters the family accepts: `both`; `one` (temperature and top_p may not be
   * combined: top_p is dropped); `none` (temperature and top_p are rejected outright).
   */
  sampling: 'both' | 'one' | 'none';
}

/** Newest first, so a dated or `-latest` name finds its family. */
export const ANTHROPIC_MODEL_FAMILIES: readonly AnthropicModelFamily[] = [
  // Opus 4.7+, and any 5.x or later family: adaptive thinking only, no sampling parameters.
  {
    name: 'claude-opus-4-7+',
    match: /^claude-opus-4-[7-9](?:$|[-@.])/,
    defaultMaxTokens: 8192,
    maxOutputTokens: 128_000,
    thinking: 'adaptive',
    thinkingDisplay: 'summarized',
    structuredOutputs: true,
    sampling: 'none',
  },
  {
    name: 'claude-5+',
    match: /^claude-(?:opus|sonnet|haiku)-(?:[5-9]|\d{2})(?:$|[-@.])/,
    defaultMaxTokens: 8192,
    maxOutputTokens: null,
    thinking: 'adaptive',
    thinkingDisplay: 'summarized',
    structuredOutputs: true,
    sampling: 'none',
  },
  { name: 'claude-opus-4-6', match: /^claude-opus-4-6/, defaultMaxTokens: 8192, maxOutputTokens: 128_000, thinking: 'budget', structuredOutputs: true, sampling: 'one' },
  { name: 'claude-sonnet-4-6', match: /^claude-sonnet-4-6/, defaultMaxTokens: 8192, maxOutputTokens: 64_000, thinking: 'budget', structuredOutputs: true, sampling: 'one' },
  { name: 'claude-opus-4-5', match: /^claude-opus-4-5/, defaultMaxTokens: 8192, maxOutputTokens: 64_000, thinking: 'budget', structuredOutputs: true, sampling: 'one' },
  { name: 'claude-sonnet-4-5', match: /^claude-sonnet-4-5/, defaultMaxTokens: 8192, maxOutputTokens: 64_000, thinking: 'budget', structuredOutputs: true, sampling: 'one' },
  { name: 'claude-haiku-4-5', match: /^claude-haiku-4-5/, defaultMaxTokens: 8192, maxOutputTokens: 64_000, thinking: 'budget', structuredOutputs: true, sampling: 'one' },
  { name: 'claude-opus-4-1', match: /^claude-opus-4-1(?:$|[-@.])/, defaultMaxTokens: 8192, maxOutputTokens: 32_000, thinking: 'budget', structuredOutputs: false, sampling: 'one' },
  { name: 'claude-opus-4', match: /^claude-(?:opus-4|4-opus)(?:$|-0$|-\d{8}|-latest|@)/, defaultMaxTokens: 8192, maxOutputTokens: 32_000, thinking: 'budget', structuredOutputs: false, sampling: 'both' },
  { name: 'claude-sonnet-4', match: /^claude-(?:sonnet-4|4-sonnet)(?:$|-0$|-\d{8}|-latest|@)/, defaultMaxTokens: 8192, maxOutputTokens: 64_000, thinking: 'budget', structuredOutputs: false, sampling: 'both' },
  { name: 'claude-3-7-sonnet', match: /^claude-3-7-sonnet/, defaultMaxTokens: 4096, maxOutputTokens: 64_000, thinking: 'budget', structuredOutputs: false, sampling: 'both' },
  { name: 'claude-3-5', match: /^claude-3-5-(?:sonnet|haiku)/, defaultMaxTokens: 4096, maxOutputTokens: 8192, thinking: 'none', structuredOutputs: false, sampling: 'both' },
  { name: 'claude-3', match: /^claude-3-/, defaultMaxTokens: 4096, maxOutputTokens: 4096, thinking: 'none', structuredOutputs: false, sampling: 'both' },
  // Anything else (a new 4.x point release, a fine-tune name): assume a current model, but
  // no structured outputs (the prompt fallback works everywhere) and no output cap.
  { name: 'claude (unknown)', match: /^/, defaultMaxTokens: 8192, maxOutputTokens: null, thinking: 'budget', structuredOutputs: false, sampling: 'both' },
];

export function anthropicModelFamily(model: string): AnthropicModelFamily {
  return ANTHROPIC_MODEL_FAMILIES.find((family) => family.match.test(model)) ?? ANTHROPIC_MODEL_FAMILIES[ANTHROPIC_MODEL_FAMILIES.length - 1]!;
}

/**
 * OpenAI `reasoning_effort` → `thinking.budget_tokens` for budget families. Anthropic's
 * minimum budget is 1024, so `minimal` and `low` share it.
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16_384,
};

/** OpenAI `reasoning_effort` → `output_config.effort` for adaptive families. */
export const ADAPTIVE_EFFORTS: Readonly<Record<string, string>> = {
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'max',
};

/** Anthropic's floor for `thinking.budget_tokens`. */
export const MINIMUM_THINKING_BUDGET = 1024;
