/**
 * The status bar's state: the gateway (running, address), today's spend and requests in
 * flight, kept current from events (spend refreshed shortly after requests finish).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppInformation, GatewayStatus, SpendToday } from '../../../shared/contract';
import type { SwitchyardClient } from '../client/switchyard-client';

export interface StatusState {
  status: GatewayStatus | null;
  spend: SpendToday | null;
  information: AppInformation | null;
  inFlight: number;
  connected: boolean;
  error: string | null;
  refresh(): Promise<void>;
  refreshSpend(): Promise<void>;
}

export type StatusStore = StoreApi<StatusState>;

export function createStatusStore(client: SwitchyardClient): StatusStore {
  return createStore<StatusState>()((set) => ({
    status: null,
    spend: null,
    information: null,
    inFlight: 0,
    connected: client.connected,
    error: null,
    async refresh() {
      try {
        const [status, information] = await Promise.all([client.call('gateway.status', undefined), client.call('app.information', undefined)]);
        set({ status, information, inFlight: status.inFlight, error: null });
      } catch (error) {
        set({ error: (error as Error).message });
      }
    },
    async refreshSpend() {
      try {
        set({ spend: await client.call('gateway.spend-today', undefined) });
      } catch {
        // Keep the last figure; the next finished request retries.
      }
    },
  }));
}

export function connectStatusEvents(client: SwitchyardClient, store: StatusStore, spendDelayMs = 700): () => void {
  let spendTimer: ReturnType<typeof setTimeout> | null = null;
  let firstPendingAt: number | null = null;
  // Requests seen starting: a request refused before it started (bad key, bad JSON) finishes without one.
  const started = new Set<string>();
  const unsubscribers = [
    client.on('gateway.status-changed', (status) => store.setState({ status, inFlight: status.inFlight })),
    client.on('request.started', (summary) => {
      started.add(summary.id);
      store.setState((state) => ({ inFlight: state.inFlight + 1 }));
    }),
    client.on('request.finished', (summary) => {
      if (started.delete(summary.id)) store.setState((state) => ({ inFlight: Math.max(0, state.inFlight - 1) }));
      // Trailing debounce (bounded): a burst refreshes once, after the log has written it.
      const now = Date.now();
      firstPendingAt ??= now;
      if (spendTimer) clearTimeout(spendTimer);
      spendTimer = setTimeout(
        () => {
          spendTimer = null;
          firstPendingAt = null;
          void store.getState().refreshSpend();
        },
        now - firstPendingAt > 3 * spendDelayMs ? 0 : spendDelayMs,
      );
    }),
    client.onConnectionChange((connected) => {
      store.setState({ connected });
      if (connected) {
        void store.getState().refresh();
        void store.getState().refreshSpend();
      }
    }),
  ];
  return () => {
    if (spendTimer) clearTimeout(spendTimer);
    unsubscribers.forEach((unsubscribe) => unsubscribe());
  };
}
