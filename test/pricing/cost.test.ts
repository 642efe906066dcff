/**
 * Cost arithmetic against hand-computed values. Rates in nano-USD per token are the
 * USD-per-1M price × 1000 (e.g. $2.00/M = 2000 nano-USD per token).
 */
import { describe, expect, it } from 'vitest';
import { createPriceBook, type ModelPrice } from '../../src/main/pricing/catalog.js';
import { computeCost, formatNanoUsd, picoUsdPerToken } from '../../src/main/pricing/cost.js';

const book = createPriceBook();
function price(model: string): ModelPrice {
  const found = book.lookup({ model });
  if (!found) throw new Error(`no price for ${model}`);
  return found;
}

describe('computeCost per provider usage shape', () => {
  it('OpenAI: cached prompt tokens are a subset of prompt_tokens, charged at the cached rate', () => {
    // prompt_tokens 10000 of which cached_tokens 4000; completion_tokens 500 (120 reasoning, included).
    const usage = { inputTokens: 10_000, cachedInputTokens: 4_000, cacheWriteInputTokens: 0, outputTokens: 500, reasoningTokens: 120 };
    // gpt-4.1: 6000 × 2000 + 4000 × 500 + 500 × 8000 = 12,000,000 + 2,000,000 + 4,000,000
    expect(computeCost(usage, price('gpt-4.1'))).toEqual({ costNanoUsd: 18_000_000, priced: true, cacheReadSavingsNanoUsd: 6_000_000 });
  });

  it('OpenAI: quarter-cent rates are exact (gpt-4.1-nano cached $0.025/M, o4-mini cached $0.275/M)', () => {
    const nano = computeCost({ inputTokens: 7, cachedInputTokens: 3, cacheWriteInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, price('gpt-4.1-nano'));
    // 4 × 100 + 3 × 25 + 1 × 400 = 875
    expect(nano.costNanoUsd).toBe(875);
    const mini = computeCost({ inputTokens: 1_000, cachedInputTokens: 999, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0 }, price('o4-mini'));
    // 1 × 1100 + 999 × 275 = 275,825
    expect(mini.costNanoUsd).toBe(275_825);
  });

  it('Anthropic: cache reads and 5-minute / 1-hour writes each at their own rate', () => {
    // Raw: input_tokens 100 (uncached only), cache_read_input_tokens 2000, cache_creation_input_tokens 500
    // (ephemeral_1h 200, ephemeral_5m 300), output_tokens 300. Normalised input = 100 + 2000 + 500.
    const usage = {
      inputTokens: 2_600,
      cachedInputTokens: 2_000,
      cacheWriteInputTokens: 500,
      cacheWrite1hInputTokens: 200,
      outputTokens: 300,
      reasoningTokens: 0,
    };
    // claude-sonnet-4-5: 100 × 3000 + 2000 × 300 + 300 × 3750 + 200 × 6000 + 300 × 15000
    //                  = 300,000 + 600,000 + 1,125,000 + 1,200,000 + 4,500,000
    expect(computeCost(usage, price('claude-sonnet-4-5-20250929'))).toEqual({
      costNanoUsd: 7_725_000,
      priced: true,
      cacheReadSavingsNanoUsd: 2_000 * 2_700,
    });
    // Without the 1-hour split every write is charged at the 5-minute rate: 500 × 3750.
    const { cacheWrite1hInputTokens: _ignored, ...fiveMinuteOnly } = usage;
    expect(computeCost(fiveMinuteOnly, price('claude-sonnet-4-5')).costNanoUsd).toBe(300_000 + 600_000 + 1_875_000 + 4_500_000);
  });

  it('Anthropic: claude-haiku-4-5 thinking tokens are output tokens', () => {
    const usage = { inputTokens: 50, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 1_000, reasoningTokens: 800 };
    // 50 × 1000 + 1000 × 5000
    expect(computeCost(usage, price('claude-haiku-4-5')).costNanoUsd).toBe(5_050_000);
  });

  it('xAI: reasoning tokens (reported outside completion_tokens) are charged as output', () => {
    // Recorded grok-3-mini: prompt 10, completion 35, reasoning 375 → normalised output 410.
    const usage = { inputTokens: 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 410, reasoningTokens: 375 };
    // 10 × 300 + 410 × 500 = 3,000 + 205,000
    expect(computeCost(usage, price('grok-3-mini')).costNanoUsd).toBe(208_000);
  });

  it('Gemini: thoughts (outside candidatesTokenCount) are output; cached content is a subset of the prompt', () => {
    // Recorded gemini-2.5-flash: prompt 11, candidates 4, thoughts 18 → output 22.
    const thoughts = { inputTokens: 11, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 22, reasoningTokens: 18 };
    // 11 × 300 + 22 × 2500 = 3,300 + 55,000
    expect(computeCost(thoughts, price('gemini-2.5-flash')).costNanoUsd).toBe(58_300);
    const cached = { inputTokens: 1_000, cachedInputTokens: 600, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
    // 400 × 300 + 600 × 30 = 120,000 + 18,000
    expect(computeCost(cached, price('gemini-2.5-flash')).costNanoUsd).toBe(138_000);
  });

  it('Gemini 2.5 Pro: prompts above 200k tokens use the long-context rates', () => {
    const usage = { inputTokens: 250_000, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 1_000, reasoningTokens: 0 };
    // 250,000 × 2500 + 1000 × 15000
    expect(computeCost(usage, price('gemini-2.5-pro')).costNanoUsd).toBe(640_000_000);
    const short = { ...usage, inputTokens: 200_000 };
    // 200,000 × 1250 + 1000 × 10000
    expect(computeCost(short, price('gemini-2.5-pro')).costNanoUsd).toBe(260_000_000);
  });

  it('embeddings: input only', () => {
    const usage = { inputTokens: 12_345, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
    expect(computeCost(usage, price('text-embedding-3-small')).costNanoUsd).toBe(12_345 * 20);
  });

  it('an unknown price is unpriced, never zero-priced', () => {
    const usage = { inputTokens: 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 10, reasoningTokens: 0 };
    expect(computeCost(usage, null)).toEqual({ costNanoUsd: 0, priced: false, cacheReadSavingsNanoUsd: 0 });
  });

  it('clamps subsets larger than their parent so nothing is charged twice', () => {
    const usage = { inputTokens: 100, cachedInputTokens: 150, cacheWriteInputTokens: 50, outputTokens: 0, reasoningTokens: 0 };
    // All 100 prompt tokens at the cached rate: 100 × 500.
    expect(computeCost(usage, price('gpt-4.1')).costNanoUsd).toBe(50_000);
  });

  it('rounds sub-nano prices once per request, half up', () => {
    const custom: ModelPrice = { model: 'custom', provider: null, input: 0.1234, output: 0, origin: 'override' };
    // 0.1234 $/M = 123.4 nano per token; 3 tokens = 370.2 → 370; 5 tokens = 617.0
    expect(computeCost({ inputTokens: 3, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0 }, custom).costNanoUsd).toBe(370);
    expect(computeCost({ inputTokens: 5, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0 }, custom).costNanoUsd).toBe(617);
  });
});

describe('exact decimal helpers', () => {
  it('converts prices without floating-point error', () => {
    expect(picoUsdPerToken(0.275)).toBe(275_000n);
    expect(picoUsdPerToken(0.005)).toBe(5_000n);
    expect(picoUsdPerToken(18.75)).toBe(18_750_000n);
    expect(picoUsdPerToken(1e-7)).toBe(0n);
    expect(picoUsdPerToken(5e-7)).toBe(1n);
    expect(picoUsdPerToken(120)).toBe(120_000_000n);
  });

  it('formats nano-dollars as exact USD decimals', () => {
    expect(formatNanoUsd(0)).toBe('0');
    expect(formatNanoUsd(1_234_567)).toBe('0.001234567');
    expect(formatNanoUsd(1_500_000_000)).toBe('1.5');
    expect(formatNanoUsd(18_000_000)).toBe('0.018');
    expect(formatNanoUsd(-5)).toBe('-0.000000005');
    expect(formatNanoUsd(123_456_789_012_345n)).toBe('123456.789012345');
  });
});
