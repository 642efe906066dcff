/**
 * The one cost function of a finished request, used by the writer (what is stored) and by
 * the live inspector (what the window shows the moment a request ends), so the two never
 * disagree: the upstream's usage when it reported one; else, for a request that reached an
 * upstream or produced output, an estimate from the bodies, marked estimated; else zero.
 * A response-cache hit costs nothing and counts what it saved.
 */
import type { Usage } from '../core/record.js';
import type { PriceBook } from '../pricing/catalog.js';
import { computeCost } from '../pricing/cost.js';
import type { StoredRequestRecord, StoredUsage } from './stored-record.js';
import { estimateOutputTokens, estimateUsage } from './usage-estimate.js';

export interface RecordCost {
  usage: StoredUsage;
  usageEstimated: boolean;
  /** Exact nano-dollars; meaningful only when `priced`. */
  costNanoUsd: number;
  /** False when the model has no known price and tokens were billed. */
  priced: boolean;
  cacheSavingsNanoUsd: number;
  cacheReadSavingsNanoUsd: number;
}

function zeroUsage(): Usage {
  return { inputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
}

/** Usage to count: reported, estimated, or zero (nothing was billed). */
export function resolveUsage(record: StoredRequestRecord): { usage: StoredUsage; estimated: boolean } {
  if (record.usage) return { usage: record.usage, estimated: false };
  const reachedUpstream = record.attempts > 0 && record.cacheHit !== true;
  const producedOutput = estimateOutputTokens(record.responseBody) > 0;
  if (record.status === 'success' || (reachedUpstream && record.status === 'cancelled') || producedOutput) {
    return { usage: estimateUsage(record.upstreamRequestBody ?? record.requestBody, record.responseBody), estimated: true };
  }
  return { usage: zeroUsage(), estimated: false };
}

export function costOfRecord(record: StoredRequestRecord, priceBook: PriceBook): RecordCost {
  const { usage, estimated } = resolveUsage(record);
  const model = record.resolvedModel ?? record.requestedModel;
  const price = model ? priceBook.lookup({ provider: record.provider, model }) : null;
  const cost = computeCost(usage, price);
  const cacheHit = record.cacheHit === true;
  const billedTokens = usage.inputTokens + usage.outputTokens;
  // A request with no billed tokens costs exactly zero whether or not its model has a price.
  const priced = cacheHit || billedTokens === 0 || cost.priced;
  return {
    usage,
    usageEstimated: estimated,
    costNanoUsd: cacheHit || billedTokens === 0 ? 0 : cost.costNanoUsd,
    priced,
    cacheSavingsNanoUsd: cacheHit ? cost.costNanoUsd : 0,
    cacheReadSavingsNanoUsd: cacheHit ? 0 : cost.cacheReadSavingsNanoUsd,
  };
}
