/**
 * Providers & keys: each provider's state (key in the keychain, from the environment,
 * missing, or not needed), its masked key, the last key test, base URL overrides for
 * OpenAI-compatible and local servers, detection of local servers (Ollama, LM Studio)
 * by a quick probe of their /v1/models, and the gateway's live reliability state per
 * provider (circuit breakers, concurrency in use). Keys go in through here and never come
 * back out.
 */
import type { CircuitView, ProviderConcurrencyView, ProviderState, ProviderTestResult } from '../../shared/contract.js';
import type { ProviderConfig } from '../gateway/config.js';
import type { Reliability } from '../gateway/context.js';
import type { BreakerSnapshot } from '../gateway/routing/circuit-breaker.js';
import type { UpstreamClient } from '../gateway/routing/upstream-client.js';
import { testProviderKey, type KeyTestOutcome } from '../secrets/key-test.js';
import { maskSecret } from '../secrets/secret-store.js';
import { OperationError, requireString } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

const PROBE_TIMEOUT_MS = 800;
const TEST_TIMEOUT_MS = 10_000;

export class ProviderDirectory {
  private readonly lastTests = new Map<string, ProviderTestResult>();
  private readonly detected = new Map<string, boolean>();

  constructor(private readonly context: ServiceContext) {}

  provider(id: unknown): ProviderConfig {
    const name = requireString(id, 'provider', { maximumLength: 64 });
    const provider = this.context.config.providers.find((candidate) => candidate.id === name);
    if (!provider) throw new OperationError(`Unknown provider "${name}".`, 'unknown_provider', 404);
    return provider;
  }

  state(provider: ProviderConfig): ProviderState {
    const { providerKeys, environmentSecrets } = this.context;
    const stored = providerKeys.has(provider.id) ? providerKeys.get(provider.id) : null;
    const fromEnvironment = stored ? null : environmentSecrets.get(provider.id);
    const key = stored ?? fromEnvironment;
    const defaultBaseUrl = this.context.defaultBaseUrls.get(provider.id) ?? provider.baseUrl;
    return {
      id: provider.id,
      name: provider.name,
      kind: provider.kind,
      baseUrl: provider.baseUrl,
      defaultBaseUrl,
      baseUrlOverridden: provider.baseUrl !== defaultBaseUrl,
      local: provider.local,
      baseUrlEditable: provider.kind === 'openai-compatible' || provider.local,
      keyState: stored ? 'keychain' : fromEnvironment ? 'environment' : provider.requiresKey ? 'missing' : 'not-needed',
      maskedKey: key ? maskSecret(key) : null,
      keyEnvironmentVariable: provider.apiKeyEnv,
      detected: provider.local ? (this.detected.get(provider.id) ?? null) : null,
      lastTest: this.lastTests.get(provider.id) ?? null,
      circuits: circuitViews(this.context.reliability, provider.id),
      concurrency: concurrencyView(this.context.reliability, provider.id),
    };
  }

  list(): ProviderState[] {
    return this.context.config.providers.map((provider) => this.state(provider));
  }

  changed(provider: ProviderConfig): ProviderState {
    this.context.runtime.catalog?.invalidate(provider.id);
    this.context.events.emit('providers.changed', this.list());
    return this.state(provider);
  }

  /**
   * A cheap authenticated call, the provider's model list, through the same check as
   * `switchyard keys test` (secrets/key-test.ts): an answer the adapter reads as a bad key
   * (401/403, xAI's 400 "Incorrect API key") is an invalid key.
   */
  async test(provider: ProviderConfig): Promise<ProviderTestResult> {
    const started = Date.now();
    const apiKey = this.context.providerKeys.get(provider.id) ?? this.context.environmentSecrets.get(provider.id);
    let result: ProviderTestResult;
    if (provider.requiresKey && !apiKey) {
      result = { outcome: 'invalid-key', message: 'No key set.', testedAt: started, latencyMs: null };
    } else {
      const checked = await testProviderKey(provider, apiKey, { timeoutMs: TEST_TIMEOUT_MS, upstream: this.context.upstream });
      result = { outcome: TEST_OUTCOMES[checked.outcome], message: describeTest(provider, checked), testedAt: started, latencyMs: checked.latencyMs };
    }
    this.lastTests.set(provider.id, result);
    if (provider.local) this.detected.set(provider.id, result.outcome === 'ok');
    return result;
  }

  /** Probes every local server's /models quickly; returns whether anything changed. */
  async detectLocal(): Promise<boolean> {
    let changed = false;
    await Promise.all(
      this.context.config.providers
        .filter((provider) => provider.local)
        .map(async (provider) => {
          const running = await probe(this.context.upstream, `${provider.baseUrl}/models`);
          if (this.detected.get(provider.id) !== running) changed = true;
          this.detected.set(provider.id, running);
        }),
    );
    return changed;
  }
}

/** A breaker's snapshot as the UI sees it: no internal key, `retryAt` only while it is open. */
export function circuitView(snapshot: BreakerSnapshot): CircuitView {
  return {
    provider: snapshot.provider,
    model: snapshot.model,
    state: snapshot.state,
    consecutiveFailures: snapshot.consecutiveFailures,
    recentFailures: snapshot.recentFailures,
    recentTotal: snapshot.recentTotal,
    retryAt: snapshot.state === 'open' ? snapshot.retryAt : null,
    openedAt: snapshot.state === 'closed' ? null : snapshot.openedAt,
    lastError: snapshot.lastError,
  };
}

/** The circuits that have seen a failure (of one provider, or all): by provider, its own circuit before its models'. */
export function circuitViews(reliability: Reliability, provider?: string): CircuitView[] {
  return reliability.breakers
    .snapshot()
    .filter((snapshot) => provider === undefined || snapshot.provider === provider)
    .map(circuitView)
    .sort((a, b) => a.provider.localeCompare(b.provider) || (a.model === null ? -1 : b.model === null ? 1 : a.model.localeCompare(b.model)));
}

/** The soonest moment an open circuit lets its probe through (so the UI can be told it turned half-open), or null. */
export function nextCircuitProbeAt(reliability: Reliability, now = Date.now()): number | null {
  let next: number | null = null;
  for (const snapshot of reliability.breakers.snapshot()) {
    if (snapshot.state === 'open' && snapshot.retryAt !== null && snapshot.retryAt > now) next = next === null ? snapshot.retryAt : Math.min(next, snapshot.retryAt);
  }
  return next;
}

function concurrencyView(reliability: Reliability, provider: string): ProviderConcurrencyView | null {
  const gate = reliability.gates.snapshot().find((candidate) => candidate.provider === provider);
  return gate ? { active: gate.active, waiting: gate.waiting, limit: gate.limit, queue: gate.queue } : null;
}

/**
 * Whether a local server answers `url` with a 2xx, each wait bounded by PROBE_TIMEOUT_MS. Through the
 * gateway's own undici client, not the global `fetch`: that would load Node's separate copy
 * of undici (~65 ms of CPU), and this probe runs right after the gateway starts listening.
 */
async function probe(upstream: UpstreamClient, url: string): Promise<boolean> {
  try {
    const response = await upstream.request(
      { method: 'GET', url, headers: {} },
      // Bounded: connecting, the wait for the headers, and each wait between body chunks.
      { timeoutMs: PROBE_TIMEOUT_MS, connectTimeoutMs: PROBE_TIMEOUT_MS, providerName: url },
    );
    // Read and dropped (undici dump: at most 128 kB, else the connection is closed).
    await response.body.dump();
    return response.status >= 200 && response.status < 300;
  } catch {
    return false;
  }
}

const TEST_OUTCOMES: Record<KeyTestOutcome, ProviderTestResult['outcome']> = {
  ok: 'ok',
  'invalid key': 'invalid-key',
  unreachable: 'unreachable',
  error: 'error',
};

/** One line for the user: what the key test found, in the words the providers screen shows. */
function describeTest(provider: ProviderConfig, checked: { outcome: KeyTestOutcome; message: string }): string {
  if (checked.outcome === 'ok') return `Key works: ${checked.message}`;
  if (checked.outcome === 'invalid key') return `${provider.name} refused the key (${checked.message}).`;
  if (checked.outcome === 'unreachable') return `Could not reach ${provider.name}: ${checked.message}`;
  return checked.message;
}

function validateBaseUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new OperationError(`"${value}" is not a URL.`, 'invalid_base_url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new OperationError('The base URL must start with http:// or https://.', 'invalid_base_url');
  return value.replace(/\/+$/, '');
}

export function createProviderService(context: ServiceContext, directory: ProviderDirectory): Pick<
  OperationHandlers,
  | 'providers.list'
  | 'providers.set-key'
  | 'providers.delete-key'
  | 'providers.test'
  | 'providers.set-base-url'
  | 'providers.detect-local'
  | 'providers.circuits'
  | 'providers.reset-circuits'
> {
  return {
    'providers.list': async () => directory.list(),
    'providers.set-key': async (input) => {
      const provider = directory.provider(input?.provider);
      const key = requireString(input?.key, 'key', { maximumLength: 4096 });
      if (/\s/.test(key)) throw new OperationError('A key has no spaces or line breaks; check what was pasted.', 'invalid_key');
      await context.providerKeys.set(provider.id, key);
      return directory.changed(provider);
    },
    'providers.delete-key': async (input) => {
      const provider = directory.provider(input?.provider);
      await context.providerKeys.delete(provider.id);
      return directory.changed(provider);
    },
    'providers.test': async (input) => {
      const provider = directory.provider(input?.provider);
      await directory.test(provider);
      return directory.changed(provider);
    },
    'providers.set-base-url': async (input) => {
      const provider = directory.provider(input?.provider);
      const state = directory.state(provider);
      if (!state.baseUrlEditable) throw new OperationError(`${provider.name}'s base URL is fixed; set ${provider.id.toUpperCase()}_BASE_URL to point it elsewhere.`, 'not_editable');
      const requested = input?.baseUrl === null || input?.baseUrl === undefined || input.baseUrl.trim() === '' ? null : validateBaseUrl(input.baseUrl.trim());
      const next = requested ?? state.defaultBaseUrl;
      context.settings.update((settings) => {
        const overrides = { ...(settings.providerBaseUrls ?? {}) };
        if (requested === null || requested === state.defaultBaseUrl) delete overrides[provider.id];
        else overrides[provider.id] = requested;
        settings.providerBaseUrls = overrides;
      });
      // URLs are built from the provider's config on every request, so this applies to the next one.
      provider.baseUrl = next;
      if (provider.local) await directory.detectLocal();
      return directory.changed(provider);
    },
    'providers.detect-local': async () => {
      await directory.detectLocal();
      const list = directory.list();
      context.events.emit('providers.changed', list);
      return list;
    },
    'providers.circuits': async () => circuitViews(context.reliability),
    'providers.reset-circuits': async (input) => {
      // Without a provider, every circuit closes.
      const provider = input?.provider === undefined || input.provider === null ? undefined : directory.provider(input.provider).id;
      // Closing an open circuit reports the change (the application's throttled 'providers.changed').
      context.reliability.breakers.reset(provider);
      return directory.list();
    },
  };
}
