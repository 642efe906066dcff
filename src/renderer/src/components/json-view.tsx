/** Pretty JSON in monospace with light colouring and a copy button; long bodies stay scrollable. */
import { useMemo, type JSX } from 'react';
import { highlightCode } from '../markdown/highlight-code';
import { CopyButton } from './copy-button';
import { HighlightedTokens } from './highlighted-tokens';

export function JsonView({ value, label, emptyText = 'Nothing recorded.' }: { value: unknown; label: string; emptyText?: string }): JSX.Element {
  const text = useMemo(() => (value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 2)), [value]);
  const tokens = useMemo(() => (text.length > 200_000 ? [{ text, kind: 'plain' as const }] : highlightCode(text, 'json')), [text]);
  if (!text) return <p className="muted small">{emptyText}</p>;
  return (
    <div className="code-block json-view">
      <div className="code-block-header">
        <span>{label}</span>
        <CopyButton text={text} compact label={`Copy ${label}`} />
      </div>
      <pre tabIndex={0} aria-label={label}>
        <HighlightedTokens tokens={tokens} />
      </pre>
    </div>
  );
}
