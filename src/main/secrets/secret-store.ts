/**
 * Where provider keys come from. The gateway asks one `KeyResolver` per request, so a key
 * changed in a store is used by the next request without a restart. The environment store
 * is read-only and serves headless use; the OS keychain store arrives with keytar.
 */
import type { ProviderConfig } from '../gateway/config.js';

export interface SecretStore {
  /** A short name for where keys come from, shown to the user ("environment", "keychain"). */
  readonly source: string;
  /** The provider's key, or null when this store has none. Must be cheap: it runs per request. */
  get(providerId: string): string | null;
}

/**
 * Reads each provider's conventional environment variable (OPENAI_API_KEY, …). The process's
 * own environment is read once, when the store is made: nothing outside a process changes its
 * environment, the gateway never does, and each read of `process.env` is a call into C++ that
 * makes a new string (~0.15–0.3 µs per request). Any other object (a test's, a command's) is
 * read on every call, as it may change.
 */
export class EnvironmentSecretStore implements SecretStore {
  readonly source = 'environment';
  private readonly variableByProvider: Map<string, string>;
  /** The process's keys by provider, read once (null: `environment` is another object, read each time). */
  private readonly processKeys: Map<string, string | null> | null;

  constructor(
    providers: readonly ProviderConfig[],
    private readonly environment: NodeJS.ProcessEnv = process.env,
  ) {
    this.variableByProvider = new Map(
      providers.filter((provider) => provider.apiKeyEnv).map((provider) => [provider.id, provider.apiKeyEnv!]),
    );
    this.processKeys = environment === process.env ? new Map([...this.variableByProvider.keys()].map((id) => [id, this.read(id)])) : null;
  }

  get(providerId: string): string | null {
    return this.processKeys ? (this.processKeys.get(providerId) ?? null) : this.read(providerId);
  }

  private read(providerId: string): string | null {
    const variable = this.variableByProvider.get(providerId);
    if (!variable) return null;
    const value = this.environment[variable];
    return value && value.length > 0 ? value : null;
  }
}

/** Asks each store in order; the first key found wins. */
export class LayeredSecretStore implements SecretStore {
  readonly source = 'layered';
  constructor(private readonly stores: readonly SecretStore[]) {}

  get(providerId: string): string | null {
    for (const store of this.stores) {
      const key = store.get(providerId);
      if (key) return key;
    }
    return null;
  }
}

/** `sk-…abcd`: enough to recognise a key, never enough to use it. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '…' + secret.slice(-2);
  const dash = secret.indexOf('-');
  const prefix = dash > 0 && dash <= 6 ? secret.slice(0, dash + 1) : secret.slice(0, 3);
  return `${prefix}…${secret.slice(-4)}`;
}
