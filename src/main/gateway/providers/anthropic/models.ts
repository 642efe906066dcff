/**
 * GET /v1/models, following `after_id` pagination until `has_more` is false, so every model
 * the key can use is listed.
 */
import type { ModelEntry } from '../../openai-types.js';
import type { FetchJson, UpstreamTarget } from '../types.js';
import { anthropicHeaders } from './request.js';

/** Anthropic's largest page. */
const PAGE_SIZE = 1000;
/** A guard against a server that keeps saying `has_more` with the same cursor. */
const MAX_PAGES = 100;

interface ModelPage {
  data?: unknown;
  has_more?: unknown;
  last_id?: unknown;
}

function toEntry(item: unknown, ownedBy: string): ModelEntry | null {
  if (typeof item !== 'object' || item === null) return null;
  const record = item as Record<string, unknown>;
  if (typeof record.id !== 'string' || record.id.length === 0) return null;
  const createdAt = typeof record.created_at === 'string' ? Date.parse(record.created_at) : Number.NaN;
  const entry: ModelEntry = { id: record.id, object: 'model', created: Number.isFinite(createdAt) ? Math.floor(createdAt / 1000) : 0, owned_by: ownedBy };
  if (typeof record.display_name === 'string') entry.display_name = record.display_name;
  return entry;
}

export async function listAnthropicModels(target: UpstreamTarget, fetchJson: FetchJson, timeoutMs: number): Promise<ModelEntry[]> {
  const headers = anthropicHeaders(target);
  const models: ModelEntry[] = [];
  const seenCursors = new Set<string>();
  let afterId: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = afterId === null ? `limit=${PAGE_SIZE}` : `limit=${PAGE_SIZE}&after_id=${encodeURIComponent(afterId)}`;
    const { status, json } = await fetchJson({ method: 'GET', url: `${target.provider.baseUrl}/v1/models?${query}`, headers }, timeoutMs);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    const body = (json ?? {}) as ModelPage;
    if (!Array.isArray(body.data)) throw new Error('model list without data');
    for (const item of body.data) {
      const entry = toEntry(item, target.provider.id);
      if (entry) models.push(entry);
    }
    const lastId = typeof body.last_id === 'string' ? body.last_id : models[models.length - 1]?.id ?? null;
    if (body.has_more !== true || lastId === null || seenCursors.has(lastId)) return models;
    seenCursors.add(lastId);
    afterId = lastId;
  }
  return models;
}
