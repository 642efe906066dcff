/**
 * The response cache's key: a hash of the normalised core request, so the same prompt asked
 * through any client format (chat completions, Messages, Responses) finds the same entry.
 * Everything that can change the answer is in it (model, system, messages, tools, tool
 * choice, sampling parameters, stop, response format, reasoning, seed, a format's own
 * fields such as `logit_bias`); what only changes how the answer is delivered or attributed
 * is not (stream, stream usage, user, metadata, prompt-cache hints and breakpoints).
 * A caller's own provider key (`x-provider-api-key`) is mixed in, so such a request never
 * shares another caller's entry; so are a format's native extras (what reaches a same-format
 * upstream beyond the core request, such as a Responses request's hosted tools and `include`),
 * with the endpoint they belong to. A plain prompt has none, so it keys the same in every format.
 */
import { createHash } from 'node:crypto';
import type { CoreRequest } from '../../core/types.js';

/** Format fields that do not change what the model answers (`anthropic-version` names the wire shape, which the encoder owns). */
const DELIVERY_FIELDS = new Set(['stream_options', 'store', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'metadata', 'user', 'anthropic-version']);

/** JSON with object keys sorted and `cacheControl` breakpoints left out (they change cost, not the answer). */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([key, item]) => item !== undefined && key !== 'cacheControl')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
}

/** The part of a core request that decides its answer. */
export function normalisedRequest(core: CoreRequest): Record<string, unknown> {
  const { stream: _stream, streamUsage: _streamUsage, user: _user, metadata: _metadata, promptCacheKey: _promptCacheKey, extensions, ...rest } = core;
  const fields = Object.fromEntries(Object.entries(extensions?.fields ?? {}).filter(([name]) => !DELIVERY_FIELDS.has(name)));
  // A format's own fields only mean something to their family; without any, the family is no difference.
  return { ...rest, extensions: extensions && Object.keys(fields).length > 0 ? { family: extensions.family, fields } : null };
}

export function cacheKey(core: CoreRequest, byokKey: string | null, nativeExtras: { endpoint: string; fields: Record<string, unknown> } | null = null): string {
  const hash = createHash('sha256').update(canonical(normalisedRequest(core)));
  if (nativeExtras !== null) hash.update('\0native\0').update(canonical(nativeExtras));
  if (byokKey !== null) hash.update('\0byok\0').update(createHash('sha256').update(byokKey).digest('hex'));
  return hash.digest('hex');
}
