/**
 * The attempt loop: one client request, an ordered list of candidates (the model asked
 * for, then its fallbacks), and for each candidate up to 1 + maxRetries upstream attempts.
 *
 * Per attempt: the circuit breakers may skip the candidate; the provider's concurrency
 * gate gives a slot (or a 429); the endpoint's `prepare` builds the upstream request; the
 * upstream answers. A retryable failure (408, 409, 429, 5xx, 529, a connection failure, a
 * timeout before the answer began) waits (backoff with jitter, or what the upstream asked
 * for) and tries again, within the request's retry budget; when a candidate's retries are
 * spent, or its circuit is open, the next candidate is tried. A failure that no retry can
 * change (400, 401, 403, 404, 413, 422 …) is the answer at once.
 *
 * The loop ends when an upstream answered with success headers: the caller reads the body
 * (and streams it to the client); nothing here retries after that, so a streaming client
 * never gets two beginnings. Every attempt is recorded (provider, model, status, error,
 * timings) for the log and the inspector's trail.
 */
import { GatewayError } from '../errors.js';
import { targetFor, type GatewayContext, type ResolvedTarget } from '../context.js';
import type { GatewayKeyIdentity } from '../access.js';
import type { PreparedRequest } from '../providers/types.js';
import type { AttemptRecord as AttemptDetail, RequestWarning } from '../types.js';
import { readErrorBody, transportError, type AbortSource, type UpstreamResponse } from '../routing/upstream-client.js';
import { ClientAbort } from '../routing/client-abort.js';
import { isRetryableStatus, requestedRetryDelayMs, RetryBudget, sleep } from '../routing/retry-policy.js';

export interface AttemptRequest {
  /** The model the client asked for (an alias, `provider/model`, or a plain name). */
  model: string;
  /** Bring-your-own-key for this request, if the client sent one. */
  byokKey: string | null;
  identity: GatewayKeyIdentity | null;
  signal: ClientAbort;
  /** Builds the upstream request for one candidate (pure translation; may throw a 4xx GatewayError). */
  prepare(resolved: ResolvedTarget): { request: PreparedRequest; warnings: RequestWarning[] };
  /** Called for every attempt as it starts (the recorder's `routed`). */
  onAttempt?(resolved: ResolvedTarget, prepared: { request: PreparedRequest; warnings: RequestWarning[] }): void;
}

export interface AttemptSuccess {
  resolved: ResolvedTarget;
  response: UpstreamResponse;
  /** Aborts when the client goes away or the attempt's total timeout passes: read the body with it. */
  signal: AbortSource;
  /** True once the attempt's total timeout passed (a body that breaks off then is a 504, not a cancel). */
  timedOut(): boolean;
  /** The 504 for an attempt whose total timeout passed. */
  timeoutError(): GatewayError;
  /** Ends this attempt: frees the concurrency slot and tells the circuit breakers how the body went. Call exactly once. */
  finish(outcome: { ok: true } | { ok: false; error: GatewayError }): void;
  attempts: AttemptDetail[];
}

/** An error from the loop, with the trail of attempts that led to it. */
export class AttemptsFailed extends Error {
  constructor(
    readonly error: GatewayError,
    readonly attempts: AttemptDetail[],
  ) {
    super(error.message);
  }
}

function parseJsonQuietly(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Which circuit an upstream failure counts against, or null when it says nothing about the upstream. */
function breakerScope(error: GatewayError, upstreamStatus: number | null | undefined): 'provider' | 'model' | null {
  if (error.status === 499) return null;
  // The upstream's own status decides (an adapter may show Anthropic's 529 overloaded to an OpenAI client as 503).
  const status = upstreamStatus ?? error.status;
  if (status === 429 || status === 529 || error.code === 'overloaded_error' || error.type === 'overloaded_error') return 'model';
  if (status >= 500 || status === 408 || error.status >= 500) return 'provider';
  return null;
}

/**
 * Runs the loop. Resolves with the first upstream answer that began with success; rejects
 * with AttemptsFailed (the last error, or a 503 when every circuit was open).
 */
export async function runAttempts(context: GatewayContext, request: AttemptRequest): Promise<AttemptSuccess> {
  const { reliability } = context;
  const attempts: AttemptDetail[] = [];
  const budget = new RetryBudget(reliability.retries);
  const candidates = context.router.candidates(request.model);
  let lastError: GatewayError | null = null;
  let circuitRetryAt: number | null = null;

  for (let index = 0; index < candidates.length; index++) {
    const candidateModel = candidates[index]!;
    let resolved: ResolvedTarget;
    try {
      const resolution = context.router.resolveCached(candidateModel) ?? (await context.router.resolve(candidateModel));
      resolved = targetFor(context, resolution, request.byokKey, request.identity, index === 0 ? request.model : candidateModel);
    } catch (error) {
      // The model asked for must resolve; a fallback that cannot is passed over (and shown in the trail).
      if (index === 0 || !(error instanceof GatewayError)) throw new AttemptsFailed(error instanceof GatewayError ? error : transportError(error, 'upstream', ''), attempts);
      attempts.push({ provider: null, model: candidateModel, startedAt: Date.now(), endedAt: Date.now(), latencyMs: 0, httpStatus: error.status, status: 'error', errorType: error.code ?? error.type, errorMessage: `skipped fallback: ${error.message}` });
      continue;
    }
    const providerId = resolved.target.provider.id;
    const upstreamModel = resolved.target.model;

    for (let retry = 0; ; retry++) {
      if (!reliability.breakers.allow(providerId, upstreamModel)) {
        const at = reliability.breakers.retryAt(providerId, upstreamModel);
        if (at !== null) circuitRetryAt = circuitRetryAt === null ? at : Math.min(circuitRetryAt, at);
        attempts.push({
          provider: providerId,
          model: upstreamModel,
          startedAt: Date.now(),
          endedAt: Date.now(),
          latencyMs: 0,
          httpStatus: null,
          status: 'error',
          errorType: 'circuit_open',
          errorMessage: `skipped: the circuit for ${resolved.target.provider.name} is open after repeated failures`,
        });
        break;
      }
      const prepared = request.prepare(resolved);
      request.onAttempt?.(resolved, prepared);
      const attempt: AttemptDetail = { provider: providerId, model: upstreamModel, startedAt: Date.now(), endedAt: null, latencyMs: null, httpStatus: null, status: null, errorType: null, errorMessage: null };
      attempts.push(attempt);
      let release: () => void = noop;
      let error: GatewayError;
      let retryAfterMs: number | null = null;
      const timeouts = resolved.target.provider.timeouts;
      const total = totalTimeout(request.signal, timeouts.totalMs);
      const timeoutError = (): GatewayError =>
        new GatewayError(504, `${resolved.target.provider.name} did not finish within ${timeouts.totalMs / 1000} s (the provider's total timeout)`, { type: 'timeout_error', code: 'upstream_timeout' });
      try {
        const slot = reliability.gates.acquire(providerId, () => request.signal.signal);
        release = typeof slot === 'function' ? slot : await slot;
        const response = await context.upstream.request(prepared.request, {
          signal: total.signal,
          timeoutMs: timeouts.firstByteMs,
          idleTimeoutMs: timeouts.idleMs,
          connectTimeoutMs: timeouts.connectMs,
          providerName: resolved.target.provider.name,
        });
        attempt.httpStatus = response.status;
        if (response.status < 400) {
          let finished = false;
          return {
            resolved,
            response,
            attempts,
            signal: total.signal,
            timedOut: () => total.timedOut,
            timeoutError,
            finish: (outcome) => {
              if (finished) return;
              finished = true;
              total.clear();
              release();
              attempt.endedAt = Date.now();
              attempt.latencyMs = attempt.endedAt - (attempt.startedAt ?? attempt.endedAt);
              if (outcome.ok) {
                attempt.status = 'success';
                reliability.breakers.success(providerId, upstreamModel);
              } else {
                attempt.status = outcome.error.status === 499 ? 'cancelled' : 'error';
                attempt.httpStatus = outcome.error.status;
                attempt.errorType = outcome.error.type;
                attempt.errorMessage = outcome.error.message;
                const scope = breakerScope(outcome.error, null);
                if (scope) reliability.breakers.failure(providerId, upstreamModel, outcome.error.message, scope);
              }
            },
          };
        }
        const text = await readErrorBody(response);
        error = resolved.adapter.parseError(response.status, text, response.headers, resolved.target);
        retryAfterMs = requestedRetryDelayMs(response.headers, parseJsonQuietly(text));
      } catch (thrown) {
        error = total.timedOut
          ? timeoutError()
          : thrown instanceof GatewayError
            ? thrown
            : transportError(thrown, resolved.target.provider.name, new URL(resolved.target.provider.baseUrl).origin, request.signal);
      }
      total.clear();
      release();
      attempt.endedAt = Date.now();
      attempt.latencyMs = attempt.endedAt - (attempt.startedAt ?? attempt.endedAt);
      attempt.status = error.status === 499 ? 'cancelled' : 'error';
      // The upstream's own status when it answered (529 stays 529 in the trail), else the gateway's.
      attempt.httpStatus ??= error.status;
      attempt.errorType = error.type;
      attempt.errorMessage = error.message;
      lastError = error;
      if (error.status === 499 || request.signal.aborted) throw new AttemptsFailed(error, attempts);
      const scope = breakerScope(error, attempt.httpStatus);
      if (scope) reliability.breakers.failure(providerId, upstreamModel, error.message, scope);
      // The gateway's own concurrency refusal is not the upstream's: no retry here, but a fallback may serve.
      if (error.code === 'provider_concurrency_limit') break;
      if (!isRetryableStatus(error.status)) throw new AttemptsFailed(error, attempts);
      const delay = budget.nextDelay(retry, retryAfterMs);
      if (delay === null) break;
      try {
        await sleep(delay, request.signal.signal);
      } catch {
        throw new AttemptsFailed(new GatewayError(499, 'the client closed the request', { type: 'cancelled', code: 'client_closed_request' }), attempts);
      }
    }
  }

  if (lastError) throw new AttemptsFailed(lastError, attempts);
  // Every candidate's circuit was open.
  const seconds = circuitRetryAt === null ? 30 : Math.max(1, Math.ceil((circuitRetryAt - Date.now()) / 1000));
  throw new AttemptsFailed(
    new GatewayError(503, `No provider can serve '${request.model}' right now: every candidate's circuit is open after repeated upstream failures. Try again in ${seconds} s.`, {
      type: 'server_error',
      code: 'circuit_open',
      headers: { 'retry-after': String(seconds) },
    }),
    attempts,
  );
}

function noop(): void {}

/**
 * The attempt's abort source: the client's own when there is no total timeout (nothing to
 * allocate), else one that also aborts when the timeout passes.
 */
function totalTimeout(client: ClientAbort, totalMs: number): { signal: AbortSource; readonly timedOut: boolean; clear(): void } {
  if (totalMs <= 0) return { signal: client, timedOut: false, clear: noop };
  const own = new ClientAbort();
  const forward = (): void => own.abort();
  if (client.aborted) own.abort();
  else client.once('abort', forward);
  const state = {
    signal: own as AbortSource,
    timedOut: false,
    clear(): void {
      clearTimeout(timer);
      client.off('abort', forward);
    },
  };
  const timer = setTimeout(() => {
    state.timedOut = true;
    own.abort();
  }, totalMs);
  return state;
}

