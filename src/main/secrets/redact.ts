/**
 * Keeps secrets out of text that leaves the request path: error messages derived from an
 * upstream's error (a provider may echo the key back: "Incorrect API key provided:
 * sk-abc…"), log lines and anything stored. Two layers:
 * - the exact secrets known for this text (the provider key a request used), replaced
 *   wherever they appear, whatever their shape;
 * - patterns for what looks like a credential: `Bearer …`, `key=` and friends in query
 *   strings, `x-api-key: …`-style header echoes, and well-known key shapes (`sk-…`,
 *   `xai-…`, `AIza…`, `gsk_…`, `sy-…` gateway keys).
 * Every match is replaced by its masked form (`sk-…abcd`, see maskSecret), so a message
 * still says which key was meant without holding it.
 */
import { maskSecret } from './secret-store.js';

/** Shorter "secrets" are not replaced literally: they would mangle ordinary words. */
const MINIMUM_KNOWN_SECRET_LENGTH = 8;

const TOKEN = `[A-Za-z0-9._~+/=-]`;

const PATTERNS: Array<{ pattern: RegExp; keep: number }> = [
  // Authorization-style echoes: "Bearer sk-…", "Basic dXNlcjpw…" (Basic only when it looks like base64 with a digit or padding, so "Basic information" stays).
  { pattern: new RegExp(`\\b(Bearer)(\\s+)(${TOKEN}{8,})`, 'gi'), keep: 2 },
  { pattern: /\b(Basic)(\s+)((?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])/g, keep: 2 },
  // Query parameters that carry keys: ?key=…, &api_key=…, access_token=…
  { pattern: new RegExp(`([?&;](?:key|api[_-]?key|apikey|access[_-]?token|token|secret)=)([^&\\s"'#<>]{4,})`, 'gi'), keep: 1 },
  // Header or field echoes: `x-api-key: …`, `"x-goog-api-key":"…"`, `api_key=…`, `API key: …`.
  {
    pattern: new RegExp(
      `((?:authorization|proxy-authorization|x-api-key|x-goog-api-key|x-provider-api-key|x-switchyard-admin-token|api[_ -]?key|apikey)["']?\\s*[:=]\\s*["']?)(?!Bearer\\b|Basic\\b)(${TOKEN}{8,})`,
      'gi',
    ),
    keep: 1,
  },
  // Well-known key shapes, wherever they stand.
  { pattern: /(^|[^A-Za-z0-9_-])((?:sk|xai|pplx|sy)-[A-Za-z0-9_-]{16,})/g, keep: 1 },
  { pattern: /(^|[^A-Za-z0-9_-])((?:gsk|hf|ghp|gho|github_pat)_[A-Za-z0-9_]{16,})/g, keep: 1 },
  { pattern: /(^|[^A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{30,})/g, keep: 1 },
];

/** A quick test before the regular expressions run: most text holds nothing that looks like a key. */
const SUSPICIOUS = /bearer|basic|key|token|secret|authorization|sk-|xai-|pplx-|sy-|gsk_|hf_|gh[po]_|github_pat_|AIza/i;

/**
 * `text` with every known secret and everything that looks like a credential masked.
 * Cheap when there is nothing to hide (one literal search per known secret, one quick test).
 */
export function redactSecrets(text: string, known: ReadonlyArray<string | null | undefined> = []): string {
  let result = text;
  for (const secret of known) {
    if (!secret || secret.length < MINIMUM_KNOWN_SECRET_LENGTH) continue;
    if (result.includes(secret)) result = result.split(secret).join(maskSecret(secret));
    // Upstreams sometimes echo a key URL-encoded or JSON-escaped.
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && result.includes(encoded)) result = result.split(encoded).join(maskSecret(secret));
  }
  if (!SUSPICIOUS.test(result)) return result;
  for (const { pattern, keep } of PATTERNS) {
    pattern.lastIndex = 0;
    result = result.replace(pattern, (...groups: string[]) => {
      const kept = groups.slice(1, 1 + keep).join('');
      const secret = groups[1 + keep]!;
      // Already masked (`sk-…abcd`) or a placeholder: leave it.
      if (secret.includes('…') || /^\*+$/.test(secret)) return groups[0]!;
      return kept + maskSecret(secret);
    });
  }
  return result;
}

/** Whether `text` holds a secret literally (for tests and assertions). */
export function containsSecret(text: string, secret: string): boolean {
  return text.includes(secret) || text.includes(encodeURIComponent(secret));
}

/** Deep-redacts the string values of a JSON-like value (error bodies with nested fields). */
export function redactValue<T>(value: T, known: ReadonlyArray<string | null | undefined> = []): T {
  if (typeof value === 'string') return redactSecrets(value, known) as T;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, known)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) out[name] = redactValue(item, known);
    return out as T;
  }
  return value;
}
