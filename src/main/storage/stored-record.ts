/**
 * What the request writer accepts: the gateway's RequestRecord plus optional facts the
 * gateway may know (a response-cache hit, per-attempt details, the 1-hour cache-write
 * share). Every extra field is optional, so a plain RequestRecord is always accepted.
 */
import type { RequestRecord, Usage } from '../gateway/types.js';

/** One upstream attempt, as the router saw it. */
export interface AttemptDetail {
  provider: string | null;
  model: string | null;
  startedAt?: number | null;
  endedAt?: number | null;
  latencyMs?: number | null;
  httpStatus?: number | null;
  status?: 'success' | 'error' | 'cancelled' | null;
  errorType?: string | null;
  errorMessage?: string | null;
}

export type StoredUsage = Usage & {
  /** Part of cacheWriteInputTokens written with a 1-hour TTL (priced at the 1-hour rate). */
  cacheWrite1hInputTokens?: number;
};

export type StoredRequestRecord = Omit<RequestRecord, 'usage'> & {
  usage: StoredUsage | null;
  /** The response came from the gateway's own response cache: no upstream cost, and its usage counts as savings. */
  cacheHit?: boolean;
  /** One entry per upstream attempt; when absent one attempt row is synthesised from the record. */
  attemptsDetail?: AttemptDetail[];
};
