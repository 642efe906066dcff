/**
 * When an upstream attempt may be tried again, and how long to wait first.
 *
 * Retryable: 408, 409, 429, 500–504 and 529 answers, and failures of the connection
 * itself (refused, reset, timed out before an answer). The wait is exponential backoff
 * with full jitter, unless the upstream said how long (`retry-after-ms`, `retry-after` in
 * seconds or as an HTTP date, or Gemini's `google.rpc.RetryInfo` detail). Each request has
 * a budget: a number of retries and a total wait; an upstream asking for longer than what
 * is left of the budget is not waited for (the next candidate, or the error, comes at once).
 *
 * Pure: the clock and the random source are parameters, so tests are exact.
 */

export interface RetryConfig {
  /** Retries per candidate after the first attempt (default 2). 0 turns retries off. */
  maxRetries: number;
  /** First backoff step (ms, default 250); step n waits up to base × 2^n. */
  baseDelayMs: number;
  /** One wait is never longer than this (ms, default 8 s). */
  maxDelayMs: number;
  /** All waits of one request together stay under this (ms, default 20 s). */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_CONFIG: RetryConfig = { maxRetries: 2, baseDelayMs: 250, maxDelayMs: 8_000, maxTotalWaitMs: 20_000 };

const RETRYABLE_STATUSES = new Set([408, 409, 429, 500, 501, 502, 503, 504, 529]);

/** Whether an upstream answer with this status may succeed when tried again, here or on a fallback. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

type HeaderValue = string | string[] | undefined;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Gemini's `"retryDelay": "36s"` / `"1.5s"` from a google.rpc.RetryInfo detail. */
function retryInfoDelayMs(body: unknown): number | null {
  const details = (body as { error?: { details?: unknown } } | null)?.error?.details;
  if (!Array.isArray(details)) return null;
  for (const detail of details) {
    if (typeof detail !== 'object' || detail === null) continue;
    const type = (detail as { '@type'?: unknown })['@type'];
    const delay = (detail as { retryDelay?: unknown }).retryDelay;
    if (typeof type === 'string' && type.endsWith('google.rpc.RetryInfo') && typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match) return Math.round(Number(match[1]) * 1000);
    }
  }
  return null;
}

/**
 * How long the upstream asked the client to wait, in ms, or null when it did not say.
 * `body` is the parsed error body when there is one (for Gemini's RetryInfo).
 */
export function requestedRetryDelayMs(headers: Record<string, HeaderValue>, body: unknown = null, now: number = Date.now()): number | null {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const after = first(headers['retry-after']);
  if (after !== undefined) {
    const text = after.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
    const date = Date.parse(text);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return retryInfoDelayMs(body);
}

/** Exponential backoff with full jitter for retry number `retry` (0 for the first retry). */
export function backoffDelayMs(retry: number, config: RetryConfig, random: () => number = Math.random): number {
  const ceiling = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** retry);
  // Full jitter, with a floor of half the step so that retries never hammer at once.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The retry budget of one client request, shared by all its candidates. */
export class RetryBudget {
  private waited = 0;
  constructor(
    readonly config: RetryConfig,
    private readonly random: () => number = Math.random,
  ) {}

  get totalWaitMs(): number {
    return this.waited;
  }

  /**
   * The wait before retry number `retry` of one candidate, or null when no retry should be
   * made (count spent, or the wait the upstream asks for exceeds what is left).
   */
  nextDelay(retry: number, requestedMs: number | null): number | null {
    if (retry >= this.config.maxRetries) return null;
    const left = this.config.maxTotalWaitMs - this.waited;
    let delay: number;
    if (requestedMs !== null) {
      if (requestedMs > left || requestedMs > this.config.maxDelayMs * 4) return null;
      delay = requestedMs;
    } else {
      delay = Math.min(backoffDelayMs(retry, this.config, this.random), left);
    }
    if (delay < 0 || left <= 0) return null;
    this.waited += delay;
    return delay;
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: { aborted: boolean; addEventListener?: AbortSignal['addEventListener']; removeEventListener?: AbortSignal['removeEventListener'] }): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('aborted', 'AbortError'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener?.('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener?.('abort', onAbort, { once: true });
  });
}
