/**
 * Conversations — like a shared chat transcript: the list (first user message, models,
 * turns, total cost, last activity, search) and one conversation with its system prompt
 * (collapsible), user and assistant turns, tool calls and results as cards, thinking
 * collapsed, and each turn's cost and latency in the margin.
 */
import { useEffect, useState, type JSX } from 'react';
import type { ConversationDetailView, ConversationListView, ConversationTurnView } from '../../../shared/contract';
import { useApp, useStoreValue } from '../app-context';
import { EmptyState, ErrorState, LoadingState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { formatCostWithUnpriced, formatCount, formatExactTime, formatLatency, formatRelativeTime, formatUsd } from '../format/format-values';
import { prettyJson } from '../inspector/request-detail';
import { MarkdownView } from '../markdown/markdown-view';

interface Message {
  role?: string;
  content?: unknown;
  reasoning_content?: string;
  tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>;
  tool_call_id?: string;
  name?: string;
  /** A Responses API item's type, and the members of its tool calls and their outputs. */
  type?: string;
  call_id?: string;
  arguments?: string;
  input?: string;
  output?: unknown;
}

/** Responses API items that are tool calls, and those that are their results. */
const RESPONSES_TOOL_CALLS = new Set(['function_call', 'custom_tool_call']);
const RESPONSES_TOOL_OUTPUTS = new Set(['function_call_output', 'custom_tool_call_output']);

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part !== 'object' || part === null) return '';
        const value = part as { type?: string; text?: string };
        if (typeof value.text === 'string') return value.text;
        return value.type ? `[${value.type}]` : '';
      })
      .join('\n');
  }
  return '';
}

function MessageView({ message }: { message: Message }): JSX.Element | null {
  const role = message.role ?? 'unknown';
  const text = textOf(message.content);
  if (role === 'system' || role === 'developer') return null;
  if (message.type && RESPONSES_TOOL_CALLS.has(message.type)) {
    return (
      <div className="message assistant">
        <div className="tool-card">
          <div className="tool-card-header">
            <Icon name="bolt" size={13} /> <span>Tool call</span> <span className="mono">{message.name}</span> <span className="muted small mono">{message.call_id}</span>
          </div>
          <pre className="tool-arguments">{prettyJson(message.arguments ?? message.input ?? '')}</pre>
        </div>
      </div>
    );
  }
  // Reasoning items (often encrypted) and other non-message items have nothing to read here.
  if (message.type && message.type !== 'message' && !RESPONSES_TOOL_OUTPUTS.has(message.type)) return null;
  if (role === 'tool' || (message.type && RESPONSES_TOOL_OUTPUTS.has(message.type))) {
    const result = message.type ? (typeof message.output === 'string' ? message.output : textOf(message.output)) : text;
    return (
      <div className="tool-card result">
        <div className="tool-card-header">
          <Icon name="terminal" size={13} /> <span>Tool result</span> <span className="muted small mono">{message.tool_call_id ?? message.call_id ?? message.name ?? ''}</span>
        </div>
        <pre className="tool-arguments">{prettyJson(result)}</pre>
      </div>
    );
  }
  if (role === 'user') {
    return (
      <div className="message user">
        <div className="user-bubble">{text}</div>
      </div>
    );
  }
  return (
    <div className="message assistant">
      {message.reasoning_content ? (
        <details className="reasoning">
          <summary>Thinking</summary>
          <div className="reasoning-text">{message.reasoning_content}</div>
        </details>
      ) : null}
      {text ? <MarkdownView source={text} /> : null}
      {(message.tool_calls ?? []).map((call, index) => (
        <div className="tool-card" key={call.id ?? index}>
          <div className="tool-card-header">
            <Icon name="bolt" size={13} /> <span>Tool call</span> <span className="mono">{call.function?.name}</span> <span className="muted small mono">{call.id}</span>
          </div>
          <pre className="tool-arguments">{prettyJson(call.function?.arguments ?? '')}</pre>
        </div>
      ))}
    </div>
  );
}

function Turn({ turn, onInspect }: { turn: ConversationTurnView; onInspect: (id: string) => void }): JSX.Element {
  const messages = [...(turn.newMessages as Message[]), ...(turn.responseMessages as Message[])];
  return (
    <section className="turn" aria-label={`Turn at ${formatExactTime(turn.startedAt)}`}>
      <div className="turn-messages">
        {messages.map((message, index) => (
          <MessageView key={index} message={message} />
        ))}
        {turn.errorMessage ? <div className="callout error">{turn.errorMessage}</div> : null}
        {messages.length === 0 && !turn.errorMessage ? <p className="muted small">Message bodies are not stored for this turn.</p> : null}
      </div>
      <aside className="turn-margin">
        <span className="mono">{turn.model ?? '—'}</span>
        <span>{turn.priced ? formatUsd(turn.costNanoUsd) : 'unpriced'}</span>
        <span>{formatLatency(turn.latencyMs)}</span>
        <span className="muted">
          {formatCount(turn.inputTokens)} in · {formatCount(turn.outputTokens)} out
        </span>
        <button type="button" className="button link small" onClick={() => onInspect(turn.requestId)}>
          Inspect
        </button>
      </aside>
    </section>
  );
}

function Transcript({ id }: { id: string }): JSX.Element {
  const { client, inspector, navigation } = useApp();
  const [detail, setDetail] = useState<ConversationDetailView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    client.call('conversations.get', { id }).then(
      (value) => {
        if (!current) return;
        setDetail(value);
        setLoading(false);
      },
      (failure: Error) => {
        if (!current) return;
        setError(failure.message);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [client, id]);
  if (loading) return <LoadingState label="Loading the conversation…" />;
  if (error) return <ErrorState message={error} />;
  if (!detail) return <EmptyState title="This conversation is no longer in the log" />;
  const firstRequest = detail.turnsDetail[0]?.newMessages as Message[] | undefined;
  const system = (firstRequest ?? []).filter((message) => message.role === 'system' || message.role === 'developer').map((message) => textOf(message.content)).join('\n\n');
  const inspect = (requestId: string): void => {
    inspector.getState().select(requestId);
    navigation.getState().go('inspector');
  };
  return (
    <div className="transcript">
      <header className="transcript-header">
        <h2>{detail.title ?? 'Untitled conversation'}</h2>
        <div className="muted small">
          {formatCount(detail.turns)} {detail.turns === 1 ? 'turn' : 'turns'} · {detail.models.join(', ') || '—'} · {formatCostWithUnpriced(detail.costNanoUsd, detail.unpricedTurns)} · started {formatExactTime(detail.firstStartedAt)}
        </div>
        <button type="button" className="button ghost small" onClick={() => navigation.getState().openInspector({ conversationId: detail.id })}>
          <Icon name="inspector" size={13} /> <span>Show its requests</span>
        </button>
      </header>
      {system ? (
        <details className="system-prompt">
          <summary>System prompt</summary>
          <pre>{system}</pre>
        </details>
      ) : null}
      {detail.turnsDetail.map((turn) => (
        <Turn key={turn.requestId} turn={turn} onInspect={inspect} />
      ))}
    </div>
  );
}

export default function ConversationsScreen(): JSX.Element {
  const { client, navigation } = useApp();
  const handedId = useStoreValue(navigation, (state) => state.conversationId);
  const [search, setSearch] = useState('');
  const [list, setList] = useState<ConversationListView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(handedId);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (handedId) setSelected(handedId);
  }, [handedId]);

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      client.call('conversations.list', { search: search || undefined, limit: 200 }).then(
        (value) => {
          if (!current) return;
          setList(value);
          setError(null);
          setSelected((previous) => previous ?? value.conversations[0]?.id ?? null);
        },
        (failure: Error) => current && setError(failure.message),
      );
    }, search ? 200 : 0);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, search, reload]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = client.on('request.finished', () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        setReload((value) => value + 1);
      }, 1500);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [client]);

  return (
    <div className="conversations">
      <section className="conversation-list" aria-label="Conversations">
        <label className="search-field">
          <Icon name="search" size={14} />
          <span className="visually-hidden">Search conversations</span>
          <input type="search" placeholder="Search conversations…" value={search} onChange={(event) => setSearch(event.target.value)} />
        </label>
        {error ? <ErrorState message={error} onRetry={() => setReload((value) => value + 1)} /> : null}
        {!list && !error ? <LoadingState /> : null}
        {list && list.conversations.length === 0 ? (
          <EmptyState title={search ? 'No conversation matches' : 'No conversations yet'}>
            {search ? null : <p>Chats through the gateway group themselves by their opening messages (or the x-conversation-id header). Try the playground.</p>}
          </EmptyState>
        ) : null}
        <ul role="listbox" aria-label="Conversation list">
          {list?.conversations.map((conversation) => (
            <li key={conversation.id}>
              <button
                type="button"
                role="option"
                aria-selected={conversation.id === selected}
                className={`conversation-item ${conversation.id === selected ? 'selected' : ''}`}
                onClick={() => setSelected(conversation.id)}
              >
                <span className="conversation-title">{conversation.title ?? 'Untitled'}</span>
                <span className="conversation-meta">
                  <span className="mono">{conversation.models.join(', ') || '—'}</span>
                  <span>{formatCount(conversation.turns)} {conversation.turns === 1 ? 'turn' : 'turns'}</span>
                  <span>{formatCostWithUnpriced(conversation.costNanoUsd, conversation.unpricedTurns)}</span>
                  <span title={formatExactTime(conversation.lastStartedAt)}>{formatRelativeTime(conversation.lastStartedAt)}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="conversation-detail" aria-label="Transcript">
        {selected ? <Transcript id={selected} /> : list && list.conversations.length > 0 ? <EmptyState title="Choose a conversation" /> : null}
      </section>
    </div>
  );
}
