/** Core usage → the request record's usage (the log counts unknown as 0; the provider's raw object kept). */
import type { CoreUsage } from '../../core/types.js';
import type { Usage } from '../types.js';

export function recordUsage(usage: CoreUsage | null): Usage | null {
  if (!usage) return null;
  const record: Usage = {
    inputTokens: usage.inputTokens ?? 0,
    cachedInputTokens: usage.cachedInputTokens ?? 0,
    cacheWriteInputTokens: usage.cacheWriteInputTokens ?? 0,
    outputTokens: usage.outputTokens ?? 0,
    reasoningTokens: usage.reasoningTokens ?? 0,
  };
  if ('raw' in usage) record.raw = usage.raw;
  return record;
}
