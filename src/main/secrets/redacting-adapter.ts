/**
 * Wraps a provider adapter so that nothing it derives from an upstream's answer can carry
 * the provider key: error responses (`parseError`), error events in a stream, failures of
 * response parsing and of model listing. The key the request used (`target.apiKey`: from
 * the request header, the keychain or the environment) is masked literally, and anything
 * shaped like a credential is masked too (see redactSecrets). Successful responses are
 * not touched: they are passed through byte for byte.
 *
 * The registry wraps every adapter once (providers/registry.ts), so every route, the
 * model catalog and `switchyard keys test` get redacted errors without knowing about it.
 */
import { GatewayError } from '../gateway/errors.js';
import type { CoreStreamEvent } from '../core/types.js';
import type { CoreProviderAdapter, CoreStreamTranslator } from '../gateway/providers/types.js';
import { redactSecrets, redactValue } from './redact.js';

/** The same error with secrets masked from its message, param and code; the same object when there were none. */
export function redactGatewayError(error: GatewayError, known: ReadonlyArray<string | null | undefined>): GatewayError {
  const message = redactSecrets(error.message, known);
  const param = error.param === null ? null : redactSecrets(error.param, known);
  const code = error.code === null ? null : redactSecrets(error.code, known);
  if (message === error.message && param === error.param && code === error.code) return error;
  return new GatewayError(error.status, message, { type: error.type, param, code, headers: error.headers });
}

/** Any thrown value with secrets masked from its message (GatewayErrors keep their class and status). */
export function redactThrown(error: unknown, known: ReadonlyArray<string | null | undefined>): unknown {
  if (error instanceof GatewayError) return redactGatewayError(error, known);
  if (error instanceof Error) {
    const message = redactSecrets(error.message, known);
    if (message === error.message) return error;
    const copy = new Error(message);
    copy.name = error.name;
    (copy as { code?: unknown }).code = (error as { code?: unknown }).code;
    return copy;
  }
  return typeof error === 'string' ? redactSecrets(error, known) : error;
}

function guarded<A extends unknown[], R>(run: (...args: A) => R, keyOf: (...args: A) => string | null): (...args: A) => R {
  return (...args: A): R => {
    try {
      return run(...args);
    } catch (error) {
      throw redactThrown(error, [keyOf(...args)]);
    }
  };
}

/** Adapters this module made (a WeakSet, so a spread copy with one method replaced is wrapped again). */
const wrappedCoreAdapters = new WeakSet<CoreProviderAdapter>();

function redactCoreEvents(events: CoreStreamEvent[], apiKey: string | null): CoreStreamEvent[] {
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    if (event.type === 'error') events[index] = { ...event, error: redactValue(event.error, [apiKey]) };
  }
  return events;
}

class RedactingCoreStreamTranslator implements CoreStreamTranslator {
  constructor(
    private readonly inner: CoreStreamTranslator,
    private readonly apiKey: string | null,
  ) {}

  push(event: Parameters<CoreStreamTranslator['push']>[0]): CoreStreamEvent[] {
    return redactCoreEvents(this.inner.push(event), this.apiKey);
  }

  end(): CoreStreamEvent[] {
    return redactCoreEvents(this.inner.end(), this.apiKey);
  }

  get done(): boolean {
    return this.inner.done;
  }
}

/** The adapter with every upstream-derived error redacted. Idempotent. */
export function redactingCoreAdapter(adapter: CoreProviderAdapter): CoreProviderAdapter {
  if (wrappedCoreAdapters.has(adapter)) return adapter;
  const wrapped: CoreProviderAdapter = {
    nativeFormat: adapter.nativeFormat,
    prepare: adapter.prepare,
    parseResponse: guarded(adapter.parseResponse, (_body, target) => target.apiKey),
    createStreamTranslator: (target, core) => new RedactingCoreStreamTranslator(adapter.createStreamTranslator(target, core), target.apiKey),
    parseError: (status, body, headers, target) => redactGatewayError(adapter.parseError(status, body, headers, target), [target.apiKey]),
    async listModels(target, fetchJson, timeoutMs) {
      try {
        return await adapter.listModels(target, fetchJson, timeoutMs);
      } catch (error) {
        throw redactThrown(error, [target.apiKey]);
      }
    },
  };
  if (adapter.speaks) wrapped.speaks = adapter.speaks;
  if (adapter.prepareEmbeddings) wrapped.prepareEmbeddings = adapter.prepareEmbeddings;
  if (adapter.parseEmbeddingsResponse) wrapped.parseEmbeddingsResponse = guarded(adapter.parseEmbeddingsResponse, (_body, target) => target.apiKey);
  if (adapter.prepareCountTokens) wrapped.prepareCountTokens = adapter.prepareCountTokens;
  if (adapter.prepareCoreCountTokens) wrapped.prepareCoreCountTokens = adapter.prepareCoreCountTokens;
  if (adapter.readTokenCount) wrapped.readTokenCount = adapter.readTokenCount;
  wrappedCoreAdapters.add(wrapped);
  return wrapped;
}
