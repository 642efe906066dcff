/** The stores and the client, created once at start and handed to every screen through React context. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { SwitchyardClient } from './client/switchyard-client';
import type { InspectorStore } from './stores/inspector-store';
import type { NavigationStore } from './stores/navigation-store';
import type { PlaygroundStore } from './stores/playground-store';
import type { ProvidersStore } from './stores/providers-store';
import type { StatusStore } from './stores/status-store';

export interface AppStores {
  client: SwitchyardClient;
  status: StatusStore;
  inspector: InspectorStore;
  providers: ProvidersStore;
  playground: PlaygroundStore;
  navigation: NavigationStore;
}

export const AppContext = createContext<AppStores | null>(null);

export function useApp(): AppStores {
  const stores = useContext(AppContext);
  if (!stores) throw new Error('AppContext missing');
  return stores;
}

export function useStoreValue<State, Selected>(store: StoreApi<State>, selector: (state: State) => Selected): Selected {
  return useStore(store, selector);
}
