/** A copy-to-clipboard button that says "Copied" for a moment; works in Electron and in browsers on localhost. */
import { useEffect, useState, type JSX } from 'react';
import { Icon } from './icons';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Fallback for contexts without the async clipboard (older browsers, denied permission).
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand('copy');
    area.remove();
    return done;
  }
}

export function CopyButton({ text, label = 'Copy', compact = false, className = '' }: { text: string; label?: string; compact?: boolean; className?: string }): JSX.Element {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 1400);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className={`button ghost ${compact ? 'icon-only' : ''} ${className}`}
      aria-label={compact ? label : undefined}
      title={label}
      onClick={() => void copyText(text).then(setCopied)}
    >
      <Icon name={copied ? 'check' : 'copy'} size={14} />
      {compact ? null : <span>{copied ? 'Copied' : label}</span>}
    </button>
  );
}
