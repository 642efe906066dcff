/**
 * Cost of one request from normalised usage and a price, as an exact integer number of
 * nano-dollars (10⁻⁹ USD), plus the exact decimal formatting used by exports.
 *
 * Arithmetic: a price of P USD per 1M tokens is P × 10⁶ pico-dollars (10⁻¹² USD) per
 * token. Prices are converted from their decimal spelling to that integer without going
 * through floating-point multiplication (so 0.275 becomes exactly 275000), every token
 * kind is multiplied and summed as BigInt pico-dollars, and the total is rounded once,
 * half up, to nano-dollars. Prices with at most 3 decimals (every catalog price today)
 * therefore give exact results with no rounding at all; finer prices (up to 6 decimals)
 * are exact in pico-dollars and lose at most half a nano-dollar per request.
 */
import type { Usage } from '../core/record.js';
import type { ModelPrice, PriceRates } from './catalog.js';

/** Normalised usage, optionally with the 1-hour share of Anthropic cache writes. */
export type PricedUsage = Usage & {
  /** Part of `cacheWriteInputTokens` written with a 1-hour TTL (Anthropic `cache_creation.ephemeral_1h_input_tokens`). */
  cacheWrite1hInputTokens?: number;
};

export interface CostResult {
  /** Exact integer; 0 when unpriced. */
  costNanoUsd: number;
  /** False when no price is known: the cost is then unknown, not zero. */
  priced: boolean;
  /** What the cache reads saved against the full input rate (0 when unpriced). */
  cacheReadSavingsNanoUsd: number;
}

const PICO_PER_NANO = 1000n;

/**
 * USD per 1M tokens → integer pico-dollars per token, read from the number's shortest
 * decimal spelling. Digits beyond the 6th decimal are rounded half up.
 */
/** Prices repeat (a catalog has a few dozen): each is parsed once, not once per request. */
const picoRates = new Map<number, bigint>();

export function picoUsdPerToken(usdPerMillionTokens: number): bigint {
  const known = picoRates.get(usdPerMillionTokens);
  if (known !== undefined) return known;
  const rate = parsePicoUsdPerToken(usdPerMillionTokens);
  if (picoRates.size < 4096) picoRates.set(usdPerMillionTokens, rate);
  return rate;
}

function parsePicoUsdPerToken(usdPerMillionTokens: number): bigint {
  if (!Number.isFinite(usdPerMillionTokens) || usdPerMillionTokens < 0) {
    throw new Error(`invalid price: ${usdPerMillionTokens}`);
  }
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(String(usdPerMillionTokens));
  if (!match) throw new Error(`invalid price: ${usdPerMillionTokens}`);
  const integerDigits = match[1] ?? '0';
  const fractionDigits = match[2] ?? '';
  const exponent = Number(match[3] ?? '0');
  // value = digits × 10^(exponent − fractionLength); we want value × 10^6.
  const digits = BigInt(integerDigits + fractionDigits);
  const scale = exponent - fractionDigits.length + 6;
  if (scale >= 0) return digits * 10n ** BigInt(scale);
  const divisor = 10n ** BigInt(-scale);
  return (digits + divisor / 2n) / divisor;
}

function clampCount(value: number | undefined): bigint {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return 0n;
  return BigInt(Math.floor(value));
}

function ratesFor(price: ModelPrice, inputTokens: number): PriceRates {
  const longContext = price.longContext;
  if (longContext && inputTokens > longContext.aboveInputTokens) return longContext;
  return price;
}

/**
 * Charges, in order: cache reads at the cached rate, cache writes at the write rate
 * (1-hour writes at the 1-hour rate), the remaining prompt tokens at the input rate, and
 * all output tokens (reasoning included) at the output rate. Cache reads and writes are
 * subsets of `inputTokens` and are subtracted from it before the full rate is applied;
 * counts that exceed their parent are clamped so nothing is charged twice.
 */
export function computeCost(usage: PricedUsage, price: ModelPrice | null): CostResult {
  if (!price) return { costNanoUsd: 0, priced: false, cacheReadSavingsNanoUsd: 0 };
  const input = clampCount(usage.inputTokens);
  let cached = clampCount(usage.cachedInputTokens);
  if (cached > input) cached = input;
  let written = clampCount(usage.cacheWriteInputTokens);
  if (written > input - cached) written = input - cached;
  let written1h = clampCount(usage.cacheWrite1hInputTokens);
  if (written1h > written) written1h = written;
  const written5m = written - written1h;
  const uncached = input - cached - written;
  const output = clampCount(usage.outputTokens);

  const rates = ratesFor(price, Number(input));
  const inputRate = picoUsdPerToken(rates.input);
  const cachedRate = rates.cachedInput === undefined ? inputRate : picoUsdPerToken(rates.cachedInput);
  const writeRate = rates.cacheWrite === undefined ? inputRate : picoUsdPerToken(rates.cacheWrite);
  const write1hRate = rates.cacheWrite1h === undefined ? writeRate : picoUsdPerToken(rates.cacheWrite1h);
  const outputRate = picoUsdPerToken(rates.output);

  const totalPico =
    uncached * inputRate + cached * cachedRate + written5m * writeRate + written1h * write1hRate + output * outputRate;
  const savingsPico = cached * (inputRate > cachedRate ? inputRate - cachedRate : 0n);
  return {
    costNanoUsd: picoToNano(totalPico),
    priced: true,
    cacheReadSavingsNanoUsd: picoToNano(savingsPico),
  };
}

function picoToNano(pico: bigint): number {
  const nano = (pico + PICO_PER_NANO / 2n) / PICO_PER_NANO;
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('cost exceeds the exactly representable range');
  return Number(nano);
}

/**
 * Nano-dollars → exact decimal USD string: `1234567` → `"0.001234567"`, `1500000000` →
 * `"1.5"`, `0` → `"0"`. No floating point is involved.
 */
export function formatNanoUsd(nanoUsd: number | bigint): string {
  let value = BigInt(nanoUsd);
  const negative = value < 0n;
  if (negative) value = -value;
  const whole = value / 1_000_000_000n;
  const fraction = (value % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
