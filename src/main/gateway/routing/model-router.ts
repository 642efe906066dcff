/**
 * Model name → the provider and upstream model that serve it. In order: an alias from the
 * config file (exact name), an explicit `provider/model`, a model declared for a provider
 * in the config file, the providers' prefix rules (`gpt-` → openai, `grok-` → xai …), and
 * finally the providers' own model lists (so `llama3.2` finds a running Ollama).
 */
import type { GatewayConfig, ProviderConfig } from '../config.js';
import { GatewayError } from '../errors.js';
import type { ModelCatalog } from './model-catalog.js';

export interface ModelResolution {
  provider: ProviderConfig;
  /** The model name sent upstream. */
  model: string;
  via: 'alias' | 'explicit' | 'declared' | 'prefix' | 'catalog';
  /** The alias the client used, if any. */
  alias?: string;
}

export class ModelRouter {
  private readonly byId: Map<string, ProviderConfig>;

  constructor(
    private readonly config: GatewayConfig,
    private readonly catalog: ModelCatalog,
  ) {
    this.byId = new Map(config.providers.map((provider) => [provider.id, provider]));
  }

  provider(id: string): ProviderConfig | undefined {
    return this.byId.get(id);
  }

  /**
   * The models to try for a request, in order: the model asked for, then its fallbacks (the
   * chain configured for that name, else for the model its alias names).
   */
  candidates(model: string): string[] {
    const chain = this.config.fallbacks[model] ?? (this.config.aliases[model] !== undefined ? this.config.fallbacks[this.config.aliases[model]!] : undefined);
    if (chain === undefined || chain.length === 0) return [model];
    const seen = new Set([model]);
    const candidates = [model];
    for (const next of chain) {
      if (seen.has(next)) continue;
      seen.add(next);
      candidates.push(next);
    }
    return candidates;
  }

  /** Resolution from configuration and cached lists only; null when nothing matches. */
  resolveCached(model: string): ModelResolution | null {
    const aliasTarget = this.config.aliases[model];
    if (aliasTarget !== undefined && aliasTarget !== model) {
      const target = this.resolveWithoutAlias(aliasTarget);
      return target ? { ...target, via: 'alias', alias: model } : null;
    }
    return this.resolveWithoutAlias(model);
  }

  private resolveWithoutAlias(model: string): ModelResolution | null {
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = this.byId.get(model.slice(0, slash));
      if (provider && slash < model.length - 1) return { provider, model: model.slice(slash + 1), via: 'explicit' };
    }
    for (const provider of this.config.providers) {
      if (provider.models.includes(model)) return { provider, model, via: 'declared' };
    }
    for (const provider of this.config.providers) {
      for (const prefix of provider.modelPrefixes) {
        if (model.startsWith(prefix)) return { provider, model, via: 'prefix' };
      }
    }
    const listed = this.catalog.findCached(model);
    return listed ? { provider: listed, model, via: 'catalog' } : null;
  }

  /** Resolves a model, asking running local servers for their lists if nothing else matched. */
  async resolve(model: string): Promise<ModelResolution> {
    const cached = this.resolveCached(model);
    if (cached) return cached;
    await this.catalog.loadAll({ onlyLocal: true });
    const afterLoad = this.resolveCached(model);
    if (afterLoad) return afterLoad;
    throw this.unknownModel(model);
  }

  private unknownModel(model: string): GatewayError {
    const ids = this.config.providers.map((provider) => provider.id).join(', ');
    return new GatewayError(
      404,
      `The model '${model}' does not exist or no configured provider serves it. Name the provider explicitly ` +
        `('provider/model', providers: ${ids}), use a model name with a known prefix (gpt-, o3, grok-, claude-, gemini- …), ` +
        `or add an alias or a provider with this model to the config file (--config). GET /v1/models lists what is available.`,
      { type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    );
  }
}
