/**
 * Gemini's model list (`GET /v1beta/models`), every page followed through `nextPageToken`,
 * as OpenAI model entries with the bare id (`gemini-2.5-flash`, not `models/gemini-2.5-flash`).
 */
import type { ModelEntry } from '../../openai-types.js';
import type { FetchJson, UpstreamTarget } from '../types.js';
import { geminiHeaders } from './request.js';

/** Pages asked for per request (the API's maximum). */
const PAGE_SIZE = 1000;
/** A guard against a server that keeps handing out new page tokens. */
const MAX_PAGES = 100;

export function modelEntries(page: unknown): ModelEntry[] {
  const models = (page as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return [];
  const entries: ModelEntry[] = [];
  for (const model of models) {
    const name = (model as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name.length === 0) continue;
    entries.push({ id: name.startsWith('models/') ? name.slice('models/'.length) : name, object: 'model', created: 0, owned_by: 'google' });
  }
  return entries;
}

export async function listGeminiModels(target: UpstreamTarget, fetchJson: FetchJson, timeoutMs: number): Promise<ModelEntry[]> {
  const headers = geminiHeaders(target, 'application/json');
  delete headers['content-type'];
  const entries: ModelEntry[] = [];
  const seenTokens = new Set<string>();
  let pageToken: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
    if (pageToken) query.set('pageToken', pageToken);
    const { status, json } = await fetchJson({ method: 'GET', url: `${target.provider.baseUrl}/v1beta/models?${query}`, headers }, timeoutMs);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('model list is not a JSON object');
    // An empty list comes back as `{}`: proto-JSON leaves out empty repeated fields.
    entries.push(...modelEntries(json));
    const next = (json as { nextPageToken?: unknown }).nextPageToken;
    if (typeof next !== 'string' || next.length === 0 || seenTokens.has(next)) break;
    seenTokens.add(next);
    pageToken = next;
  }
  return entries;
}
