/**
 * How numbers read everywhere in the window: money with adaptive precision ($0.000184,
 * $1.27), unpriced shown as such (never $0), tokens with thousands separators, latency
 * in ms with one decimal under 10 ms, relative times (exact time on hover).
 */

const NANO_PER_USD = 1e9;

/** `$0.000184`, `$0.0423`, `$1.27`, `$1,204.50`; null → "unpriced". */
export function formatUsd(nanoUsd: number | null | undefined): string {
  if (nanoUsd === null || nanoUsd === undefined) return 'unpriced';
  if (nanoUsd === 0) return '$0.00';
  const negative = nanoUsd < 0;
  const usd = Math.abs(nanoUsd) / NANO_PER_USD;
  let text: string;
  if (usd >= 1) text = usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  else if (usd >= 0.01) text = trimZeros(usd.toFixed(4), 2);
  else if (usd < 0.000001) text = '<0.000001';
  else text = trimZeros(usd.toPrecision(3), 2);
  return `${negative ? '-' : ''}$${text}`;
}

function trimZeros(text: string, minimumDecimals: number): string {
  if (!text.includes('.')) return text;
  let trimmed = text.replace(/0+$/, '');
  const decimals = trimmed.length - trimmed.indexOf('.') - 1;
  if (decimals < minimumDecimals) trimmed += '0'.repeat(minimumDecimals - decimals);
  return trimmed;
}

/** Cost with the unpriced part said: `$1.27 + 3 unpriced`. */
export function formatCostWithUnpriced(nanoUsd: number, unpriced: number): string {
  const base = formatUsd(nanoUsd);
  return unpriced > 0 ? `${base} + ${formatCount(unpriced)} unpriced` : base;
}

export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return Math.round(value).toLocaleString('en-US');
}

/** Compact token counts for cards and axes: 1,204 · 12.3k · 4.51M. */
export function formatCompact(value: number): string {
  if (Math.abs(value) < 10_000) return formatCount(value);
  if (Math.abs(value) < 1_000_000) return `${trimZeros((value / 1000).toFixed(1), 0)}k`;
  return `${trimZeros((value / 1_000_000).toFixed(2), 0)}M`;
}

export function formatLatency(milliseconds: number | null | undefined): string {
  if (milliseconds === null || milliseconds === undefined) return '—';
  if (milliseconds < 10) return `${milliseconds.toFixed(1)} ms`;
  if (milliseconds < 10_000) return `${Math.round(milliseconds).toLocaleString('en-US')} ms`;
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

export function formatPercent(ratio: number): string {
  if (ratio === 0) return '0%';
  if (ratio < 0.001) return '<0.1%';
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
}

export function formatRelativeTime(timestamp: number, now: number = Date.now()): string {
  const seconds = Math.round((now - timestamp) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 30) return `${days} d ago`;
  return new Date(timestamp).toLocaleDateString();
}

export function formatExactTime(timestamp: number): string {
  return new Date(timestamp).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** `14:03:12` (today) or `Nov 3 14:03`. */
export function formatClockTime(timestamp: number, now: number = Date.now()): string {
  const date = new Date(timestamp);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  if (sameDay) return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** The change against the previous period: `+12%`, `−3%`, `new`, or null when both are zero. */
export function formatChange(current: number, previous: number): { text: string; direction: 'up' | 'down' | 'flat' } | null {
  if (current === 0 && previous === 0) return null;
  if (previous === 0) return { text: 'new', direction: 'up' };
  const change = (current - previous) / previous;
  if (Math.abs(change) < 0.005) return { text: '±0%', direction: 'flat' };
  const percent = Math.abs(change) >= 10 ? `${Math.round(Math.abs(change))}×` : `${Math.round(Math.abs(change) * 100)}%`;
  return { text: `${change > 0 ? '+' : '−'}${percent}`, direction: change > 0 ? 'up' : 'down' };
}

/** USD per 1M tokens: `$2.50`, `$0.075`, `free`. */
export function formatPricePerMillion(usd: number | null): string {
  if (usd === null) return '—';
  if (usd === 0) return 'free';
  return `$${usd >= 1 ? usd.toFixed(2) : trimZeros(usd.toFixed(3), 2)}`;
}
