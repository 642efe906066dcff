/**
 * The inspector's state: the request rows (newest first, live events applied in one batch
 * per frame), filters, pause, the selected request and its detail. Pure state logic with
 * the client injected, so it is tested without a DOM.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { RequestDetail, RequestFacets, RequestFilters, RequestSummary } from '../../../shared/contract';
import type { SwitchyardClient } from '../client/switchyard-client';
import { matchesFilters } from '../../../shared/request-filters';

export const MAXIMUM_ROWS = 5000;
const PAGE_SIZE = 300;

export type RequestEvent = { kind: 'started' | 'updated' | 'finished'; summary: RequestSummary };

export interface InspectorState {
  order: string[];
  rows: Record<string, RequestSummary>;
  loading: boolean;
  loadingOlder: boolean;
  hasMore: boolean;
  error: string | null;
  filters: RequestFilters;
  facets: RequestFacets | null;
  paused: boolean;
  /** Events held while paused. */
  held: RequestEvent[];
  selectedId: string | null;
  detail: RequestDetail | null;
  detailLoading: boolean;
  detailError: string | null;
  /** Rows added at the top by the last batch (the table keeps the reader's place with it). */
  lastPrepended: number;
}

export interface InspectorActions {
  load(): Promise<void>;
  loadOlder(): Promise<void>;
  loadFacets(): Promise<void>;
  setFilters(filters: RequestFilters): void;
  setPaused(paused: boolean): void;
  select(id: string | null): void;
  refreshDetail(): Promise<void>;
  /** Applies events (live, or released from pause) in one state change. */
  applyEvents(events: RequestEvent[]): void;
}

export type InspectorStore = StoreApi<InspectorState & InspectorActions>;

/** Applies events to rows; returns the new order/rows and how many rows were added at the top. */
export function applyRequestEvents(
  order: string[],
  rows: Record<string, RequestSummary>,
  events: RequestEvent[],
  filters: RequestFilters,
  maximumRows: number = MAXIMUM_ROWS,
): { order: string[]; rows: Record<string, RequestSummary>; prepended: number } {
  const nextRows = { ...rows };
  const added: string[] = [];
  for (const { summary } of events) {
    const known = nextRows[summary.id] !== undefined;
    if (known) {
      // Never let a late 'updated' overwrite a finished row.
      if (nextRows[summary.id]!.endedAt !== null && summary.endedAt === null) continue;
      nextRows[summary.id] = summary;
    } else if (matchesFilters(summary, filters)) {
      nextRows[summary.id] = summary;
      added.push(summary.id);
    }
  }
  if (added.length === 0) return { order, rows: nextRows, prepended: 0 };
  added.reverse();
  // New requests normally start after everything shown; otherwise insert by start time.
  const newestShown = order.length > 0 ? nextRows[order[0]!]!.startedAt : -Infinity;
  let nextOrder: string[];
  if (added.every((id) => nextRows[id]!.startedAt >= newestShown)) {
    nextOrder = [...added.sort((left, right) => nextRows[right]!.startedAt - nextRows[left]!.startedAt), ...order];
  } else {
    nextOrder = [...added, ...order].sort((left, right) => nextRows[right]!.startedAt - nextRows[left]!.startedAt);
  }
  if (nextOrder.length > maximumRows) {
    for (const id of nextOrder.slice(maximumRows)) delete nextRows[id];
    nextOrder = nextOrder.slice(0, maximumRows);
  }
  return { order: nextOrder, rows: nextRows, prepended: added.length };
}

export function createInspectorStore(client: SwitchyardClient): InspectorStore {
  let loadGeneration = 0;
  let detailGeneration = 0;
  const store = createStore<InspectorState & InspectorActions>()((set, get) => ({
    order: [],
    rows: {},
    loading: true,
    loadingOlder: false,
    hasMore: false,
    error: null,
    filters: {},
    facets: null,
    paused: false,
    held: [],
    selectedId: null,
    detail: null,
    detailLoading: false,
    detailError: null,
    lastPrepended: 0,

    async load() {
      const generation = ++loadGeneration;
      set({ loading: true, error: null });
      try {
        const page = await client.call('requests.list', { filters: get().filters, limit: PAGE_SIZE });
        if (generation !== loadGeneration) return;
        const rows: Record<string, RequestSummary> = {};
        for (const item of page.items) rows[item.id] = item;
        set({ order: page.items.map((item) => item.id), rows, hasMore: page.hasMore, loading: false, held: [], lastPrepended: 0 });
      } catch (error) {
        if (generation === loadGeneration) set({ loading: false, error: (error as Error).message });
      }
    },

    async loadOlder() {
      const { order, rows, loadingOlder, hasMore, filters } = get();
      if (loadingOlder || !hasMore || order.length === 0) return;
      const oldest = rows[order[order.length - 1]!]!;
      set({ loadingOlder: true });
      try {
        const page = await client.call('requests.list', { filters, limit: PAGE_SIZE, before: oldest.startedAt });
        const current = get();
        const nextRows = { ...current.rows };
        const appended: string[] = [];
        for (const item of page.items) {
          if (nextRows[item.id]) continue;
          nextRows[item.id] = item;
          appended.push(item.id);
        }
        set({ rows: nextRows, order: [...current.order, ...appended], hasMore: page.hasMore, loadingOlder: false, lastPrepended: 0 });
      } catch (error) {
        set({ loadingOlder: false, error: (error as Error).message });
      }
    },

    async loadFacets() {
      try {
        set({ facets: await client.call('requests.facets', undefined) });
      } catch {
        // The chips still work with typed values.
      }
    },

    setFilters(filters) {
      set({ filters });
      void get().load();
    },

    setPaused(paused) {
      const held = get().held;
      set({ paused, held: paused ? held : [] });
      if (!paused && held.length > 0) get().applyEvents(held);
    },

    select(id) {
      set({ selectedId: id, detail: null, detailError: null });
      if (id) void get().refreshDetail();
    },

    async refreshDetail() {
      const id = get().selectedId;
      if (!id) return;
      const generation = ++detailGeneration;
      set({ detailLoading: get().detail?.id !== id });
      try {
        const detail = await client.call('requests.get', { id });
        if (generation !== detailGeneration || get().selectedId !== id) return;
        set({ detail, detailLoading: false, detailError: detail ? null : 'This request is no longer in the log.' });
      } catch (error) {
        if (generation === detailGeneration) set({ detailLoading: false, detailError: (error as Error).message });
      }
    },

    applyEvents(events) {
      if (events.length === 0) return;
      const state = get();
      if (state.paused) {
        // While paused, rows already shown still settle (status, cost); new ones wait.
        const known = events.filter((event) => state.rows[event.summary.id] !== undefined);
        const waiting = events.filter((event) => state.rows[event.summary.id] === undefined);
        const result = applyRequestEvents(state.order, state.rows, known, state.filters);
        set({ rows: result.rows, held: [...state.held, ...waiting].slice(-MAXIMUM_ROWS), lastPrepended: 0 });
      } else {
        const result = applyRequestEvents(state.order, state.rows, events, state.filters);
        set({ order: result.order, rows: result.rows, lastPrepended: result.prepended });
      }
      const selected = get().selectedId;
      if (selected && events.some((event) => event.summary.id === selected && event.kind === 'finished')) void get().refreshDetail();
    },
  }));
  return store;
}

/** Routes the client's request events into the store, batched per animation frame. */
export function connectInspectorEvents(
  client: SwitchyardClient,
  store: InspectorStore,
  schedule: (flush: () => void) => void = (flush) => requestAnimationFrame(flush),
): () => void {
  let queue: RequestEvent[] = [];
  let scheduled = false;
  const push = (kind: RequestEvent['kind']) => (summary: RequestSummary) => {
    queue.push({ kind, summary });
    if (scheduled) return;
    scheduled = true;
    schedule(() => {
      scheduled = false;
      const batch = queue;
      queue = [];
      store.getState().applyEvents(batch);
    });
  };
  const unsubscribers = [client.on('request.started', push('started')), client.on('request.updated', push('updated')), client.on('request.finished', push('finished'))];
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}
