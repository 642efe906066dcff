/**
 * Providers & keys state: every provider's state (with its circuit breakers and
 * concurrency in use), the gateway keys, which actions are running, the one-time display
 * of a newly created gateway key, and the desktop app's first gateway key (taken from main
 * once, shown by the first-run dialog).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { GatewayKeyCreateInput, GatewayKeyCreated, GatewayKeySummary, ProviderState } from '../../../shared/contract';
import type { SwitchyardClient } from '../client/switchyard-client';

export interface ProvidersState {
  providers: ProviderState[];
  gatewayKeys: GatewayKeySummary[];
  loading: boolean;
  error: string | null;
  /** provider id → action running ("test", "save" …). */
  busy: Record<string, string>;
  /** provider id → last action error. */
  providerErrors: Record<string, string>;
  /** The key just created: shown once, then forgotten. */
  createdKey: GatewayKeyCreated | null;
  /** The desktop app's first key, made on its first start: shown by the first-run dialog, then forgotten. */
  firstRunKey: GatewayKeyCreated | null;
  load(): Promise<void>;
  setKey(provider: string, key: string): Promise<boolean>;
  deleteKey(provider: string): Promise<void>;
  test(provider: string): Promise<void>;
  setBaseUrl(provider: string, baseUrl: string | null): Promise<boolean>;
  detectLocal(): Promise<void>;
  /** Closes a provider's circuit breakers (its own and its models'). */
  resetCircuits(provider: string): Promise<boolean>;
  /** Reads the providers' state again, quietly (the concurrency in use changes without events). */
  refreshProviders(): Promise<void>;
  createGatewayKey(input: GatewayKeyCreateInput): Promise<GatewayKeyCreated | null>;
  revokeGatewayKey(id: string): Promise<void>;
  dismissCreatedKey(): void;
  /** Asks main for the first key (it answers it once, then null) and opens the first-run dialog with it. */
  takeFirstRunKey(): Promise<void>;
  /** Closes the first-run dialog; `useInConnect` keeps the key as the created key, so the Connect screen's snippets hold it. */
  dismissFirstRunKey(useInConnect?: boolean): void;
}

export type ProvidersStore = StoreApi<ProvidersState>;

export function createProvidersStore(client: SwitchyardClient): ProvidersStore {
  const store = createStore<ProvidersState>()((set, get) => {
    const replace = (state: ProviderState): void => set({ providers: get().providers.map((provider) => (provider.id === state.id ? state : provider)) });
    const run = async (provider: string, action: string, work: () => Promise<void>): Promise<boolean> => {
      set({ busy: { ...get().busy, [provider]: action }, providerErrors: { ...get().providerErrors, [provider]: '' } });
      try {
        await work();
        return true;
      } catch (error) {
        set({ providerErrors: { ...get().providerErrors, [provider]: (error as Error).message } });
        return false;
      } finally {
        const busy = { ...get().busy };
        delete busy[provider];
        set({ busy });
      }
    };
    return {
      providers: [],
      gatewayKeys: [],
      loading: true,
      error: null,
      busy: {},
      providerErrors: {},
      createdKey: null,
      firstRunKey: null,
      async load() {
        set({ loading: get().providers.length === 0, error: null });
        try {
          const [providers, gatewayKeys] = await Promise.all([client.call('providers.list', undefined), client.call('gateway-keys.list', undefined)]);
          set({ providers, gatewayKeys, loading: false });
        } catch (error) {
          set({ loading: false, error: (error as Error).message });
        }
      },
      setKey: (provider, key) => run(provider, 'save', async () => replace(await client.call('providers.set-key', { provider, key }))),
      async deleteKey(provider) {
        await run(provider, 'delete', async () => replace(await client.call('providers.delete-key', { provider })));
      },
      async test(provider) {
        await run(provider, 'test', async () => replace(await client.call('providers.test', { provider })));
      },
      setBaseUrl: (provider, baseUrl) => run(provider, 'base-url', async () => replace(await client.call('providers.set-base-url', { provider, baseUrl }))),
      async detectLocal() {
        try {
          set({ providers: await client.call('providers.detect-local', undefined) });
        } catch (error) {
          set({ error: (error as Error).message });
        }
      },
      resetCircuits: (provider) =>
        run(provider, 'reset-circuits', async () => {
          const providers = await client.call('providers.reset-circuits', { provider });
          set({ providers });
        }),
      async refreshProviders() {
        try {
          set({ providers: await client.call('providers.list', undefined) });
        } catch {
          // The next event or the next refresh tells; a screen-wide error for a background read would be noise.
        }
      },
      async createGatewayKey(input) {
        try {
          const created = await client.call('gateway-keys.create', input);
          set({ createdKey: created, gatewayKeys: await client.call('gateway-keys.list', undefined), error: null });
          return created;
        } catch (error) {
          set({ error: (error as Error).message });
          return null;
        }
      },
      async revokeGatewayKey(id) {
        try {
          set({ gatewayKeys: await client.call('gateway-keys.revoke', { id }) });
        } catch (error) {
          set({ error: (error as Error).message });
        }
      },
      dismissCreatedKey() {
        set({ createdKey: null });
      },
      async takeFirstRunKey() {
        const taken = await client.call('gateway-keys.take-first-run-key', undefined).catch(() => null);
        // Null (not the first start, or main could not answer): the user creates keys on the Providers & keys screen as usual.
        if (!taken) return;
        set({ firstRunKey: taken, gatewayKeys: [taken.record, ...get().gatewayKeys.filter((key) => key.id !== taken.record.id)] });
      },
      dismissFirstRunKey(useInConnect = false) {
        const key = get().firstRunKey;
        set(useInConnect && key ? { firstRunKey: null, createdKey: key } : { firstRunKey: null });
      },
    };
  });
  return store;
}

export function connectProviderEvents(client: SwitchyardClient, store: ProvidersStore): () => void {
  const unsubscribers = [
    client.on('providers.changed', (providers) => store.setState({ providers })),
    client.on('gateway-keys.changed', (gatewayKeys) => store.setState({ gatewayKeys })),
  ];
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}
