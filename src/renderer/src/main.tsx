/** Renderer entry: picks the transport, builds the stores, wires live events, mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { AppContext, type AppStores } from './app-context';
import { createClient } from './client/create-client';
import { connectInspectorEvents, createInspectorStore } from './stores/inspector-store';
import { createNavigationStore, screenFromHash } from './stores/navigation-store';
import { createPlaygroundStore } from './stores/playground-store';
import { connectProviderEvents, createProvidersStore } from './stores/providers-store';
import { connectStatusEvents, createStatusStore } from './stores/status-store';
import './styles.css';

const client = createClient();
const stores: AppStores = {
  client,
  status: createStatusStore(client),
  inspector: createInspectorStore(client),
  providers: createProvidersStore(client),
  playground: createPlaygroundStore(client),
  navigation: createNavigationStore(screenFromHash(window.location.hash) ?? 'inspector', (screen) => {
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/${screen}`);
  }),
};
connectStatusEvents(client, stores.status);
connectInspectorEvents(client, stores.inspector);
connectProviderEvents(client, stores.providers);
void stores.status.getState().refresh();
void stores.status.getState().refreshSpend();
// The desktop app's first start: main made a first gateway key and hands it over once.
void stores.providers.getState().takeFirstRunKey();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppContext.Provider value={stores}>
      <App />
    </AppContext.Provider>
  </StrictMode>,
);
