/**
 * The request list: a dense virtualised grid (thousands of rows stay smooth), newest
 * first. New rows arrive at the top without moving what the reader is looking at; a
 * streaming row shows a live token count. Arrow keys move the selection, Home/End jump.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useLayoutEffect, useRef, type JSX, type KeyboardEvent } from 'react';
import type { RequestSummary } from '../../../shared/contract';
import { formatClockTime, formatCount, formatExactTime, formatLatency, formatUsd } from '../format/format-values';
import { modelLabel, statusText } from './request-display';

export const ROW_HEIGHT = 30;
const HEADER_HEIGHT = 28;

const Row = memo(function Row({ summary, selected, onSelect, top }: { summary: RequestSummary; selected: boolean; onSelect: (id: string) => void; top: number }): JSX.Element {
  const live = summary.endedAt === null;
  const outputTokens = live ? summary.liveOutputTokens : summary.outputTokens;
  // No usage reported yet (a cancelled stream): the log estimates it; "unpriced" would mislead.
  const noUsage = !summary.priced && summary.inputTokens === 0 && summary.outputTokens === 0;
  return (
    <div
      role="row"
      id={`request-row-${summary.id}`}
      aria-selected={selected}
      className={`request-row status-${summary.status} ${selected ? 'selected' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
      onClick={() => onSelect(summary.id)}
      data-request-id={summary.id}
    >
      <span role="gridcell" className="cell-status" title={summary.errorMessage ?? summary.status}>
        <span className={`status-dot ${summary.status === 'success' ? 'ok' : summary.status === 'error' ? 'error' : summary.status === 'cancelled' ? 'muted' : 'live'}`} aria-hidden="true" />
        <span className="status-code">{statusText(summary)}</span>
      </span>
      <span role="gridcell" className="cell-time" title={formatExactTime(summary.startedAt)}>
        {formatClockTime(summary.startedAt)}
      </span>
      <span role="gridcell" className="cell-endpoint">{summary.endpoint.replace('/v1/', '')}</span>
      <span role="gridcell" className="cell-model" title={modelLabel(summary)}>
        {modelLabel(summary)}
      </span>
      <span role="gridcell" className="cell-provider">{summary.provider ?? '—'}</span>
      <span role="gridcell" className="cell-number cell-in">{live && summary.inputTokens === 0 ? '' : formatCount(summary.inputTokens)}</span>
      <span role="gridcell" className={`cell-number cell-out ${live ? 'live-count' : ''}`}>
        {outputTokens === null ? '' : `${live ? '~' : ''}${formatCount(outputTokens)}`}
      </span>
      <span role="gridcell" className={`cell-number cell-cost ${summary.priced || live || noUsage ? '' : 'unpriced'}`}>{live ? '' : noUsage ? '—' : formatUsd(summary.costNanoUsd)}</span>
      <span role="gridcell" className="cell-number cell-ttft">{formatLatency(summary.timeToFirstTokenMs)}</span>
      <span role="gridcell" className="cell-number cell-latency">{live ? <span className="live-count">…</span> : formatLatency(summary.latencyMs)}</span>
      <span role="gridcell" className="cell-tags">
        {summary.tags.slice(0, 3).map((tag) => (
          <span className="tag" key={`${tag.key}:${tag.value}`}>
            {tag.key}:{tag.value}
          </span>
        ))}
        {summary.warningCount > 0 ? <span className="tag warning" title={`${summary.warningCount} warnings`}>⚠ {summary.warningCount}</span> : null}
      </span>
    </div>
  );
});

export function RequestTable({
  order,
  rows,
  selectedId,
  onSelect,
  lastPrepended,
  onNearEnd,
}: {
  order: string[];
  rows: Record<string, RequestSummary>;
  selectedId: string | null;
  onSelect: (id: string) => void;
  lastPrepended: number;
  onNearEnd: () => void;
}): JSX.Element {
  const scrollElement = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: order.length,
    getScrollElement: () => scrollElement.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();

  // Keep the reader's place when rows slide in above it.
  useLayoutEffect(() => {
    const element = scrollElement.current;
    if (element && lastPrepended > 0 && element.scrollTop > 0) element.scrollTop += lastPrepended * ROW_HEIGHT;
  }, [order, lastPrepended]);

  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= order.length - 20) onNearEnd();
  }, [last?.index, order.length, onNearEnd]); // eslint-disable-line react-hooks/exhaustive-deps

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (order.length === 0) return;
    const index = selectedId ? order.indexOf(selectedId) : -1;
    let next = index;
    if (event.key === 'ArrowDown' || event.key === 'j') next = Math.min(order.length - 1, index + 1);
    else if (event.key === 'ArrowUp' || event.key === 'k') next = Math.max(0, index - 1);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = order.length - 1;
    else if (event.key === 'PageDown') next = Math.min(order.length - 1, index + 15);
    else if (event.key === 'PageUp') next = Math.max(0, index - 15);
    else return;
    event.preventDefault();
    onSelect(order[next]!);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  return (
    <div className="request-table" role="grid" aria-label="Requests" aria-rowcount={order.length} aria-activedescendant={selectedId ? `request-row-${selectedId}` : undefined} tabIndex={0} onKeyDown={onKeyDown}>
      <div className="request-table-body" ref={scrollElement}>
        {/* The header scrolls with the rows' container (sticky), so columns line up whatever the scrollbar. */}
        <div role="row" className="request-row header">
          <span role="columnheader">Status</span>
          <span role="columnheader">Time</span>
          <span role="columnheader" className="cell-endpoint">Endpoint</span>
          <span role="columnheader">Model</span>
          <span role="columnheader">Provider</span>
          <span role="columnheader" className="cell-number cell-in">In</span>
          <span role="columnheader" className="cell-number cell-out">Out</span>
          <span role="columnheader" className="cell-number cell-cost">Cost</span>
          <span role="columnheader" className="cell-number cell-ttft">TTFT</span>
          <span role="columnheader" className="cell-number cell-latency">Latency</span>
          <span role="columnheader" className="cell-tags">Tags</span>
        </div>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const id = order[item.index]!;
            const summary = rows[id];
            if (!summary) return null;
            return <Row key={id} summary={summary} selected={id === selectedId} onSelect={onSelect} top={item.start - HEADER_HEIGHT} />;
          })}
        </div>
      </div>
    </div>
  );
}
