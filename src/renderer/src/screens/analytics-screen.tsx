/**
 * Analytics — like Helicone's or Vercel's usage dashboards: cards with the change against
 * the previous period, cost by model over time (stacked), requests and errors, and
 * breakdowns by model, provider, tag, key and user sortable by cost. Range presets
 * (24 h, 7 d, 30 d) and a custom range. Unpriced usage is flagged, never shown as $0.
 * Clicking a breakdown row opens the inspector filtered to it.
 */
import { useEffect, useMemo, useState, type JSX } from 'react';
import type { AnalyticsSummary, BreakdownDimensionName, BreakdownRowView, CostByModelSeries, RequestFilters, TimeSeriesPointView } from '../../../shared/contract';
import { EChartView, useChartTheme, type ChartOption, type ChartTheme } from '../analytics/echart-view';
import { useApp } from '../app-context';
import { EmptyState, ErrorState, LoadingState } from '../components/empty-state';
import { LimitsAndCachePanel } from '../components/limits-panels';
import { Tabs } from '../components/tabs';
import { formatChange, formatCompact, formatCount, formatLatency, formatPercent, formatUsd } from '../format/format-values';

type Preset = '24h' | '7d' | '30d' | 'custom';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export function rangeFor(preset: Exclude<Preset, 'custom'>, now: number): { from: number; to: number; bucket: 'hour' | 'day' } {
  const end = Math.ceil((now + 1) / HOUR) * HOUR;
  if (preset === '24h') return { from: end - DAY, to: end, bucket: 'hour' };
  const days = preset === '7d' ? 7 : 30;
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  return { from: midnight.getTime() - (days - 1) * DAY, to: midnight.getTime() + DAY, bucket: preset === '7d' ? 'hour' : 'day' };
}

function toLocalInput(timestamp: number): string {
  const date = new Date(timestamp - new Date(timestamp).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

interface Card {
  label: string;
  value: string;
  current: number;
  previous: number;
  /** For cost, latency and errors, up is bad. */
  upIsGood: boolean;
  note?: string;
}

function cardsOf(summary: AnalyticsSummary): Card[] {
  const { current, previous } = summary;
  return [
    { label: 'Requests', value: formatCount(current.requests), current: current.requests, previous: previous.requests, upIsGood: true },
    {
      label: 'Tokens',
      value: formatCompact(current.totalTokens),
      current: current.totalTokens,
      previous: previous.totalTokens,
      upIsGood: true,
      note: `${formatCompact(current.inputTokens)} in · ${formatCompact(current.outputTokens)} out`,
    },
    {
      label: 'Cost',
      value: formatUsd(current.costNanoUsd),
      current: current.costNanoUsd,
      previous: previous.costNanoUsd,
      upIsGood: false,
      note: current.unpricedRequests > 0 ? `+ ${formatCount(current.unpricedRequests)} unpriced requests` : undefined,
    },
    { label: 'p95 latency', value: formatLatency(current.p95LatencyMs), current: current.p95LatencyMs ?? 0, previous: previous.p95LatencyMs ?? 0, upIsGood: false, note: `avg ${formatLatency(current.averageLatencyMs)}` },
    { label: 'Error rate', value: formatPercent(current.errorRate), current: current.errorRate, previous: previous.errorRate, upIsGood: false, note: `${formatCount(current.errors)} ${current.errors === 1 ? 'error' : 'errors'}` },
    {
      label: 'Cache savings',
      value: formatUsd(current.cacheSavingsNanoUsd),
      current: current.cacheSavingsNanoUsd,
      previous: previous.cacheSavingsNanoUsd,
      upIsGood: true,
      note: `${formatCount(current.cacheHits)} cache ${current.cacheHits === 1 ? 'hit' : 'hits'}`,
    },
  ];
}

function axisLabel(timestamp: number, bucket: 'hour' | 'day'): string {
  const date = new Date(timestamp);
  if (bucket === 'day') return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return date.getHours() === 0 ? date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) : date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
}

function baseOption(theme: ChartTheme, labels: string[]): ChartOption {
  return {
    color: theme.palette,
    textStyle: { color: theme.text, fontFamily: 'inherit' },
    grid: { left: 56, right: 16, top: 36, bottom: 28 },
    tooltip: { trigger: 'axis', backgroundColor: theme.background, borderColor: theme.grid, textStyle: { color: theme.text } },
    legend: { top: 0, left: 0, textStyle: { color: theme.muted }, type: 'scroll', icon: 'roundRect', itemWidth: 10, itemHeight: 10 },
    xAxis: { type: 'category', data: labels, boundaryGap: false, axisLine: { lineStyle: { color: theme.grid } }, axisLabel: { color: theme.muted, hideOverlap: true } },
  };
}

function costOption(theme: ChartTheme, series: CostByModelSeries, bucket: 'hour' | 'day'): ChartOption {
  const labels = series.bucketStarts.map((start) => axisLabel(start, bucket));
  return {
    ...baseOption(theme, labels),
    yAxis: { type: 'value', axisLabel: { color: theme.muted, formatter: (value: number) => formatUsd(value) }, splitLine: { lineStyle: { color: theme.grid, opacity: 0.5 } } },
    tooltip: {
      trigger: 'axis',
      backgroundColor: theme.background,
      borderColor: theme.grid,
      textStyle: { color: theme.text },
      valueFormatter: (value: unknown) => formatUsd(Number(value)),
    },
    series: series.series.map((entry) => ({
      name: entry.model,
      type: 'line',
      stack: 'cost',
      areaStyle: { opacity: 0.55 },
      showSymbol: series.bucketStarts.length <= 31,
      symbolSize: (value: number) => (value > 0 ? 5 : 0),
      smooth: false,
      lineStyle: { width: 1 },
      emphasis: { focus: 'series' },
      data: entry.costNanoUsd,
    })),
  };
}

function requestsOption(theme: ChartTheme, points: TimeSeriesPointView[], bucket: 'hour' | 'day'): ChartOption {
  const labels = points.map((point) => axisLabel(point.bucketStart, bucket));
  return {
    ...baseOption(theme, labels),
    color: [theme.palette[0] ?? theme.text, theme.danger],
    yAxis: { type: 'value', minInterval: 1, axisLabel: { color: theme.muted }, splitLine: { lineStyle: { color: theme.grid, opacity: 0.5 } } },
    series: [
      { name: 'Requests', type: 'line', showSymbol: points.length <= 31, symbolSize: (value: number) => (value > 0 ? 5 : 0), areaStyle: { opacity: 0.12 }, data: points.map((point) => point.requests) },
      { name: 'Errors', type: 'line', showSymbol: points.length <= 31, symbolSize: (value: number) => (value > 0 ? 5 : 0), data: points.map((point) => point.errors) },
    ],
  };
}

type SortKey = 'costNanoUsd' | 'requests' | 'totalTokens' | 'p95LatencyMs' | 'errors';

function BreakdownTable({ rows, by, onOpen }: { rows: BreakdownRowView[]; by: BreakdownDimensionName; onOpen: (row: BreakdownRowView) => void }): JSX.Element {
  const [sort, setSort] = useState<SortKey>('costNanoUsd');
  const sorted = useMemo(() => [...rows].sort((left, right) => (right[sort] ?? -1) - (left[sort] ?? -1)), [rows, sort]);
  const total = rows.reduce((sum, row) => sum + row.costNanoUsd, 0);
  const header = (key: SortKey, label: string): JSX.Element => (
    <th scope="col" aria-sort={sort === key ? 'descending' : 'none'} className="cell-number">
      <button type="button" className="sort-button" onClick={() => setSort(key)}>
        {label}
        {sort === key ? ' ↓' : ''}
      </button>
    </th>
  );
  if (rows.length === 0) return <p className="muted small">No requests in this range.</p>;
  return (
    <table className="breakdown">
      <thead>
        <tr>
          <th scope="col">{by === 'key' ? 'Gateway key' : by[0]!.toUpperCase() + by.slice(1)}</th>
          {header('requests', 'Requests')}
          {header('totalTokens', 'Tokens')}
          {header('costNanoUsd', 'Cost')}
          <th scope="col" className="cell-number">
            Share
          </th>
          {header('p95LatencyMs', 'p95')}
          {header('errors', 'Errors')}
        </tr>
      </thead>
      <tbody>
        {sorted.map((row) => (
          <tr key={`${row.value}-${row.label}`} onClick={() => onOpen(row)} className="clickable" tabIndex={0} onKeyDown={(event) => event.key === 'Enter' && onOpen(row)} title="Open these requests in the inspector">
            <td className="mono">{row.label}</td>
            <td className="cell-number">{formatCount(row.requests)}</td>
            <td className="cell-number">{formatCount(row.totalTokens)}</td>
            <td className="cell-number">
              {formatUsd(row.costNanoUsd)}
              {row.unpricedRequests > 0 ? <span className="pill warning small" title="Requests with no known price">+{row.unpricedRequests} unpriced</span> : null}
            </td>
            <td className="cell-number">
              <span className="share">
                <span className="share-bar" style={{ width: `${total > 0 ? (row.costNanoUsd / total) * 100 : 0}%` }} />
                {total > 0 ? formatPercent(row.costNanoUsd / total) : '—'}
              </span>
            </td>
            <td className="cell-number">{formatLatency(row.p95LatencyMs)}</td>
            <td className="cell-number">{formatCount(row.errors)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function AnalyticsScreen(): JSX.Element {
  const { client, navigation } = useApp();
  const theme = useChartTheme();
  const [preset, setPreset] = useState<Preset>('24h');
  const [custom, setCustom] = useState(() => ({ from: Date.now() - 7 * DAY, to: Date.now() }));
  const [by, setBy] = useState<BreakdownDimensionName>('model');
  const [summary, setSummary] = useState<AnalyticsSummary | null>(null);
  const [series, setSeries] = useState<TimeSeriesPointView[] | null>(null);
  const [cost, setCost] = useState<CostByModelSeries | null>(null);
  const [breakdown, setBreakdown] = useState<BreakdownRowView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  const range = useMemo(() => {
    if (preset !== 'custom') return rangeFor(preset, Date.now());
    const span = custom.to - custom.from;
    return { from: custom.from, to: custom.to, bucket: span > 7 * DAY ? ('day' as const) : ('hour' as const) };
  }, [preset, custom, tick]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    let current = true;
    const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const input = { from: range.from, to: range.to, bucket: range.bucket, timeZone };
    Promise.all([
      client.call('analytics.summary', { from: range.from, to: range.to }),
      client.call('analytics.time-series', input),
      client.call('analytics.cost-by-model', input),
    ]).then(
      ([nextSummary, nextSeries, nextCost]) => {
        if (!current) return;
        setSummary(nextSummary);
        setSeries(nextSeries);
        setCost(nextCost);
        setError(null);
      },
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [client, range]);

  useEffect(() => {
    let current = true;
    client.call('analytics.breakdown', { from: range.from, to: range.to, by }).then(
      (rows) => current && setBreakdown(rows),
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [client, range, by]);

  // New traffic refreshes the dashboard (at most every few seconds).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = client.on('request.finished', () => {
      if (timer || preset === 'custom') return;
      timer = setTimeout(() => {
        timer = null;
        setTick((value) => value + 1);
      }, 3000);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [client, preset]);

  const costOptionValue = useMemo(() => (cost ? costOption(theme, cost, range.bucket) : null), [cost, theme, range.bucket]);
  const requestsOptionValue = useMemo(() => (series ? requestsOption(theme, series, range.bucket) : null), [series, theme, range.bucket]);
  const costPoints = cost ? cost.series.reduce((sum, entry) => sum + entry.costNanoUsd.filter((value) => value > 0).length, 0) : 0;
  const requestPoints = series ? series.filter((point) => point.requests > 0).length : 0;

  const openInspector = (row: BreakdownRowView): void => {
    const filters: RequestFilters = { from: range.from, to: range.to };
    if (row.value !== null) {
      if (by === 'model') filters.model = [row.value];
      else if (by === 'provider') filters.provider = [row.value];
      else if (by === 'tag') filters.tag = [row.value];
      else if (by === 'key') filters.gatewayKey = [row.value];
      else filters.text = row.value;
    }
    navigation.getState().openInspector(filters);
  };

  return (
    <div className="analytics">
      <div className="analytics-toolbar">
        <div className="segmented" role="group" aria-label="Range">
          {(['24h', '7d', '30d', 'custom'] as const).map((name) => (
            <button key={name} type="button" className={`segment ${preset === name ? 'selected' : ''}`} aria-pressed={preset === name} onClick={() => setPreset(name)}>
              {name === '24h' ? '24 h' : name === '7d' ? '7 d' : name === '30d' ? '30 d' : 'Custom'}
            </button>
          ))}
        </div>
        {preset === 'custom' ? (
          <div className="custom-range">
            <label>
              <span className="visually-hidden">From</span>
              <input type="datetime-local" value={toLocalInput(custom.from)} onChange={(event) => event.target.value && setCustom({ ...custom, from: new Date(event.target.value).getTime() })} />
            </label>
            <span className="muted">→</span>
            <label>
              <span className="visually-hidden">To</span>
              <input type="datetime-local" value={toLocalInput(custom.to)} onChange={(event) => event.target.value && setCustom({ ...custom, to: new Date(event.target.value).getTime() })} />
            </label>
          </div>
        ) : null}
        <span className="muted small">{range.bucket === 'hour' ? 'Hourly' : 'Daily'} · your time zone</span>
      </div>
      {error ? <ErrorState message={error} onRetry={() => setTick((value) => value + 1)} /> : null}
      {!summary && !error ? <LoadingState label="Crunching numbers…" /> : null}
      {summary ? (
        <>
          {summary.current.unpricedRequests > 0 ? (
            <div className="callout warning" role="note">
              {formatCount(summary.current.unpricedRequests)} request{summary.current.unpricedRequests === 1 ? ' has' : 's have'} no known price, so the cost shown leaves them out.{' '}
              <button type="button" className="button link small" onClick={() => navigation.getState().go('settings')}>
                Set a price
              </button>
            </div>
          ) : null}
          <div className="cards">
            {cardsOf(summary).map((card) => {
              const change = formatChange(card.current, card.previous);
              const good = change && change.text !== 'new' && change.direction !== 'flat' ? (change.direction === 'up') === card.upIsGood : null;
              return (
                <div className="card" key={card.label}>
                  <div className="card-label">{card.label}</div>
                  <div className="card-value" data-testid={`card-${card.label.toLowerCase().replace(/\s+/g, '-')}`}>
                    {card.value}
                  </div>
                  <div className="card-foot">
                    {change ? <span className={`change ${good === null ? '' : good ? 'good' : 'bad'}`}>{change.text}</span> : <span className="muted">—</span>}
                    <span className="muted">{card.note ?? 'vs previous period'}</span>
                  </div>
                </div>
              );
            })}
          </div>
          {summary.current.requests === 0 ? (
            <EmptyState
              title="No traffic in this range"
              action={
                <button type="button" className="button" onClick={() => navigation.getState().go('playground')}>
                  Open the playground
                </button>
              }
            >
              <p>Send a request through the gateway (or try the playground) and the charts fill in.</p>
            </EmptyState>
          ) : (
          <>
          <div className="charts">
            <section className="panel">
              <h3>
                Cost by model <span className="muted small">· click a point to see its requests</span>
              </h3>
              {costOptionValue && cost ? (
                <EChartView
                  option={costOptionValue}
                  label="Cost by model over time"
                  points={costPoints}
                  onSelect={({ seriesName, dataIndex }) => {
                    const from = cost.bucketStarts[dataIndex];
                    if (from === undefined) return;
                    const to = cost.bucketStarts[dataIndex + 1] ?? range.to;
                    navigation.getState().openInspector({ from, to, ...(seriesName === 'other' ? {} : { model: [seriesName] }) });
                  }}
                />
              ) : (
                <LoadingState />
              )}
            </section>
            <section className="panel">
              <h3>Requests and errors</h3>
              {requestsOptionValue && series ? (
                <EChartView
                  option={requestsOptionValue}
                  label="Requests and errors over time"
                  points={requestPoints}
                  onSelect={({ seriesName, dataIndex }) => {
                    const from = series[dataIndex]?.bucketStart;
                    if (from === undefined) return;
                    const to = series[dataIndex + 1]?.bucketStart ?? range.to;
                    navigation.getState().openInspector({ from, to, ...(seriesName === 'Errors' ? { status: ['error' as const] } : {}) });
                  }}
                />
              ) : (
                <LoadingState />
              )}
            </section>
          </div>
          <section className="panel">
            <div className="panel-header">
              <h3>Breakdown</h3>
              <Tabs
                idPrefix="breakdown"
                label="Breakdown by"
                selected={by}
                onSelect={setBy}
                tabs={[
                  { name: 'model', label: 'Model' },
                  { name: 'provider', label: 'Provider' },
                  { name: 'tag', label: 'Tag' },
                  { name: 'key', label: 'Key' },
                  { name: 'user', label: 'User' },
                ]}
              />
            </div>
            <div id="breakdown-panel" role="tabpanel">
              {breakdown ? <BreakdownTable rows={breakdown} by={by} onOpen={openInspector} /> : <LoadingState />}
            </div>
          </section>
          <LimitsAndCachePanel />
          </>
          )}
        </>
      ) : null}
    </div>
  );
}
