/**
 * Playground — like the OpenAI and LM Studio playgrounds: settings on the left (model,
 * system prompt, temperature, max tokens, reasoning effort, tools), the chat in the
 * centre. Replies stream as Markdown with highlighted code, reasoning in a collapsed
 * block, tool calls as cards, and a quiet meta line. It calls the gateway like any
 * client, tagged source:playground, so every reply shows up in the inspector too.
 */
import { memo, useEffect, useLayoutEffect, useRef, type JSX, type KeyboardEvent } from 'react';
import { useApp, useStoreValue } from '../app-context';
import { EmptyState, ErrorState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { formatCount, formatLatency, formatUsd } from '../format/format-values';
import { prettyJson } from '../inspector/request-detail';
import { MarkdownView } from '../markdown/markdown-view';
import { ModelPicker } from '../playground/model-picker';
import type { ChatEntry, PlaygroundSettings } from '../stores/playground-store';

const AssistantMessage = memo(function AssistantMessage({ entry, onInspect }: { entry: ChatEntry; onInspect: (id: string) => void }): JSX.Element {
  const reply = entry.reply;
  const meta = entry.meta;
  const waiting = entry.streaming && reply !== null && !reply.content && !reply.reasoning && reply.toolCalls.length === 0;
  return (
    <article className="message assistant" aria-label="Assistant reply" aria-busy={entry.streaming}>
      {reply?.reasoning ? (
        <details className="reasoning">
          <summary>
            Reasoning{entry.streaming && !reply.content ? '…' : ''} <span className="muted small">({formatCount(reply.reasoning.split(/\s+/).length)} words)</span>
          </summary>
          <div className="reasoning-text">{reply.reasoning}</div>
        </details>
      ) : null}
      {waiting ? (
        <div className="typing" aria-label="Waiting for the first token">
          <span />
          <span />
          <span />
        </div>
      ) : null}
      {reply?.content ? <MarkdownView source={reply.content} /> : null}
      {reply?.toolCalls.map((call) => (
        <div className="tool-card" key={`${call.index}-${call.id}`}>
          <div className="tool-card-header">
            <Icon name="bolt" size={13} /> <span>Tool call</span> <span className="mono">{call.name}</span> <span className="muted small mono">{call.id}</span>
          </div>
          <pre className="tool-arguments">{prettyJson(call.arguments)}</pre>
        </div>
      ))}
      {reply?.error ? (
        <div className="callout error" role="alert">
          {reply.error}
        </div>
      ) : null}
      {entry.stopped ? <div className="muted small">Stopped.</div> : null}
      <div className="message-meta" data-testid="reply-meta">
        {entry.streaming ? (
          <span className="live-count">streaming{meta?.firstTokenMs !== null && meta?.firstTokenMs !== undefined ? ` · TTFT ${formatLatency(meta.firstTokenMs)}` : '…'}</span>
        ) : meta ? (
          <>
            <span className="mono">{meta.model}</span>
            <span>
              {formatCount(meta.inputTokens)} in · {formatCount(meta.outputTokens)} out{meta.reasoningTokens ? ` (${formatCount(meta.reasoningTokens)} reasoning)` : ''}
            </span>
            <span>{meta.costKnown ? (meta.priced ? formatUsd(meta.costNanoUsd) : 'unpriced') : 'cost …'}</span>
            <span>TTFT {formatLatency(meta.firstTokenMs)}</span>
            <span>total {formatLatency(meta.totalMs)}</span>
            {meta.requestId ? (
              <button type="button" className="button link small" onClick={() => onInspect(meta.requestId!)}>
                Inspect
              </button>
            ) : null}
          </>
        ) : null}
      </div>
    </article>
  );
});

function SettingsPanel(): JSX.Element {
  const { playground } = useApp();
  const settings = useStoreValue(playground, (state) => state.settings);
  const models = useStoreValue(playground, (state) => state.models);
  const loading = useStoreValue(playground, (state) => state.modelsLoading);
  const modelsError = useStoreValue(playground, (state) => state.modelsError);
  const update = (change: Partial<PlaygroundSettings>): void => playground.getState().updateSettings(change);
  return (
    <aside className="playground-settings" aria-label="Playground settings">
      <ModelPicker models={models} value={settings.model} onChange={(model) => update({ model })} loading={loading} />
      {modelsError ? (
        <p className="callout error small" role="alert">
          {modelsError}{' '}
          <button type="button" className="button link small" onClick={() => void playground.getState().loadModels()}>
            Retry
          </button>
        </p>
      ) : null}
      <label className="field">
        <span className="field-label">System prompt</span>
        <textarea rows={5} value={settings.system} placeholder="You are a helpful assistant." onChange={(event) => update({ system: event.target.value })} />
      </label>
      <div className="field">
        <label className="field-label spread" htmlFor="temperature">
          <span>Temperature</span>
          <span className="mono muted">{settings.temperature === null ? 'model default' : settings.temperature.toFixed(1)}</span>
        </label>
        <div className="range-row">
          <input id="temperature" type="range" min={0} max={2} step={0.1} value={settings.temperature ?? 1} onChange={(event) => update({ temperature: Number(event.target.value) })} />
          <button type="button" className="button link small" disabled={settings.temperature === null} onClick={() => update({ temperature: null })}>
            Default
          </button>
        </div>
      </div>
      <label className="field">
        <span className="field-label">Max tokens</span>
        <input
          type="number"
          min={1}
          placeholder="model default"
          value={settings.maxTokens ?? ''}
          onChange={(event) => update({ maxTokens: event.target.value === '' ? null : Math.max(1, Math.floor(Number(event.target.value))) })}
        />
      </label>
      <label className="field">
        <span className="field-label">Reasoning effort</span>
        <select value={settings.reasoningEffort} onChange={(event) => update({ reasoningEffort: event.target.value as PlaygroundSettings['reasoningEffort'] })}>
          <option value="">Model default</option>
          <option value="minimal">Minimal</option>
          <option value="low">Low</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
      </label>
      <details className="field tools-field">
        <summary className="field-label">Tools (JSON)</summary>
        <textarea
          rows={6}
          className="mono"
          value={settings.tools}
          placeholder={'[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]'}
          onChange={(event) => update({ tools: event.target.value })}
        />
      </details>
    </aside>
  );
}

export default function PlaygroundScreen(): JSX.Element {
  const { playground, navigation, inspector } = useApp();
  const entries = useStoreValue(playground, (state) => state.entries);
  const streaming = useStoreValue(playground, (state) => state.streaming);
  const error = useStoreValue(playground, (state) => state.error);
  const draft = useStoreValue(playground, (state) => state.draft);
  const model = useStoreValue(playground, (state) => state.settings.model);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const composer = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const seed = navigation.getState().consumePlaygroundSeed();
    if (seed) playground.getState().seed(seed);
    void playground.getState().loadModels();
    composer.current?.focus();
  }, [navigation, playground]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [entries]);

  const send = (): void => {
    const text = playground.getState().draft;
    if (!text.trim() || streaming) return;
    stickToBottom.current = true;
    void playground.getState().send(text);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };
  const inspect = (id: string): void => {
    inspector.getState().select(id);
    navigation.getState().go('inspector');
  };

  return (
    <div className="playground">
      <SettingsPanel />
      <section className="chat" aria-label="Chat">
        <div
          className="chat-scroll"
          ref={scroller}
          onScroll={(event) => {
            const element = event.currentTarget;
            stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
          }}
          aria-live="polite"
        >
          {entries.length === 0 ? (
            <EmptyState title="Try a model">
              <p>Pick a model on the left and send a message. Replies stream here, and each request shows up in the inspector tagged source:playground.</p>
            </EmptyState>
          ) : (
            <div className="messages">
              {entries.map((entry) =>
                entry.role === 'user' ? (
                  <article className="message user" key={entry.id} aria-label="Your message">
                    <div className="user-bubble">{entry.content}</div>
                  </article>
                ) : (
                  <AssistantMessage key={entry.id} entry={entry} onInspect={inspect} />
                ),
              )}
            </div>
          )}
        </div>
        {error ? <ErrorState message={error} /> : null}
        <form
          className="composer"
          onSubmit={(event) => {
            event.preventDefault();
            send();
          }}
        >
          <label className="visually-hidden" htmlFor="composer-input">
            Message
          </label>
          <textarea
            id="composer-input"
            ref={composer}
            rows={3}
            placeholder={model ? `Message ${model} — Enter to send, Shift+Enter for a new line` : 'Choose a model to start'}
            value={draft}
            onChange={(event) => playground.getState().setDraft(event.target.value)}
            onKeyDown={onKeyDown}
          />
          <div className="composer-actions">
            <button type="button" className="button ghost" onClick={() => playground.getState().clear()} disabled={entries.length === 0}>
              Clear
            </button>
            {streaming ? (
              <button type="button" className="button danger" onClick={() => playground.getState().stop()}>
                <Icon name="stop" size={12} />
                <span>Stop</span>
              </button>
            ) : (
              <button type="submit" className="button primary" disabled={!draft.trim() || !model}>
                <Icon name="send" size={13} />
                <span>Send</span>
              </button>
            )}
          </div>
        </form>
      </section>
    </div>
  );
}
