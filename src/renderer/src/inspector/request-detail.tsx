/**
 * The detail pane: Overview (timing bar, figures, attempt trail, warnings), Request (what
 * the client sent), Upstream (what Switchyard sent after translation), Response
 * (assembled text, reasoning, tool calls, raw JSON), Stream (events with timestamps) and
 * Headers (secrets masked); actions: copy as curl, open in playground, conversation.
 */
import { useState, type JSX } from 'react';
import type { RequestDetail } from '../../../shared/contract';
import { useApp, useStoreValue } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { ErrorState, LoadingState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { JsonView } from '../components/json-view';
import { Tabs } from '../components/tabs';
import { formatCount, formatExactTime, formatLatency, formatUsd } from '../format/format-values';
import { MarkdownView } from '../markdown/markdown-view';
import { assembledResponse, curlCommand, modelLabel, playgroundSeedFrom, statusText } from './request-display';

type DetailTab = 'overview' | 'request' | 'upstream' | 'response' | 'stream' | 'headers';

function TimingBar({ detail }: { detail: RequestDetail }): JSX.Element {
  const total = detail.latencyMs ?? (detail.endedAt ? detail.endedAt - detail.startedAt : Date.now() - detail.startedAt);
  const firstAttempt = detail.attemptDetails.find((attempt) => attempt.startedAt !== null);
  const gatewayMs = firstAttempt?.startedAt ? Math.max(0, firstAttempt.startedAt - detail.startedAt) : null;
  const ttft = detail.timeToFirstTokenMs;
  const segments: Array<{ label: string; from: number; to: number; kind: string }> = [];
  if (gatewayMs !== null && gatewayMs > 0) segments.push({ label: 'Gateway', from: 0, to: gatewayMs, kind: 'gateway' });
  if (ttft !== null) {
    segments.push({ label: 'Waiting for first token', from: gatewayMs ?? 0, to: ttft, kind: 'waiting' });
    segments.push({ label: 'Streaming', from: ttft, to: total, kind: 'streaming' });
  } else segments.push({ label: detail.stream ? 'Waiting' : 'Upstream', from: gatewayMs ?? 0, to: total, kind: 'waiting' });
  const scale = Math.max(1, total);
  return (
    <figure className="timing">
      <div className="timing-bar" role="img" aria-label={`Total ${formatLatency(total)}${ttft !== null ? `, first token after ${formatLatency(ttft)}` : ''}`}>
        {segments.map((segment) => (
          <span
            key={segment.label}
            className={`timing-segment ${segment.kind}`}
            style={{ left: `${(segment.from / scale) * 100}%`, width: `${Math.max(0.5, ((segment.to - segment.from) / scale) * 100)}%` }}
            title={`${segment.label}: ${formatLatency(segment.to - segment.from)}`}
          />
        ))}
      </div>
      <figcaption className="timing-legend">
        <span>0 ms</span>
        {segments.map((segment) => (
          <span key={segment.label} className={`legend-item ${segment.kind}`}>
            {segment.label} {formatLatency(segment.to - segment.from)}
          </span>
        ))}
        <span>{formatLatency(total)}</span>
      </figcaption>
    </figure>
  );
}

function Overview({ detail }: { detail: RequestDetail }): JSX.Element {
  const live = detail.endedAt === null;
  const figures: Array<[string, string]> = [
    ['Status', `${statusText(detail)}${detail.errorType ? ` · ${detail.errorType}` : ''}`],
    ['Model', modelLabel(detail)],
    ['Provider', detail.provider ?? '—'],
    ['Started', formatExactTime(detail.startedAt)],
    ['Input tokens', `${formatCount(detail.inputTokens)}${detail.cachedInputTokens > 0 ? ` (${formatCount(detail.cachedInputTokens)} cached)` : ''}`],
    ['Output tokens', `${formatCount(live ? detail.liveOutputTokens : detail.outputTokens)}${detail.reasoningTokens > 0 ? ` (${formatCount(detail.reasoningTokens)} reasoning)` : ''}`],
    ['Cost', live ? '…' : detail.priced ? formatUsd(detail.costNanoUsd) : 'unpriced (no known price for this model)'],
    ['Time to first token', formatLatency(detail.timeToFirstTokenMs)],
    ['Latency', formatLatency(detail.latencyMs)],
    ['Finish reason', detail.finishReason ?? '—'],
    ['Stream', detail.stream ? 'yes' : 'no'],
    ['Conversation', detail.conversationId ?? '—'],
  ];
  return (
    <div className="detail-overview">
      {detail.errorMessage ? (
        <div className="callout error" role="alert">
          {detail.errorMessage}
        </div>
      ) : null}
      <TimingBar detail={detail} />
      <dl className="figures">
        {figures.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd className={label === 'Conversation' || label === 'Model' ? 'mono' : ''}>{value}</dd>
          </div>
        ))}
      </dl>
      {detail.usageEstimated ? <p className="muted small">The provider reported no usage; tokens are estimated.</p> : null}
      {detail.traceId ? (
        <div className="field">
          <span className="field-label">Trace</span>
          <div className="inline-value">
            <code className="mono">{detail.traceId}</code>
            <CopyButton text={detail.traceId} compact label="Copy trace id" />
          </div>
        </div>
      ) : null}
      <h4>Attempts</h4>
      {detail.attemptDetails.length === 0 ? (
        <p className="muted small">{live ? 'Routing…' : 'No upstream attempt (refused by the gateway).'}</p>
      ) : (
        <ol className="attempts">
          {detail.attemptDetails.map((attempt) => (
            <li key={attempt.index} className={`attempt ${attempt.status ?? ''}`}>
              <span className={`status-dot ${attempt.status === 'success' ? 'ok' : attempt.status === 'error' ? 'error' : 'muted'}`} aria-hidden="true" />
              <span className="mono">
                {attempt.provider ?? '?'} / {attempt.model ?? '?'}
              </span>
              <span>{attempt.httpStatus ?? ''}</span>
              <span className="muted">{attempt.latencyMs !== null ? formatLatency(attempt.latencyMs) : ''}</span>
              {attempt.errorMessage ? <span className="attempt-error">{attempt.errorMessage}</span> : null}
            </li>
          ))}
        </ol>
      )}
      {detail.warnings.length > 0 ? (
        <>
          <h4>Warnings</h4>
          <ul className="warnings">
            {detail.warnings.map((warning, index) => (
              <li key={index}>
                {warning.parameter ? <code>{warning.parameter}</code> : null} {warning.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {detail.tags.length > 0 ? (
        <>
          <h4>Tags</h4>
          <div className="tag-list">
            {detail.tags.map((tag) => (
              <span className="tag" key={`${tag.key}:${tag.value}`}>
                {tag.key}:{tag.value}
              </span>
            ))}
          </div>
        </>
      ) : null}
    </div>
  );
}

function ResponseTab({ detail }: { detail: RequestDetail }): JSX.Element {
  const [raw, setRaw] = useState(false);
  const assembled = assembledResponse(detail.responseBody);
  return (
    <div>
      <div className="tab-toolbar">
        <label className="toggle">
          <input type="checkbox" checked={raw} onChange={(event) => setRaw(event.target.checked)} /> Raw JSON
        </label>
      </div>
      {raw || !assembled ? (
        <JsonView value={detail.responseBody} label="Response" emptyText={detail.endedAt === null ? 'The response is still arriving.' : 'No response body recorded.'} />
      ) : (
        <div className="assembled">
          {assembled.reasoning ? (
            <details className="reasoning">
              <summary>Reasoning</summary>
              <div className="reasoning-text">{assembled.reasoning}</div>
            </details>
          ) : null}
          {assembled.text ? <MarkdownView source={assembled.text} /> : <p className="muted small">No text in the reply.</p>}
          {assembled.toolCalls.map((call) => (
            <div className="tool-card" key={call.id || call.name}>
              <div className="tool-card-header">
                <Icon name="bolt" size={13} /> <span className="mono">{call.name}</span> <span className="muted small mono">{call.id}</span>
              </div>
              <pre className="tool-arguments">{prettyJson(call.arguments)}</pre>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function RequestDetailPane({ onClose }: { onClose: () => void }): JSX.Element {
  const { inspector, navigation, status } = useApp();
  const detail = useStoreValue(inspector, (state) => state.detail);
  const loading = useStoreValue(inspector, (state) => state.detailLoading);
  const error = useStoreValue(inspector, (state) => state.detailError);
  const selectedId = useStoreValue(inspector, (state) => state.selectedId);
  const liveSummary = useStoreValue(inspector, (state) => (state.selectedId ? state.rows[state.selectedId] : undefined));
  const origin = useStoreValue(status, (state) => state.status?.origin ?? window.location.origin);
  const [tab, setTab] = useState<DetailTab>('overview');

  if (!selectedId) return <></>;
  const view: RequestDetail | null = detail && liveSummary && detail.endedAt === null ? { ...detail, ...liveSummary } : detail;
  return (
    <aside className="detail-pane" aria-label="Request detail">
      <div className="detail-header">
        <div className="detail-title">
          <span className={`status-dot ${view?.status === 'success' ? 'ok' : view?.status === 'error' ? 'error' : 'live'}`} aria-hidden="true" />
          <strong className="mono">{view ? modelLabel(view) : '…'}</strong>
          <span className="muted small mono" title="Request id">
            {selectedId.slice(0, 8)}
          </span>
        </div>
        <div className="detail-actions">
          {view ? <CopyButton text={curlCommand(view, origin ?? '')} label="Copy as curl" /> : null}
          {view?.requestBody ? (
            <button type="button" className="button ghost" onClick={() => navigation.getState().openPlayground(playgroundSeedFrom(view))}>
              <Icon name="playground" size={13} />
              <span>Open in playground</span>
            </button>
          ) : null}
          {view?.conversationId ? (
            <button type="button" className="button ghost" onClick={() => navigation.getState().openConversation(view.conversationId!)}>
              <Icon name="conversations" size={13} />
              <span>Conversation</span>
            </button>
          ) : null}
          <button type="button" className="button ghost icon-only" aria-label="Close detail" onClick={onClose}>
            <Icon name="close" size={14} />
          </button>
        </div>
      </div>
      <Tabs
        idPrefix="detail"
        label="Request detail"
        selected={tab}
        onSelect={setTab}
        tabs={[
          { name: 'overview', label: 'Overview', badge: view?.warnings.length ? `⚠ ${view.warnings.length}` : null },
          { name: 'request', label: 'Request' },
          { name: 'upstream', label: 'Upstream' },
          { name: 'response', label: 'Response' },
          { name: 'stream', label: 'Stream', badge: view?.streamEvents?.length ?? null },
          { name: 'headers', label: 'Headers' },
        ]}
      />
      <div className="detail-body" id="detail-panel" role="tabpanel" aria-labelledby={`detail-tab-${tab}`} tabIndex={0}>
        {loading && !view ? <LoadingState label="Loading the request…" /> : null}
        {error && !view ? <ErrorState message={error} /> : null}
        {view ? (
          <>
            {tab === 'overview' ? <Overview detail={view} /> : null}
            {tab === 'request' ? <JsonView value={view.requestBody} label="Client request" emptyText={view.bodiesAvailable ? 'No body.' : 'Bodies are not stored for this request (see Settings → Retention).'} /> : null}
            {tab === 'upstream' ? (
              <>
                <p className="muted small">What Switchyard sent to {view.provider ?? 'the provider'} after translation.</p>
                <JsonView value={view.upstreamRequestBody} label="Upstream request" emptyText="Nothing was sent upstream." />
              </>
            ) : null}
            {tab === 'response' ? <ResponseTab detail={view} /> : null}
            {tab === 'stream' ? (
              view.streamEvents === null ? (
                <p className="muted small">{view.stream ? 'Stream events are kept in memory by this run only: for the last 500 requests while a window is open, else for the last 20.' : 'This request was not streamed.'}</p>
              ) : view.streamEvents.length === 0 ? (
                <p className="muted small">No events yet.</p>
              ) : (
                <table className="stream-events">
                  <thead>
                    <tr>
                      <th>+ms</th>
                      <th>Event</th>
                      <th>Data</th>
                    </tr>
                  </thead>
                  <tbody>
                    {view.streamEvents.map((event, index) => (
                      <tr key={index}>
                        <td className="mono muted">{event.offsetMs.toLocaleString('en-US')}</td>
                        <td className="mono">{event.type}</td>
                        <td className="mono">{event.summary}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            ) : null}
            {tab === 'headers' ? (
              view.requestHeaders === null ? (
                <p className="muted small">Headers are kept in memory for recent requests of this run only.</p>
              ) : (
                <table className="headers-table">
                  <tbody>
                    {Object.entries(view.requestHeaders).map(([name, value]) => (
                      <tr key={name}>
                        <th className="mono">{name}</th>
                        <td className="mono">{value}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            ) : null}
          </>
        ) : null}
      </div>
    </aside>
  );
}
