/**
 * The playground's state: models from the gateway's /v1/models (with prices), the
 * settings (system prompt, temperature, max tokens, reasoning effort, optional tools),
 * the chat, and the reply being streamed. Each reply's cost arrives with the gateway's
 * `request.finished` event for its request id.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ModelPriceView, PlaygroundConnection, RequestSummary } from '../../../shared/contract';
import type { SwitchyardClient } from '../client/switchyard-client';
import { emptyReply, streamChat, type AssembledReply } from '../playground/chat-stream';
import type { PlaygroundSeed } from './navigation-store';

export interface ModelOption {
  id: string;
  provider: string;
  inputPerMillion: number | null;
  outputPerMillion: number | null;
}

export interface ReplyMeta {
  model: string | null;
  requestId: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  reasoningTokens: number | null;
  costNanoUsd: number | null;
  /** False until the gateway's record arrives, or when the model has no price. */
  costKnown: boolean;
  priced: boolean;
  firstTokenMs: number | null;
  totalMs: number | null;
}

export interface ChatEntry {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  reply: AssembledReply | null;
  meta: ReplyMeta | null;
  streaming: boolean;
  stopped: boolean;
}

export interface PlaygroundSettings {
  model: string | null;
  system: string;
  temperature: number | null;
  maxTokens: number | null;
  reasoningEffort: '' | 'minimal' | 'low' | 'medium' | 'high';
  tools: string;
}

export interface PlaygroundState {
  connection: PlaygroundConnection | null;
  models: ModelOption[];
  modelsLoading: boolean;
  modelsError: string | null;
  settings: PlaygroundSettings;
  entries: ChatEntry[];
  streaming: boolean;
  error: string | null;
  /** The composer's text (kept here so "open in playground" can fill it). */
  draft: string;
  setDraft(text: string): void;
  loadModels(): Promise<void>;
  updateSettings(change: Partial<PlaygroundSettings>): void;
  send(text: string): Promise<void>;
  stop(): void;
  clear(): void;
  seed(seed: PlaygroundSeed): void;
  finished(summary: RequestSummary): void;
}

export type PlaygroundStore = StoreApi<PlaygroundState>;

let nextEntryId = 1;
const entryId = (): string => `entry-${nextEntryId++}`;

/** Builds the chat request body from the settings and the conversation so far. */
export function buildChatBody(settings: PlaygroundSettings, entries: ChatEntry[]): Record<string, unknown> {
  const messages: Array<Record<string, unknown>> = [];
  if (settings.system.trim()) messages.push({ role: 'system', content: settings.system });
  for (const entry of entries) {
    if (entry.role === 'user') messages.push({ role: 'user', content: entry.content });
    else if (entry.reply && !entry.reply.error) {
      const message: Record<string, unknown> = { role: 'assistant', content: entry.reply.content || null };
      if (entry.reply.toolCalls.length > 0) {
        message.tool_calls = entry.reply.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments || '{}' } }));
      }
      messages.push(message);
    }
  }
  const body: Record<string, unknown> = { model: settings.model, messages };
  if (settings.temperature !== null) body.temperature = settings.temperature;
  if (settings.maxTokens !== null) body.max_tokens = settings.maxTokens;
  if (settings.reasoningEffort) body.reasoning_effort = settings.reasoningEffort;
  if (settings.tools.trim()) body.tools = JSON.parse(settings.tools) as unknown;
  return body;
}

export function createPlaygroundStore(client: SwitchyardClient, fetchFunction: typeof fetch = (input, init) => fetch(input, init)): PlaygroundStore {
  let controller: AbortController | null = null;
  /** Costs that arrived before the stream's own end was processed. */
  const finishedEarly = new Map<string, RequestSummary>();

  const store = createStore<PlaygroundState>()((set, get) => {
    const updateEntry = (id: string, change: Partial<ChatEntry>): void => set({ entries: get().entries.map((entry) => (entry.id === id ? { ...entry, ...change } : entry)) });
    return {
      connection: null,
      models: [],
      modelsLoading: true,
      modelsError: null,
      settings: { model: null, system: '', temperature: null, maxTokens: null, reasoningEffort: '', tools: '' },
      entries: [],
      streaming: false,
      error: null,
      draft: '',

      setDraft(text) {
        set({ draft: text });
      },

      async loadModels() {
        set({ modelsLoading: true, modelsError: null });
        try {
          const connection = await client.call('playground.connection', undefined);
          set({ connection });
          if (!connection.baseUrl) throw new Error('The gateway is not running.');
          const response = await fetchFunction(`${connection.baseUrl}/models`, { headers: { authorization: `Bearer ${connection.key}` } });
          if (!response.ok) throw new Error(`The gateway answered HTTP ${response.status} for /v1/models.`);
          const list = (await response.json()) as { data: Array<{ id: string; owned_by?: string }> };
          const entries = list.data.map((model) => {
            const slash = model.id.indexOf('/');
            const provider = slash > 0 ? model.id.slice(0, slash) : (model.owned_by ?? 'other');
            return { id: model.id, provider };
          });
          let prices: ModelPriceView[] = [];
          try {
            prices = await client.call('models.prices', { models: entries.map((entry) => ({ provider: entry.provider, model: entry.id })) });
          } catch {
            // Prices are a nicety; the picker works without them.
          }
          const models = entries.map((entry, index) => ({ ...entry, inputPerMillion: prices[index]?.inputPerMillion ?? null, outputPerMillion: prices[index]?.outputPerMillion ?? null }));
          const current = get().settings.model;
          set({
            models,
            modelsLoading: false,
            settings: { ...get().settings, model: current && (models.some((model) => model.id === current) || get().entries.length > 0) ? current : (models[0]?.id ?? current) },
          });
        } catch (error) {
          set({ modelsLoading: false, modelsError: (error as Error).message });
        }
      },

      updateSettings(change) {
        set({ settings: { ...get().settings, ...change } });
      },

      async send(text) {
        const state = get();
        const connection = state.connection;
        if (state.streaming || !text.trim()) return;
        if (!connection?.baseUrl) {
          set({ error: 'The gateway is not running.' });
          return;
        }
        if (!state.settings.model) {
          set({ error: 'Choose a model first.' });
          return;
        }
        const user: ChatEntry = { id: entryId(), role: 'user', content: text, reply: null, meta: null, streaming: false, stopped: false };
        let body: Record<string, unknown>;
        try {
          body = buildChatBody(state.settings, [...state.entries, user]);
        } catch {
          set({ error: 'The tools field is not valid JSON (an array of OpenAI tool definitions).' });
          return;
        }
        const assistant: ChatEntry = {
          id: entryId(),
          role: 'assistant',
          content: '',
          reply: emptyReply(),
          meta: { model: state.settings.model, requestId: null, inputTokens: null, outputTokens: null, reasoningTokens: null, costNanoUsd: null, costKnown: false, priced: false, firstTokenMs: null, totalMs: null },
          streaming: true,
          stopped: false,
        };
        set({ entries: [...state.entries, user, assistant], streaming: true, error: null, draft: '' });
        controller = new AbortController();
        let lastPaint = 0;
        const result = await streamChat({
          baseUrl: connection.baseUrl,
          key: connection.key,
          tags: connection.tags,
          body,
          signal: controller.signal,
          fetch: fetchFunction,
          onUpdate: (reply, timing) => {
            const now = Date.now();
            if (now - lastPaint < 33) return;
            lastPaint = now;
            const current = get().entries.find((entry) => entry.id === assistant.id);
            updateEntry(assistant.id, { reply: { ...reply, toolCalls: reply.toolCalls.map((call) => ({ ...call })) }, meta: current?.meta ? { ...current.meta, firstTokenMs: timing.firstTokenMs } : null });
          },
        });
        controller = null;
        const usage = result.reply.usage;
        const meta: ReplyMeta = {
          model: result.reply.model ?? state.settings.model,
          requestId: result.requestId,
          inputTokens: usage?.promptTokens ?? null,
          outputTokens: usage?.completionTokens ?? null,
          reasoningTokens: usage?.reasoningTokens ?? null,
          costNanoUsd: null,
          costKnown: false,
          priced: false,
          firstTokenMs: result.firstTokenMs,
          totalMs: result.totalMs,
        };
        const early = result.requestId ? finishedEarly.get(result.requestId) : undefined;
        if (early) {
          meta.costNanoUsd = early.costNanoUsd;
          meta.priced = early.priced;
          meta.costKnown = true;
          finishedEarly.delete(early.id);
        }
        updateEntry(assistant.id, { reply: result.reply, meta, streaming: false, stopped: result.aborted });
        set({ streaming: false });
      },

      stop() {
        controller?.abort();
      },

      clear() {
        controller?.abort();
        set({ entries: [], streaming: false, error: null });
      },

      seed(seed) {
        controller?.abort();
        const entries: ChatEntry[] = [];
        const messages = seed.messages.slice();
        // The last user message goes back in the composer rather than being sent again.
        const last = messages[messages.length - 1]?.role === 'user' ? messages.pop() : undefined;
        for (const message of messages) {
          entries.push({
            id: entryId(),
            role: message.role,
            content: message.content,
            reply: message.role === 'assistant' ? { ...emptyReply(), content: message.content } : null,
            meta: null,
            streaming: false,
            stopped: false,
          });
        }
        set({
          entries,
          streaming: false,
          error: null,
          settings: {
            ...get().settings,
            model: seed.model ?? get().settings.model,
            system: seed.system,
            temperature: seed.temperature,
            maxTokens: seed.maxTokens,
            reasoningEffort: (['minimal', 'low', 'medium', 'high'].includes(seed.reasoningEffort ?? '') ? seed.reasoningEffort : '') as PlaygroundSettings['reasoningEffort'],
          },
          draft: last?.content ?? '',
        });
      },

      finished(summary) {
        const entry = get().entries.find((candidate) => candidate.meta?.requestId === summary.id);
        if (!entry?.meta) {
          if (get().streaming) finishedEarly.set(summary.id, summary);
          return;
        }
        updateEntry(entry.id, {
          meta: {
            ...entry.meta,
            costNanoUsd: summary.costNanoUsd,
            priced: summary.priced,
            costKnown: true,
            inputTokens: entry.meta.inputTokens ?? summary.inputTokens,
            outputTokens: entry.meta.outputTokens ?? summary.outputTokens,
          },
        });
      },
    };
  });
  client.on('request.finished', (summary) => store.getState().finished(summary));
  return store;
}
