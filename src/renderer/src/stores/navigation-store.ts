/**
 * Which screen is shown, and the hand-offs between screens: open the inspector filtered
 * (from an analytics slice or a conversation), open a request in the playground, open a
 * conversation. The screen is mirrored in the URL fragment so reloads keep it.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { RequestFilters } from '../../../shared/contract';

export const SCREENS = ['inspector', 'playground', 'conversations', 'analytics', 'providers', 'connect', 'settings'] as const;
export type ScreenName = (typeof SCREENS)[number];

export interface PlaygroundSeed {
  model: string | null;
  system: string;
  messages: Array<{ role: 'user' | 'assistant'; content: string }>;
  temperature: number | null;
  maxTokens: number | null;
  reasoningEffort: string | null;
}

export interface NavigationState {
  screen: ScreenName;
  inspectorFilters: RequestFilters | null;
  playgroundSeed: PlaygroundSeed | null;
  conversationId: string | null;
  go(screen: ScreenName): void;
  openInspector(filters: RequestFilters): void;
  openPlayground(seed: PlaygroundSeed): void;
  openConversation(id: string): void;
  consumeInspectorFilters(): RequestFilters | null;
  consumePlaygroundSeed(): PlaygroundSeed | null;
}

export type NavigationStore = StoreApi<NavigationState>;

export function screenFromHash(hash: string): ScreenName | null {
  const name = hash.replace(/^#\/?/, '').split(/[/?&]/)[0] ?? '';
  return (SCREENS as readonly string[]).includes(name) ? (name as ScreenName) : null;
}

export function createNavigationStore(initial: ScreenName = 'inspector', onChange?: (screen: ScreenName) => void): NavigationStore {
  return createStore<NavigationState>()((set, get) => ({
    screen: initial,
    inspectorFilters: null,
    playgroundSeed: null,
    conversationId: null,
    go(screen) {
      set({ screen });
      onChange?.(screen);
    },
    openInspector(filters) {
      set({ inspectorFilters: filters });
      get().go('inspector');
    },
    openPlayground(seed) {
      set({ playgroundSeed: seed });
      get().go('playground');
    },
    openConversation(id) {
      set({ conversationId: id });
      get().go('conversations');
    },
    consumeInspectorFilters() {
      const filters = get().inspectorFilters;
      if (filters) set({ inspectorFilters: null });
      return filters;
    },
    consumePlaygroundSeed() {
      const seed = get().playgroundSeed;
      if (seed) set({ playgroundSeed: null });
      return seed;
    },
  }));
}
