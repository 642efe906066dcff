/** GET /v1beta/models: every page followed, ids without the `models/` prefix. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { listGeminiModels } from '../../../src/main/gateway/providers/gemini/models.js';
import type { FetchJson, PreparedRequest, UpstreamTarget } from '../../../src/main/gateway/providers/types.js';

const gemini = loadConfig({ environment: { GEMINI_BASE_URL: 'https://gemini.test' } }).providers.find((provider) => provider.id === 'gemini')!;
const target: UpstreamTarget = { provider: gemini, model: '', apiKey: 'key-1' };

function pages(bodies: Array<{ status?: number; json: unknown }>): { fetchJson: FetchJson; seen: PreparedRequest[] } {
  const seen: PreparedRequest[] = [];
  let call = 0;
  return {
    seen,
    fetchJson: async (request) => {
      seen.push(request);
      const page = bodies[Math.min(call++, bodies.length - 1)]!;
      return { status: page.status ?? 200, json: page.json };
    },
  };
}

describe('Gemini model listing', () => {
  it('follows nextPageToken through every page and strips the models/ prefix', async () => {
    const { fetchJson, seen } = pages([
      { json: { models: [{ name: 'models/gemini-2.5-pro' }, { name: 'models/gemini-2.5-flash' }], nextPageToken: 'p2' } },
      { json: { models: [{ name: 'models/gemini-embedding-001' }], nextPageToken: 'p3' } },
      { json: { models: [{ name: 'models/text-embedding-004' }] } },
    ]);
    const models = await listGeminiModels(target, fetchJson, 1000);
    expect(models.map((model) => model.id)).toEqual(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-embedding-001', 'text-embedding-004']);
    expect(models[0]).toEqual({ id: 'gemini-2.5-pro', object: 'model', created: 0, owned_by: 'google' });
    expect(seen.map((request) => request.url)).toEqual([
      'https://gemini.test/v1beta/models?pageSize=1000',
      'https://gemini.test/v1beta/models?pageSize=1000&pageToken=p2',
      'https://gemini.test/v1beta/models?pageSize=1000&pageToken=p3',
    ]);
    for (const request of seen) {
      expect(request.method).toBe('GET');
      expect(request.headers['x-goog-api-key']).toBe('key-1');
      expect(request.url).not.toContain('key-1');
    }
  });

  it('stops when a page token repeats', async () => {
    const { fetchJson, seen } = pages([{ json: { models: [{ name: 'models/a' }], nextPageToken: 'same' } }]);
    const models = await listGeminiModels(target, fetchJson, 1000);
    expect(seen).toHaveLength(2);
    expect(models.map((model) => model.id)).toEqual(['a', 'a']);
  });

  it('reads an empty list ({}) as no models and fails on an error status', async () => {
    expect(await listGeminiModels(target, pages([{ json: {} }]).fetchJson, 1000)).toEqual([]);
    await expect(listGeminiModels(target, pages([{ status: 403, json: { error: {} } }]).fetchJson, 1000)).rejects.toThrow('HTTP 403');
  });
});
