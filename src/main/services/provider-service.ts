/**
 * Providers & keys: each provider's state (key in the keychain, from the environment,
 * missing, or not needed), its masked key, the last key test, base URL overrides for
 * OpenAI-compatible and local servers, and detection of local servers (Ollama, LM Studio)
 * by a quick probe of their /v1/models. Keys go in through here and never come back out.
 */
import type { ProviderState, ProviderTestResult } from '../../shared/contract.js';
import type { ProviderConfig } from '../gateway/config.js';
import { GatewayError } from '../gateway/errors.js';
import { adapterFor } from '../gateway/providers/registry.js';
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

  /** A cheap authenticated call: the provider's model list. */
  async test(provider: ProviderConfig): Promise<ProviderTestResult> {
    const adapter = adapterFor(provider);
    const started = Date.now();
    let result: ProviderTestResult;
    if (!adapter) {
      result = { outcome: 'error', message: 'This provider kind cannot be called yet.', testedAt: started, latencyMs: null };
    } else {
      const apiKey = this.context.providerKeys.get(provider.id) ?? this.context.environmentSecrets.get(provider.id);
      if (provider.requiresKey && !apiKey) {
        result = { outcome: 'invalid-key', message: 'No key set.', testedAt: started, latencyMs: null };
      } else {
        try {
          const models = await adapter.listModels({ provider, model: '', apiKey }, this.context.upstream.fetchJson, TEST_TIMEOUT_MS);
          result = {
            outcome: 'ok',
            message: `Key works: ${models.length.toLocaleString('en-US')} model${models.length === 1 ? '' : 's'} listed`,
            testedAt: started,
            latencyMs: Date.now() - started,
          };
        } catch (error) {
          result = classifyTestFailure(error, started);
        }
      }
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
          const running = await probe(`${provider.baseUrl}/models`);
          if (this.detected.get(provider.id) !== running) changed = true;
          this.detected.set(provider.id, running);
        }),
    );
    return changed;
  }
}

async function probe(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export function classifyTestFailure(error: unknown, started: number): ProviderTestResult {
  const latencyMs = Date.now() - started;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof GatewayError) {
    const outcome = error.status === 502 || error.status === 504 ? 'unreachable' : 'error';
    return { outcome, message, testedAt: started, latencyMs };
  }
  const status = /HTTP (\d{3})/.exec(message)?.[1];
  if (status === '401' || status === '403') return { outcome: 'invalid-key', message: `The provider refused the key (HTTP ${status}).`, testedAt: started, latencyMs };
  return { outcome: 'error', message, testedAt: started, latencyMs };
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
  'providers.list' | 'providers.set-key' | 'providers.delete-key' | 'providers.test' | 'providers.set-base-url' | 'providers.detect-local'
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
  };
}
