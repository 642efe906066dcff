/**
 * What the routes share: configuration, routing, upstream HTTP, key lookup and the
 * recorder. Built once by `buildGateway`.
 */
import type { GatewayConfig } from './config.js';
import type { GatewayAuth, GatewayKeyIdentity } from './access.js';
import { GatewayError } from './errors.js';
import type { ModelCatalog } from './routing/model-catalog.js';
import type { ModelResolution, ModelRouter } from './routing/model-router.js';
import type { UpstreamClient } from './routing/upstream-client.js';
import { adapterFor, coreAdapterFor } from './providers/registry.js';
import type { CoreProviderAdapter, ProviderServices, UpstreamTarget } from './providers/types.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { CircuitBreakers, type BreakerSnapshot } from './routing/circuit-breaker.js';
import { ConcurrencyGates } from './routing/concurrency-gate.js';
import type { RetryConfig } from './routing/retry-policy.js';

export type { RequestObserver, RequestStart } from '../core/record.js';
import type { RequestObserver } from '../core/record.js';
import type { Policy } from './pipeline/policy.js';
import type { StoredResponses } from '../storage/stored-responses.js';

/** What keeps one failing upstream from failing the gateway: retries, breakers, concurrency gates. */
export interface Reliability {
  retries: RetryConfig;
  breakers: CircuitBreakers;
  gates: ConcurrencyGates;
}

export function createReliability(config: GatewayConfig, onBreakerChange?: (snapshot: BreakerSnapshot) => void): Reliability {
  const gates = new ConcurrencyGates();
  for (const provider of config.providers) if (provider.concurrency) gates.configure(provider.id, provider.name, provider.concurrency);
  return { retries: config.retries, breakers: new CircuitBreakers(config.circuitBreaker, Date.now, onBreakerChange), gates };
}

export interface GatewayContext {
  config: GatewayConfig;
  reliability: Reliability;
  auth: GatewayAuth;
  secrets: SecretStore;
  router: ModelRouter;
  catalog: ModelCatalog;
  upstream: UpstreamClient;
  observers: RequestObserver[];
  /** The pipeline's policies, in order (limits, cache, tracing); empty by default. */
  policies: Policy[];
  /** Where Responses answers are found again (the request log); null when the gateway keeps none. */
  responses: StoredResponses | null;
}

export interface ResolvedTarget {
  resolution: ModelResolution;
  target: UpstreamTarget;
  adapter: ProviderServices;
  /** The same provider over the format-neutral core (chat). */
  core: CoreProviderAdapter;
}

/** Refuses a model the gateway key may not use (403). */
export function assertModelAllowed(identity: GatewayKeyIdentity | null, requestedModel: string): void {
  if (identity?.allowedModels && !identity.allowedModels.includes(requestedModel)) {
    throw new GatewayError(403, `This gateway key may not use the model '${requestedModel}'.`, { type: 'permission_error', param: 'model', code: 'model_not_allowed' });
  }
}

/**
 * Turns a model resolution into a callable target: the adapter, and the key from the
 * request (bring-your-own-key), else the secret store.
 */
export function targetFor(context: GatewayContext, resolution: ModelResolution, byokKey: string | null, identity: GatewayKeyIdentity | null, requestedModel: string): ResolvedTarget {
  assertModelAllowed(identity, requestedModel);
  const { provider } = resolution;
  const adapter = adapterFor(provider);
  const core = coreAdapterFor(provider);
  if (!adapter || !core) {
    throw new GatewayError(404, `The model '${requestedModel}' belongs to provider '${provider.id}', which this version of Switchyard cannot call yet.`, {
      type: 'invalid_request_error',
      param: 'model',
      code: 'provider_not_supported',
    });
  }
  const apiKey = byokKey ?? context.secrets.get(provider.id);
  if (provider.requiresKey && !apiKey) {
    const how = provider.apiKeyEnv ? `set ${provider.apiKeyEnv} in the gateway's environment` : `add an API key for '${provider.id}'`;
    throw new GatewayError(
      404,
      `The model '${requestedModel}' is served by provider '${provider.id}', which is not configured: ${how} (or send a key for this request in "x-provider-api-key").`,
      { type: 'invalid_request_error', param: 'model', code: 'provider_not_configured' },
    );
  }
  return { resolution, adapter, core, target: { provider, model: resolution.model, apiKey } };
}
