/** A searchable model picker grouped by provider, with each model's price per million tokens (a combobox with a listbox). */
import { useEffect, useMemo, useRef, useState, type JSX, type KeyboardEvent } from 'react';
import { Icon } from '../components/icons';
import { formatPricePerMillion } from '../format/format-values';
import type { ModelOption } from '../stores/playground-store';

export function groupModels(models: ModelOption[], query: string): Array<{ provider: string; models: ModelOption[] }> {
  const needle = query.trim().toLowerCase();
  const groups = new Map<string, ModelOption[]>();
  for (const model of models) {
    if (needle && !`${model.provider}/${model.id}`.toLowerCase().includes(needle)) continue;
    const list = groups.get(model.provider) ?? [];
    list.push(model);
    groups.set(model.provider, list);
  }
  return [...groups.entries()].map(([provider, list]) => ({ provider, models: list }));
}

export function ModelPicker({ models, value, onChange, loading }: { models: ModelOption[]; value: string | null; onChange: (model: string) => void; loading: boolean }): JSX.Element {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const container = useRef<HTMLDivElement>(null);
  const groups = useMemo(() => groupModels(models, query), [models, query]);
  const flat = useMemo(() => groups.flatMap((group) => group.models), [groups]);
  const selected = models.find((model) => model.id === value);

  useEffect(() => {
    if (!open) return;
    const onClick = (event: MouseEvent): void => {
      if (container.current && !container.current.contains(event.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', onClick);
    return () => window.removeEventListener('mousedown', onClick);
  }, [open]);
  useEffect(() => setActive(0), [query]);

  const choose = (model: ModelOption): void => {
    onChange(model.id);
    setOpen(false);
    setQuery('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      setActive((index) => Math.min(flat.length - 1, index + 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((index) => Math.max(0, index - 1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const model = flat[active];
      if (open && model) choose(model);
      else setOpen(true);
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  };

  let position = -1;
  return (
    <div className="model-picker" ref={container}>
      <label className="field-label" htmlFor="model-picker-input">
        Model
      </label>
      <div className="model-picker-input">
        <Icon name="search" size={13} />
        <input
          id="model-picker-input"
          role="combobox"
          aria-expanded={open}
          aria-controls="model-picker-list"
          aria-autocomplete="list"
          aria-activedescendant={open && flat[active] ? `model-option-${active}` : undefined}
          placeholder={loading ? 'Loading models…' : selected ? selected.id : 'Search models…'}
          value={open ? query : (selected?.id ?? value ?? '')}
          onFocus={() => {
            setOpen(true);
            setQuery('');
          }}
          onChange={(event) => {
            setQuery(event.target.value);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
        />
      </div>
      {selected ? (
        <div className="model-price muted small">
          in {formatPricePerMillion(selected.inputPerMillion)} · out {formatPricePerMillion(selected.outputPerMillion)} per 1M tokens
        </div>
      ) : null}
      {open ? (
        <div className="model-list" id="model-picker-list" role="listbox" aria-label="Models">
          {flat.length === 0 ? <div className="model-empty muted small">{models.length === 0 ? 'No models: add a provider key first.' : 'No model matches.'}</div> : null}
          {groups.map((group) => (
            <div key={group.provider} role="group" aria-label={group.provider}>
              <div className="model-group">{group.provider}</div>
              {group.models.map((model) => {
                position += 1;
                const index = position;
                return (
                  <div
                    key={model.id}
                    id={`model-option-${index}`}
                    role="option"
                    aria-selected={model.id === value}
                    className={`model-option ${index === active ? 'active' : ''} ${model.id === value ? 'chosen' : ''}`}
                    onMouseDown={(event) => {
                      event.preventDefault();
                      choose(model);
                    }}
                    onMouseEnter={() => setActive(index)}
                  >
                    <span className="mono">{model.id}</span>
                    <span className="muted small">
                      {model.inputPerMillion === null ? 'no price' : `${formatPricePerMillion(model.inputPerMillion)} / ${formatPricePerMillion(model.outputPerMillion)}`}
                    </span>
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
