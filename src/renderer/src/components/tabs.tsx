/** Accessible tabs (roving focus with the arrow keys, Home and End) used by the detail pane and Connect. */
import { useRef, type JSX, type KeyboardEvent } from 'react';

export interface TabDefinition<Name extends string> {
  name: Name;
  label: string;
  badge?: string | number | null;
}

export function Tabs<Name extends string>({
  tabs,
  selected,
  onSelect,
  label,
  idPrefix,
}: {
  tabs: Array<TabDefinition<Name>>;
  selected: Name;
  onSelect: (name: Name) => void;
  label: string;
  idPrefix: string;
}): JSX.Element {
  const references = useRef<Array<HTMLButtonElement | null>>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const index = tabs.findIndex((tab) => tab.name === selected);
    let next = index;
    if (event.key === 'ArrowRight') next = (index + 1) % tabs.length;
    else if (event.key === 'ArrowLeft') next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = tabs.length - 1;
    else return;
    event.preventDefault();
    onSelect(tabs[next]!.name);
    references.current[next]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKeyDown}>
      {tabs.map((tab, index) => (
        <button
          key={tab.name}
          ref={(element) => {
            references.current[index] = element;
          }}
          type="button"
          role="tab"
          id={`${idPrefix}-tab-${tab.name}`}
          aria-selected={tab.name === selected}
          aria-controls={`${idPrefix}-panel`}
          tabIndex={tab.name === selected ? 0 : -1}
          className={`tab ${tab.name === selected ? 'selected' : ''}`}
          onClick={() => onSelect(tab.name)}
        >
          {tab.label}
          {tab.badge !== undefined && tab.badge !== null && tab.badge !== 0 ? <span className="tab-badge">{tab.badge}</span> : null}
        </button>
      ))}
    </div>
  );
}
