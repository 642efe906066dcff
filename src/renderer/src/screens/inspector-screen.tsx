/**
 * Inspector — like the browser devtools' Network panel: the live request list with
 * filters and pause on the left, the selected request's detail on the right. When
 * nothing has been logged yet it teaches the first step: base URL, a key, a curl to try.
 */
import { useCallback, useEffect, type JSX } from 'react';
import { useApp, useStoreValue } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { EmptyState, ErrorState, LoadingState } from '../components/empty-state';
import { FilterBar } from '../inspector/filter-bar';
import { RequestDetailPane } from '../inspector/request-detail';
import { RequestTable } from '../inspector/request-table';
import { hasActiveFilters } from '../../../shared/request-filters';

function FirstRequestGuide(): JSX.Element {
  const { status, providers } = useApp();
  const baseUrl = useStoreValue(status, (state) => state.status?.baseUrl ?? 'http://127.0.0.1:4141/v1');
  const created = useStoreValue(providers, (state) => state.createdKey);
  const key = created?.key ?? null;
  const curl = `curl ${baseUrl}/chat/completions -H "Authorization: Bearer ${key ?? '$SWITCHYARD_API_KEY'}" -H "Content-Type: application/json" -d '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Hello"}]}'`;
  return (
    <EmptyState title="No requests yet">
      <p>Point any OpenAI-compatible tool at Switchyard. Requests appear here live as they start.</p>
      <div className="guide">
        <div className="guide-row">
          <span className="guide-label">Base URL</span>
          <code className="guide-value">{baseUrl}</code>
          <CopyButton text={baseUrl} compact label="Copy base URL" />
        </div>
        <div className="guide-row">
          <span className="guide-label">Gateway key</span>
          {key ? (
            <>
              <code className="guide-value">{key}</code>
              <CopyButton text={key} compact label="Copy key" />
            </>
          ) : (
            <button type="button" className="button" onClick={() => void providers.getState().createGatewayKey({ name: 'First key' })}>
              Create a key
            </button>
          )}
        </div>
        {key ? <p className="muted small">Copy it now: you will not see this key again.</p> : null}
        <div className="guide-row">
          <span className="guide-label">Try it</span>
          <code className="guide-value wrap">{curl}</code>
          <CopyButton text={curl} compact label="Copy curl command" />
        </div>
      </div>
    </EmptyState>
  );
}

export function InspectorScreen(): JSX.Element {
  const { inspector, navigation } = useApp();
  const order = useStoreValue(inspector, (state) => state.order);
  const rows = useStoreValue(inspector, (state) => state.rows);
  const loading = useStoreValue(inspector, (state) => state.loading);
  const error = useStoreValue(inspector, (state) => state.error);
  const filters = useStoreValue(inspector, (state) => state.filters);
  const facets = useStoreValue(inspector, (state) => state.facets);
  const paused = useStoreValue(inspector, (state) => state.paused);
  const held = useStoreValue(inspector, (state) => state.held.length);
  const selectedId = useStoreValue(inspector, (state) => state.selectedId);
  const lastPrepended = useStoreValue(inspector, (state) => state.lastPrepended);

  useEffect(() => {
    const handed = navigation.getState().consumeInspectorFilters();
    if (handed) inspector.getState().setFilters(handed);
    else void inspector.getState().load();
    void inspector.getState().loadFacets();
  }, [inspector, navigation]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable)) return;
      if (event.key === 'Escape') inspector.getState().select(null);
      if (event.key === 'p' && !event.ctrlKey && !event.metaKey && !event.altKey) inspector.getState().setPaused(!inspector.getState().paused);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [inspector]);

  const onSelect = useCallback((id: string) => inspector.getState().select(id), [inspector]);
  const onNearEnd = useCallback(() => void inspector.getState().loadOlder(), [inspector]);
  const empty = !loading && order.length === 0;

  return (
    <div className={`inspector ${selectedId ? 'with-detail' : ''}`}>
      <section className="inspector-list" aria-label="Request list">
        <FilterBar
          filters={filters}
          facets={facets}
          onChange={(next) => inspector.getState().setFilters(next)}
          paused={paused}
          held={held}
          onPause={(value) => inspector.getState().setPaused(value)}
          count={order.length}
        />
        {error ? <ErrorState message={error} onRetry={() => void inspector.getState().load()} /> : null}
        {loading && order.length === 0 ? <LoadingState label="Loading requests…" /> : null}
        {empty && !error ? (
          hasActiveFilters(filters) ? (
            <EmptyState title="No request matches these filters" action={<button type="button" className="button" onClick={() => inspector.getState().setFilters({})}>Clear filters</button>} />
          ) : (
            <FirstRequestGuide />
          )
        ) : null}
        {!empty ? <RequestTable order={order} rows={rows} selectedId={selectedId} onSelect={onSelect} lastPrepended={lastPrepended} onNearEnd={onNearEnd} /> : null}
      </section>
      {selectedId ? <RequestDetailPane onClose={() => inspector.getState().select(null)} /> : null}
    </div>
  );
}
