/** GET /v1/models with after_id pagination, against a scripted fetchJson. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { listAnthropicModels } from '../../../src/main/gateway/providers/anthropic/models.js';
import type { FetchJson, PreparedRequest } from '../../../src/main/gateway/providers/types.js';

const provider = loadConfig({ environment: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999' } }).providers.find((candidate) => candidate.id === 'anthropic')!;
const target = { provider, model: '', apiKey: 'sk-ant-test' };
const info = (id: string) => ({ type: 'model', id, display_name: id.toUpperCase(), created_at: '2025-10-01T00:00:00Z', max_input_tokens: 200000, max_tokens: 64000, capabilities: null });

function scripted(pages: Array<{ status?: number; json: unknown }>): { fetchJson: FetchJson; requests: PreparedRequest[] } {
  const requests: PreparedRequest[] = [];
  const fetchJson: FetchJson = async (request) => {
    requests.push(request);
    const page = pages[requests.length - 1];
    if (!page) throw new Error('unexpected request');
    return { status: page.status ?? 200, json: page.json };
  };
  return { fetchJson, requests };
}

describe('listAnthropicModels', () => {
  it('follows after_id until has_more is false', async () => {
    const { fetchJson, requests } = scripted([
      { json: { data: [info('a'), info('b')], has_more: true, first_id: 'a', last_id: 'b' } },
      { json: { data: [info('c')], has_more: true, first_id: 'c', last_id: 'c' } },
      { json: { data: [info('d')], has_more: false, first_id: 'd', last_id: 'd' } },
    ]);
    const models = await listAnthropicModels(target, fetchJson, 1000);
    expect(models.map((model) => model.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(models[0]).toEqual({ id: 'a', object: 'model', created: 1759276800, owned_by: 'anthropic', display_name: 'A' });
    expect(requests.map((request) => request.url)).toEqual([
      'http://127.0.0.1:9999/v1/models?limit=1000',
      'http://127.0.0.1:9999/v1/models?limit=1000&after_id=b',
      'http://127.0.0.1:9999/v1/models?limit=1000&after_id=c',
    ]);
    expect(requests[0]!.method).toBe('GET');
    expect(requests[0]!.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' });
  });

  it('stops when a server repeats its cursor', async () => {
    const page = { json: { data: [info('a')], has_more: true, last_id: 'a' } };
    const { fetchJson, requests } = scripted([page, page, page]);
    await listAnthropicModels(target, fetchJson, 1000);
    expect(requests).toHaveLength(2);
  });

  it('an error status fails the listing', async () => {
    const { fetchJson } = scripted([{ status: 401, json: { type: 'error', error: { type: 'authentication_error', message: 'bad key' } } }]);
    await expect(listAnthropicModels(target, fetchJson, 1000)).rejects.toThrow('HTTP 401');
  });
});
