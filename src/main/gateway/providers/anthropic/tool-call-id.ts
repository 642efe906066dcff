/**
 * Anthropic accepts only `^[a-zA-Z0-9_-]+$` as a tool_use id. Ids minted by other providers
 * (`functions.get_weather:0`, ids with dots or colons) are rewritten deterministically, so the
 * assistant's tool call and the tool message answering it, translated separately, still match.
 */
import { createHash } from 'node:crypto';

const VALID_TOOL_ID = /^[a-zA-Z0-9_-]+$/;

export function anthropicToolCallId(id: string): string {
  if (VALID_TOOL_ID.test(id)) return id;
  // The hash keeps two ids that differ only in replaced characters (`a.b`, `a:b`) apart.
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  const cleaned = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return `${cleaned.length > 0 ? cleaned : 'call'}_${hash}`;
}
