/** Model name → provider: alias, explicit provider/model, declared, prefix, catalog; else 404. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { GatewayError } from '../../src/main/gateway/errors.js';
import type { FetchJson } from '../../src/main/gateway/providers/types.js';
import { ModelCatalog } from '../../src/main/gateway/routing/model-catalog.js';
import { ModelRouter } from '../../src/main/gateway/routing/model-router.js';
import { EnvironmentSecretStore } from '../../src/main/secrets/secret-store.js';

function setup() {
  const environment = {
    OPENAI_API_KEY: 'sk-test',
    XAI_API_KEY: 'xai-test',
    OLLAMA_BASE_URL: 'http://127.0.0.1:11111/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:22222/v1',
  };
  const config = loadConfig({
    environment,
    file: {
      aliases: { fast: 'gpt-4o-mini', 'gpt-4o': 'xai/grok-3', local: 'ollama/llama3.2:latest', 'openai/gpt-4.1': 'xai/grok-4', ghost: 'no-such-model' },
      providers: {
        custom: { baseUrl: 'http://127.0.0.1:33333/v1', models: ['gpt-oss-20b', 'my-model'] },
      },
    },
  });
  const fetched: string[] = [];
  const fetchJson: FetchJson = async (request) => {
    fetched.push(request.url);
    if (request.url.startsWith('http://127.0.0.1:11111/')) return { status: 200, json: { data: [{ id: 'llama3.2:latest' }, { id: 'qwen3:8b' }] } };
    if (request.url.startsWith('http://127.0.0.1:22222/')) throw new Error('ECONNREFUSED');
    if (request.url.startsWith('http://127.0.0.1:33333/')) return { status: 200, json: { data: [{ id: 'listed-by-custom' }] } };
    return { status: 200, json: { data: [] } };
  };
  const catalog = new ModelCatalog(config.providers, new EnvironmentSecretStore(config.providers, environment), fetchJson, 60_000);
  return { router: new ModelRouter(config, catalog), catalog, fetched };
}

describe('ModelRouter', () => {
  it('resolves in order: alias, explicit provider/model, declared, prefix, catalog', async () => {
    const { router } = setup();
    const cases: Array<[string, string, string, string]> = [
      ['fast', 'openai', 'gpt-4o-mini', 'alias'],
      ['gpt-4o', 'xai', 'grok-3', 'alias'], // an alias beats the gpt- prefix
      ['openai/gpt-4.1', 'xai', 'grok-4', 'alias'], // and an explicit-looking name
      ['local', 'ollama', 'llama3.2:latest', 'alias'],
      ['openai/gpt-4o', 'openai', 'gpt-4o', 'explicit'],
      ['xai/grok-3-mini', 'xai', 'grok-3-mini', 'explicit'],
      ['ollama/llama3.2:latest', 'ollama', 'llama3.2:latest', 'explicit'],
      ['custom/org/model-with/slashes', 'custom', 'org/model-with/slashes', 'explicit'],
      ['gpt-oss-20b', 'custom', 'gpt-oss-20b', 'declared'], // declared beats the gpt- prefix
      ['my-model', 'custom', 'my-model', 'declared'],
      ['gpt-4.1-mini', 'openai', 'gpt-4.1-mini', 'prefix'],
      ['o3', 'openai', 'o3', 'prefix'],
      ['o4-mini', 'openai', 'o4-mini', 'prefix'],
      ['chatgpt-4o-latest', 'openai', 'chatgpt-4o-latest', 'prefix'],
      ['text-embedding-3-small', 'openai', 'text-embedding-3-small', 'prefix'],
      ['grok-4', 'xai', 'grok-4', 'prefix'],
      ['claude-sonnet-4-5', 'anthropic', 'claude-sonnet-4-5', 'prefix'],
      ['gemini-2.5-flash', 'gemini', 'gemini-2.5-flash', 'prefix'],
      ['llama3.2:latest', 'ollama', 'llama3.2:latest', 'catalog'],
      ['listed-by-custom', 'custom', 'listed-by-custom', 'catalog'],
    ];
    for (const [model, provider, upstream, via] of cases) {
      const resolution = await router.resolve(model);
      expect({ model, provider: resolution.provider.id, upstream: resolution.model, via: resolution.via }).toEqual({ model, provider, upstream, via });
    }
  });

  it('only asks local servers for their lists when nothing else matched', async () => {
    const { router, fetched } = setup();
    await router.resolve('gpt-4o-mini');
    await router.resolve('ollama/qwen3:8b');
    expect(fetched).toEqual([]);
    expect(router.resolveCached('qwen3:8b')).toBeNull();
    expect((await router.resolve('qwen3:8b')).provider.id).toBe('ollama');
    expect(fetched.some((url) => url.startsWith('http://127.0.0.1:11111/'))).toBe(true);
    expect(fetched.some((url) => url.startsWith('https://'))).toBe(false);
  });

  it('an unknown model is a 404 model_not_found naming the ways to fix it', async () => {
    const { router } = setup();
    for (const model of ['no-such-model', 'meta-llama/Llama-3-8B', 'nobody/x', 'openai/', 'ghost']) {
      const error = await router.resolve(model).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, model).toBeInstanceOf(GatewayError);
      const gatewayError = error as GatewayError;
      expect(gatewayError.status).toBe(404);
      expect(gatewayError.toBody()).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
      expect(gatewayError.message).toContain(`'${model}'`);
      expect(gatewayError.message).toContain('provider/model');
      expect(gatewayError.message).toContain('--config');
    }
  });
});
