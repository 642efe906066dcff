/** redactSecrets and the redacting adapter: no key survives in text derived from an upstream's answer. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { GatewayError } from '../../src/main/gateway/errors.js';
import type { CoreStreamEvent } from '../../src/main/core/types.js';
import { decodeChatRequest } from '../../src/main/gateway/formats/openai-chat/decode.js';
import { openAICompatibleAdapter } from '../../src/main/gateway/providers/openai-compatible/index.js';
import { adapterFor, coreAdapterFor } from '../../src/main/gateway/providers/registry.js';
import { containsSecret, redactSecrets, redactValue } from '../../src/main/secrets/redact.js';
import { redactGatewayError, redactingCoreAdapter } from '../../src/main/secrets/redacting-adapter.js';

describe('redactSecrets', () => {
  it.each([
    ['Incorrect API key provided: sk-proj-abcdefghijklmnop1234WXYZ.', 'Incorrect API key provided: sk-…WXYZ.'],
    ['header Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123 was refused', 'header Authorization: Bearer abc…0123 was refused'],
    ['GET https://generativelanguage.googleapis.com/v1beta/models?key=AIzaSyA1234567890abcdefghijklmnopqrstu&alt=sse', 'GET https://generativelanguage.googleapis.com/v1beta/models?key=AIz…rstu&alt=sse'],
    ['{"x-goog-api-key":"0123456789abcdefghij"}', '{"x-goog-api-key":"012…ghij"}'],
    ['x-api-key: sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA-BBBB', 'x-api-key: sk-…BBBB'],
    ['invalid key xai-AbCdEfGhIjKlMnOpQrStUvWx', 'invalid key xai-…UvWx'],
    ['groq says gsk_abcdefghijklmnopqrstuvwx1234', 'groq says gsk…1234'],
    ['gateway key sy-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'gateway key sy-…AAAA'],
    ['api_key=abcdefgh12345678', 'api_key=abc…5678'],
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic dXN…ZA=='],
    ['x-switchyard-admin-token: Q2hhbmdlTWVQbGVhc2UwMTIzNDU2Nzg5', 'x-switchyard-admin-token: Q2h…Nzg5'],
  ])('masks %s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it.each([
    'The model `gpt-4o-mini` does not exist or you do not have access to it.',
    'Rate limit reached for requests. Please try again in 20s.',
    'Incorrect API key provided: sk-proj-********************WXYZ.',
    'messages.0.content: field required; see https://docs.anthropic.com/en/api/messages',
    'max_tokens must be at most 8192',
    'a well-known-and-very-long-hyphenated-phrase',
    'Basic information about the model is missing',
    'The bearer of this message is unauthorised',
  ])('leaves ordinary text alone: %s', (input) => {
    expect(redactSecrets(input)).toBe(input);
  });

  it('masks known secrets whatever their shape, also URL-encoded', () => {
    const secret = 'plain0123456789secretvalue/+=';
    const text = `echo ${secret} and ${encodeURIComponent(secret)}`;
    const redacted = redactSecrets(text, [secret, null, undefined, 'short']);
    expect(containsSecret(redacted, secret)).toBe(false);
    expect(redacted).toBe('echo pla…e/+= and pla…e/+=');
  });

  it('redacts nested values', () => {
    const value = { message: 'key sk-abcdefghijklmnopqrstu', nested: [{ detail: 'Bearer abcdefghijklmnop' }], count: 3 };
    expect(JSON.stringify(redactValue(value))).not.toMatch(/abcdefghijklmnop/);
    expect(redactValue(value).count).toBe(3);
  });

  it('keeps a gateway error that holds nothing secret as the same object', () => {
    const error = new GatewayError(429, 'slow down', { headers: { 'retry-after': '1' } });
    expect(redactGatewayError(error, ['sk-abcdefghijkl'])).toBe(error);
    const leaky = new GatewayError(401, 'bad key sk-abcdefghijklmnopqrstuvwxyz', { type: 'authentication_error', code: 'invalid_api_key', headers: { 'retry-after': '2' } });
    const redacted = redactGatewayError(leaky, []);
    expect(redacted.message).toBe('bad key sk-…wxyz');
    expect(redacted).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key', headers: { 'retry-after': '2' } });
  });
});

describe('every adapter, wrapped by the registry, redacts the key from upstream errors', () => {
  const config = loadConfig({ environment: {}, file: { providers: { acme: { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'ACME_API_KEY' } } } });
  const provider = (id: string) => config.providers.find((candidate) => candidate.id === id)!;
  // A key with no recognisable shape: only the literal match can catch it.
  const key = 'Zq8vN3xK0pL7tR2wY5mB9cD4';

  it.each([
    ['openai', 401, JSON.stringify({ error: { message: `Incorrect API key provided: ${key}`, type: 'invalid_request_error', code: 'invalid_api_key', param: null } })],
    ['xai', 400, JSON.stringify({ code: 'Client specified an invalid argument', error: `Incorrect API key provided: ${key}` })],
    ['acme', 500, `upstream exploded while using ${key}`],
    ['anthropic', 401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${key}` } })],
    ['gemini', 400, JSON.stringify({ error: { code: 400, message: `API key not valid: ${key}`, status: 'INVALID_ARGUMENT' } })],
  ])('%s (HTTP %i)', (id, status, body) => {
    const target = { provider: provider(id), model: 'm', apiKey: key };
    const error = adapterFor(target.provider)!.parseError(status, body, {}, target);
    expect(error).toBeInstanceOf(GatewayError);
    expect(JSON.stringify({ message: error.message, body: error.toBody() })).not.toContain(key);
    expect(error.message).toContain('…');
  });

  it.each([
    ['openai', JSON.stringify({ error: { message: `stream failed for ${key}`, type: 'server_error' } })],
    ['gemini', JSON.stringify({ error: { code: 500, message: `stream failed for ${key}`, status: 'INTERNAL' } })],
  ])('and from error events in a stream (%s)', (id, data) => {
    const target = { provider: provider(id), model: 'm', apiKey: key };
    const translator = coreAdapterFor(target.provider)!.createStreamTranslator(target, decodeChatRequest({ model: 'm', messages: [], stream: true }));
    const events: CoreStreamEvent[] = translator.push({ event: null, data, id: null } as never);
    const error = events.find((event) => event.type === 'error');
    expect(error).toBeDefined();
    expect(JSON.stringify(events)).not.toContain(key);
  });

  it('and from a model list failure', async () => {
    const target = { provider: provider('openai'), model: '', apiKey: key };
    const openai = redactingCoreAdapter({
      ...openAICompatibleAdapter,
      listModels: async () => {
        throw new Error(`refused ${key}`);
      },
    });
    await expect(openai.listModels(target, async () => ({ status: 200, json: null }), 1000)).rejects.toThrow('refused Zq8…9cD4');
    const core = redactingCoreAdapter({
      ...coreAdapterFor(provider('gemini'))!,
      listModels: async () => {
        throw new Error(`refused ${key}`);
      },
    });
    await expect(core.listModels({ ...target, provider: provider('gemini') }, async () => ({ status: 200, json: null }), 1000)).rejects.toThrow('refused Zq8…9cD4');
  });

  it('and from a Gemini answer that cannot be read', () => {
    const target = { provider: provider('gemini'), model: 'm', apiKey: key };
    const body = Buffer.from(JSON.stringify({ promptFeedback: { blockReason: 'OTHER', blockReasonMessage: `blocked for ${key}` } }));
    let thrown: unknown;
    try {
      coreAdapterFor(target.provider)!.parseResponse(body, target, decodeChatRequest({ model: 'm', messages: [] }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).message).not.toContain(key);
  });

  it('wraps once', () => {
    const openai = redactingCoreAdapter(openAICompatibleAdapter);
    expect(redactingCoreAdapter(openai)).toBe(openai);
    expect(adapterFor(provider('openai'))).toBe(coreAdapterFor(provider('openai')));
    expect(redactingCoreAdapter(coreAdapterFor(provider('openai'))!)).toBe(coreAdapterFor(provider('openai')));
    const core = coreAdapterFor(provider('gemini'))!;
    expect(redactingCoreAdapter(core)).toBe(core);
    expect(adapterFor(provider('gemini'))).toBe(core);
  });
});
