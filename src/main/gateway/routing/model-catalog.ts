/**
 * Every configured provider's model list, fetched from upstream and cached. Lists are
 * fetched in parallel; a provider that is down (a local server not running) is skipped
 * and retried after a short back-off, so `/v1/models` stays fast.
 */
import type { ProviderConfig } from '../config.js';
import type { ModelEntry } from '../openai-types.js';
import { adapterFor } from '../providers/registry.js';
import type { FetchJson } from '../providers/types.js';
import type { SecretStore } from '../../secrets/secret-store.js';

interface CacheEntry {
  fetchedAt: number;
  models: ModelEntry[] | null;
  error: string | null;
}

const FAILURE_TTL_MS = 30_000;

export interface ProviderModels {
  provider: ProviderConfig;
  models: ModelEntry[];
  error: string | null;
}

export class ModelCatalog {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<CacheEntry>>();

  constructor(
    private readonly providers: readonly ProviderConfig[],
    private readonly secrets: SecretStore,
    private readonly fetchJson: FetchJson,
    private readonly ttlMs: number,
  ) {}

  /** Providers that can be called now: an adapter exists and a key is present where one is needed. */
  usableProviders(): ProviderConfig[] {
    return this.providers.filter((provider) => adapterFor(provider) !== null && (!provider.requiresKey || this.secrets.get(provider.id) !== null));
  }

  /** Cached model ids of a provider (declared ones included), without fetching. */
  cachedIds(provider: ProviderConfig): string[] {
    const fetched = this.cache.get(provider.id)?.models?.map((model) => model.id) ?? [];
    return provider.models.length > 0 ? [...new Set([...provider.models, ...fetched])] : fetched;
  }

  /** The first usable provider whose cached list holds this model id. */
  findCached(model: string): ProviderConfig | null {
    for (const provider of this.usableProviders()) {
      if (this.cache.get(provider.id)?.models?.some((entry) => entry.id === model)) return provider;
    }
    return null;
  }

  /** Fetches (or reuses) every usable provider's list. */
  async loadAll(options: { onlyLocal?: boolean } = {}): Promise<ProviderModels[]> {
    const providers = this.usableProviders().filter((provider) => !options.onlyLocal || provider.local);
    return Promise.all(
      providers.map(async (provider) => {
        const entry = await this.load(provider);
        const declared: ModelEntry[] = provider.models
          .filter((id) => !entry.models?.some((model) => model.id === id))
          .map((id) => ({ id, object: 'model', created: 0, owned_by: provider.id }));
        return { provider, models: [...(entry.models ?? []), ...declared], error: entry.error };
      }),
    );
  }

  invalidate(providerId?: string): void {
    if (providerId) this.cache.delete(providerId);
    else this.cache.clear();
  }

  private load(provider: ProviderConfig): Promise<CacheEntry> {
    const cached = this.cache.get(provider.id);
    const now = Date.now();
    if (cached && now - cached.fetchedAt < (cached.error ? FAILURE_TTL_MS : this.ttlMs)) return Promise.resolve(cached);
    const running = this.inFlight.get(provider.id);
    if (running) return running;
    const adapter = adapterFor(provider)!;
    const target = { provider, model: '', apiKey: this.secrets.get(provider.id) };
    const timeoutMs = provider.local ? 1_500 : 8_000;
    const promise = adapter
      .listModels(target, this.fetchJson, timeoutMs)
      .then(
        (models): CacheEntry => ({ fetchedAt: Date.now(), models, error: null }),
        (error: unknown): CacheEntry => ({ fetchedAt: Date.now(), models: cached?.models ?? null, error: (error as Error).message }),
      )
      .then((entry) => {
        this.cache.set(provider.id, entry);
        this.inFlight.delete(provider.id);
        return entry;
      });
    this.inFlight.set(provider.id, promise);
    return promise;
  }
}
