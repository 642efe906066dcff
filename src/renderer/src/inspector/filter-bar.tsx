/** The inspector's filter bar: free text, status toggles, chips for provider / model / tag / key, and pause. */
import { useEffect, useState, type JSX } from 'react';
import type { RequestFacets, RequestFilters } from '../../../shared/contract';
import { Icon } from '../components/icons';
import { hasActiveFilters } from '../../../shared/request-filters';

type ChipKind = 'provider' | 'model' | 'tag' | 'gatewayKey';
const CHIP_LABELS: Record<ChipKind, string> = { provider: 'Provider', model: 'Model', tag: 'Tag', gatewayKey: 'Key' };
const STATUSES = [
  { value: 'success', label: 'OK' },
  { value: 'error', label: 'Errors' },
  { value: 'cancelled', label: 'Cancelled' },
  { value: 'in-flight', label: 'In flight' },
] as const;

export function FilterBar({
  filters,
  facets,
  onChange,
  paused,
  held,
  onPause,
  count,
}: {
  filters: RequestFilters;
  facets: RequestFacets | null;
  onChange: (filters: RequestFilters) => void;
  paused: boolean;
  held: number;
  onPause: (paused: boolean) => void;
  count: number;
}): JSX.Element {
  const [text, setText] = useState(filters.text ?? '');
  const [adding, setAdding] = useState<ChipKind | ''>('');
  useEffect(() => setText(filters.text ?? ''), [filters.text]);
  useEffect(() => {
    if ((filters.text ?? '') === text) return;
    const timer = setTimeout(() => onChange({ ...filters, text: text || undefined }), 250);
    return () => clearTimeout(timer);
  }, [text]); // eslint-disable-line react-hooks/exhaustive-deps

  const toggleStatus = (status: (typeof STATUSES)[number]['value']): void => {
    const current = filters.status ?? [];
    const next = current.includes(status) ? current.filter((value) => value !== status) : [...current, status];
    onChange({ ...filters, status: next.length > 0 ? next : undefined });
  };
  const addChip = (kind: ChipKind, value: string): void => {
    if (!value) return;
    const current = filters[kind] ?? [];
    if (!current.includes(value)) onChange({ ...filters, [kind]: [...current, value] });
    setAdding('');
  };
  const removeChip = (kind: ChipKind, value: string): void => {
    const next = (filters[kind] ?? []).filter((item) => item !== value);
    onChange({ ...filters, [kind]: next.length > 0 ? next : undefined });
  };
  const options = (kind: ChipKind): Array<{ value: string; label: string }> => {
    if (!facets) return [];
    if (kind === 'provider') return facets.providers.map((value) => ({ value, label: value }));
    if (kind === 'model') return facets.models.map((value) => ({ value, label: value }));
    if (kind === 'tag') return facets.tags.map((value) => ({ value, label: value }));
    return facets.gatewayKeys.map((key) => ({ value: key.id, label: key.name }));
  };
  const keyName = (id: string): string => facets?.gatewayKeys.find((key) => key.id === id)?.name ?? id;

  return (
    <div className="filter-bar" role="search">
      <label className="search-field">
        <Icon name="search" size={14} />
        <span className="visually-hidden">Filter requests</span>
        <input type="search" placeholder="Filter: model, provider, tag, error…" value={text} onChange={(event) => setText(event.target.value)} />
      </label>
      <div className="segmented" role="group" aria-label="Status">
        {STATUSES.map((status) => (
          <button
            key={status.value}
            type="button"
            className={`segment ${(filters.status ?? []).includes(status.value) ? 'selected' : ''}`}
            aria-pressed={(filters.status ?? []).includes(status.value)}
            onClick={() => toggleStatus(status.value)}
          >
            {status.label}
          </button>
        ))}
      </div>
      <div className="chips" aria-label="Active filters">
        {(Object.keys(CHIP_LABELS) as ChipKind[]).flatMap((kind) =>
          (filters[kind] ?? []).map((value) => (
            <span className="chip" key={`${kind}:${value}`}>
              <span className="chip-kind">{CHIP_LABELS[kind]}</span>
              <span className="chip-value">{kind === 'gatewayKey' ? keyName(value) : value}</span>
              <button type="button" className="chip-remove" aria-label={`Remove ${CHIP_LABELS[kind]} ${value}`} onClick={() => removeChip(kind, value)}>
                <Icon name="close" size={11} />
              </button>
            </span>
          )),
        )}
        {filters.conversationId ? (
          <span className="chip">
            <span className="chip-kind">Conversation</span>
            <span className="chip-value">{filters.conversationId.slice(0, 14)}</span>
            <button type="button" className="chip-remove" aria-label="Remove conversation filter" onClick={() => onChange({ ...filters, conversationId: undefined })}>
              <Icon name="close" size={11} />
            </button>
          </span>
        ) : null}
        <label className="chip-add">
          <span className="visually-hidden">Add a filter</span>
          <select value={adding} onChange={(event) => setAdding(event.target.value as ChipKind | '')}>
            <option value="">+ Filter</option>
            {(Object.keys(CHIP_LABELS) as ChipKind[]).map((kind) => (
              <option key={kind} value={kind}>
                {CHIP_LABELS[kind]}
              </option>
            ))}
          </select>
        </label>
        {adding ? (
          <label className="chip-add">
            <span className="visually-hidden">{CHIP_LABELS[adding]} value</span>
            <select autoFocus value="" onChange={(event) => addChip(adding, event.target.value)} onBlur={() => setAdding('')}>
              <option value="">{options(adding).length === 0 ? 'No values seen yet' : `Choose ${CHIP_LABELS[adding].toLowerCase()}…`}</option>
              {options(adding).map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {hasActiveFilters(filters) ? (
          <button type="button" className="button link small" onClick={() => onChange({})}>
            Clear
          </button>
        ) : null}
      </div>
      <div className="filter-bar-end">
        <span className="muted small" aria-live="polite">
          {count.toLocaleString('en-US')} shown
        </span>
        <button type="button" className={`button ${paused ? 'primary' : ''}`} aria-pressed={paused} onClick={() => onPause(!paused)} title="Freeze the live list (P)">
          <Icon name={paused ? 'play' : 'pause'} size={13} />
          <span>{paused ? (held > 0 ? `Resume (${held} new)` : 'Resume') : 'Pause'}</span>
        </button>
      </div>
    </div>
  );
}
