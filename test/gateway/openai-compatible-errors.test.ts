/**
 * Every error class of the OpenAI-compatible path, through a real gateway and real fakes:
 * client errors (JSON, schema, model), configuration errors, upstream errors (4xx, 5xx,
 * unreachable, timeout, mid-stream, dropped connection), size limits, gateway auth, the
 * Host and Origin checks, and a client that goes away. After each error the gateway must
 * still serve a normal request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../helpers.js';
import { MIDSTREAM_ERROR_MESSAGE, defaultReplyFor, startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { AUTH, closedPort, expectOpenAIError, parseSse, post, rawRequest, recordFor, waitFor, within } from './support.js';

const OPENAI_KEY = 'sk-openai-fake-key-7777';
const XAI_KEY = 'xai-fake-key-7777';
const BODY_LIMIT = 64 * 1024;
const ALLOWED_ORIGIN = 'https://app.example';

/**
 * A deliberately odd OpenAI-compatible upstream (what proxies and half-compatible servers
 * send): behaviour chosen by the requested model name.
 */
async function startOddUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'odd-1', object: 'chat.completion.chunk', created: 1, model: 'odd', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const server = http.createServer((request, response) => {
    let raw = '';
    request.on('data', (piece: Buffer) => (raw += piece.toString('utf8')));
    request.on('end', () => {
      const model = request.url === '/v1/models' ? 'list' : (JSON.parse(raw || '{}') as { model?: string }).model;
      const sse = () => response.writeHead(200, { 'content-type': 'text/event-stream' });
      switch (model) {
        case 'list':
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [] }));
          return;
        case 'html-502':
          response.writeHead(502, { 'content-type': 'text/html', 'x-upstream-secret': 'internal-host-12' }).end('<html><body><h1>502 Bad Gateway</h1>nginx internal-host-12</body></html>');
          return;
        case 'detail-422':
          response.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: [{ loc: ['body', 'messages'], msg: 'field required' }] }));
          return;
        case 'overloaded-529':
          response.writeHead(529, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Overloaded', type: 'overloaded_error' } }));
          return;
        case 'bad-json':
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [ oops');
          return;
        case 'stream-garbage':
          sse();
          response.end(chunk({ role: 'assistant', content: 'a' }) + 'data: {not json\n\n');
          return;
        case 'stream-no-done':
          sse();
          response.end(chunk({ role: 'assistant', content: 'done' }) + chunk({}, 'stop'));
          return;
        case 'stream-eof':
          sse();
          response.end(chunk({ role: 'assistant', content: 'cut' }));
          return;
        default:
          response.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let odd: Awaited<ReturnType<typeof startOddUpstream>>;
let openai: OpenAIFake;
let xai: OpenAIFake;
let ollama: OpenAIFake;
let hangFake: OpenAIFake;
/** Fully configured. */
let gw: TestGateway;
/** No provider keys at all. */
let noKeys: TestGateway;
/** Wrong OpenAI and xAI keys. */
let wrongKeys: TestGateway;
/** A provider with a 0.5 s timeout, xAI and a custom provider on closed ports, an odd upstream. */
let trouble: TestGateway;
/** auth: false (the `--no-auth` equivalent). */
let noAuth: TestGateway;

beforeAll(async () => {
  [openai, xai, ollama, hangFake] = await Promise.all([
    startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY }),
    startOpenAIFake({ flavor: 'xai', apiKey: XAI_KEY }),
    startOpenAIFake({ flavor: 'ollama' }),
    startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY }),
  ]);
  odd = await startOddUpstream();
  const [deadPort, deadXaiPort] = [await closedPort(), await closedPort()];
  const fullEnvironment = { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url, XAI_API_KEY: XAI_KEY, XAI_BASE_URL: xai.url, OLLAMA_BASE_URL: ollama.url };
  [gw, noKeys, wrongKeys, trouble, noAuth] = await Promise.all([
    startTestGateway({ environment: fullEnvironment, file: { bodyLimitBytes: BODY_LIMIT, allowedOrigins: [ALLOWED_ORIGIN], aliases: { 'cheap%': 'gpt-4o-mini' } } }),
    startTestGateway({ environment: { OPENAI_BASE_URL: openai.url, XAI_BASE_URL: xai.url, OLLAMA_BASE_URL: ollama.url } }),
    startTestGateway({
      environment: { OPENAI_API_KEY: 'sk-wrong-key-0000', OPENAI_BASE_URL: openai.url, XAI_API_KEY: 'xai-wrong-key-0000', XAI_BASE_URL: xai.url, OLLAMA_BASE_URL: ollama.url },
    }),
    startTestGateway({
      environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: hangFake.url, XAI_API_KEY: XAI_KEY, XAI_BASE_URL: `http://127.0.0.1:${deadXaiPort}/v1` },
      file: {
        providers: {
          // a provider with a 0.5 s timeout in front of the same fake (openai itself keeps the default)
          slowpoke: { baseUrl: hangFake.url, apiKeyEnv: 'OPENAI_API_KEY', timeoutSeconds: 0.5 },
          deadend: { baseUrl: `http://127.0.0.1:${deadPort}/v1`, models: ['dead-model'] },
          odd: { baseUrl: odd.url },
        },
      },
    }),
    startTestGateway({ environment: fullEnvironment, auth: false }),
  ]);
});

afterAll(async () => {
  await Promise.all([gw, noKeys, wrongKeys, trouble, noAuth].map((gateway) => gateway?.close()));
  await Promise.all([openai, xai, ollama, hangFake, odd].map((fake) => fake?.close()));
});

/** A normal request still works on this gateway (after an error case). */
async function expectHealthy(gateway: TestGateway, model = 'gpt-4o-mini', flavor: 'openai' | 'ollama' = 'openai'): Promise<void> {
  const data = await gateway.client().chat.completions.create({ model, messages: [{ role: 'user', content: 'still there?' }] });
  expect(data.choices[0]!.message.content).toBe(defaultReplyFor(flavor, 'still there?'));
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of await gateway.client().chat.completions.create({ model, messages: [{ role: 'user', content: 'stream?' }], stream: true })) chunks.push(chunk);
  expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(defaultReplyFor(flavor, 'stream?'));
}

async function caught(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('client errors → 400/404 naming the field', () => {
  afterEach(() => expectHealthy(gw));

  it('invalid JSON → 400 invalid_json', async () => {
    const response = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: AUTH, body: '{"model": "gpt-4o-mini", "messages": [' });
    expectOpenAIError(response, 400, { type: 'invalid_request_error', code: 'invalid_json', param: null, message: 'JSON' });
  });

  it('an empty body and a non-object body → 400', async () => {
    const empty = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, 'content-type': 'application/json', 'content-length': '0' } });
    expectOpenAIError(empty, 400, { type: 'invalid_request_error' });
    const none = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: AUTH });
    const error = expectOpenAIError(none, 400, { type: 'invalid_request_error' });
    expect(error.message).not.toContain('undefined');
    expectOpenAIError(await post(gw, '/v1/chat/completions', [1, 2]), 400, { type: 'invalid_request_error' });
  });

  it('missing messages → 400 param messages (SDK BadRequestError)', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'gpt-4o-mini' } as never));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'messages', code: 'missing_required_parameter' });
    expectOpenAIError(await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini' }), 400, { param: 'messages' });
  });

  it('a bad role → 400 param messages[1].role', async () => {
    const response = await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a' }, { role: 'wizard', content: 'b' }] });
    expectOpenAIError(response, 400, { type: 'invalid_request_error', param: 'messages[1].role', message: 'wizard' });
  });

  it('temperature out of range → 400 param temperature', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: hello, temperature: 3 }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe('temperature');
    expectOpenAIError(await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello, temperature: 'hot' }), 400, { param: 'temperature' });
  });

  it('stream_options without stream → 400 param stream_options', async () => {
    const before = openai.requests.length;
    const response = await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello, stream_options: { include_usage: true } });
    expectOpenAIError(response, 400, { param: 'stream_options' });
    expect(openai.requests.length).toBe(before);
  });

  it('embeddings schema errors name the field', async () => {
    expectOpenAIError(await post(gw, '/v1/embeddings', { model: 'text-embedding-3-small' }), 400, { param: 'input' });
    expectOpenAIError(await post(gw, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'x', encoding_format: 'hex' }), 400, { param: 'encoding_format' });
  });

  it('unknown model → 404 model_not_found (SDK NotFoundError), also for embeddings and streams', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'no-such-model-anywhere', messages: hello }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(error.message).toContain('no-such-model-anywhere');
    expectOpenAIError(await post(gw, '/v1/chat/completions', { model: 'nope', messages: hello, stream: true }), 404, { code: 'model_not_found' });
    expectOpenAIError(await post(gw, '/v1/embeddings', { model: 'nope', input: 'x' }), 404, { code: 'model_not_found' });
    const record = await recordFor(gw, error.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ status: 'error', httpStatus: 404, requestedModel: 'no-such-model-anywhere', provider: null });
  });

  it('unknown path → 404 in OpenAI shape', async () => {
    expectOpenAIError(await rawRequest(gw.origin, { path: '/v1/completions-old', headers: AUTH }), 404, { code: 'unknown_url' });
    expectOpenAIError(await rawRequest(gw.origin, { path: '/nothing-here', headers: AUTH }), 404, { code: 'unknown_url' });
    // Deny by default: without a key even an unknown path answers 401, revealing nothing.
    expectOpenAIError(await rawRequest(gw.origin, { path: '/nothing-here' }), 401);
    expectOpenAIError(await rawRequest(gw.origin, { method: 'DELETE', path: '/v1/models', headers: AUTH }), 404);
  });

  it('a URL the router cannot decode → 400 in OpenAI shape; model ids are decoded exactly once', async () => {
    for (const path of ['/v1/models/x%zz', '/v1/models/%E0%A4%A', '/v1/chat/%ZZ']) {
      expectOpenAIError(await rawRequest(gw.origin, { path, headers: AUTH }), 400, { code: 'invalid_url' });
    }
    expectOpenAIError(await rawRequest(gw.origin, { path: `/v1/models/${'m'.repeat(600)}`, headers: AUTH }), 404, { code: 'model_not_found' });
    const percent = await rawRequest(gw.origin, { path: `/v1/models/${encodeURIComponent('cheap%')}`, headers: AUTH });
    expect(percent.status).toBe(200);
    expect(percent.json.id).toBe('cheap%');
    expect((await gw.client().models.retrieve('cheap%')).id).toBe('cheap%');
    // '%252F' is a literal "%2F" in the id, not a slash
    expectOpenAIError(await rawRequest(gw.origin, { path: '/v1/models/openai%252Fgpt-4.1', headers: AUTH }), 404, { message: "'openai%2Fgpt-4.1'" });
  });

  it('body too large → 413 in OpenAI shape', async () => {
    const big = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT + 10) }] };
    const response = await post(gw, '/v1/chat/completions', big);
    expectOpenAIError(response, 413, { code: 'request_too_large', message: String(BODY_LIMIT) });
    // without a content-length (chunked upload) the limit holds too
    const chunked = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, 'transfer-encoding': 'chunked' }, body: big });
    expectOpenAIError(chunked, 413, { code: 'request_too_large' });
    const error = await caught(gw.client().chat.completions.create(big as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming));
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(413);
  });
});

describe('configuration errors', () => {
  it('a provider without its key → 404 saying which variable to set', async () => {
    const error = await caught(noKeys.client().chat.completions.create({ model: 'gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'provider_not_configured', param: 'model' });
    expect(error.message).toContain('OPENAI_API_KEY');
    const xaiResponse = await post(noKeys, '/v1/chat/completions', { model: 'grok-3', messages: hello });
    expectOpenAIError(xaiResponse, 404, { code: 'provider_not_configured', message: 'XAI_API_KEY' });
    expectOpenAIError(await post(noKeys, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }), 404, { message: 'OPENAI_API_KEY' });
    expect(openai.requests.some((request) => request.headers.authorization === undefined && request.path === '/v1/chat/completions')).toBe(false);
    await expectHealthy(noKeys, 'llama3.2:latest', 'ollama');
  });

  it('a key for one request (x-provider-api-key) makes the provider usable', async () => {
    const data = await noKeys.client({ defaultHeaders: { 'x-provider-api-key': OPENAI_KEY } }).chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(data.choices[0]!.message.content).toBe(defaultReplyFor('openai', 'hello'));
  });

  it('/v1/models lists only usable providers', async () => {
    const response = await rawRequest(noKeys.origin, { path: '/v1/models', headers: AUTH });
    const ids = response.json.data.map((model: { id: string }) => model.id);
    expect(ids).toContain('llama3.2:latest');
    expect(ids).not.toContain('gpt-4.1');
    expect(ids).not.toContain('grok-3');
  });
});

describe('upstream errors', () => {
  afterEach(() => expectHealthy(gw));

  it('429 → 429 with retry-after passed on (SDK RateLimitError), JSON and stream', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[error:429] hi' }] }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.status).toBe(429);
    expect(error.headers.get('retry-after')).toBe('1');
    expect(error.message).toContain('Rate limit reached');
    for (const stream of [false, true]) {
      const response = await post(gw, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[error:429] hi' }], stream });
      expectOpenAIError(response, 429, { code: 'rate_limit_exceeded' });
      expect(response.headers['retry-after']).toBe('1');
      // upstream headers are not passed on wholesale
      expect(response.headers['openai-version']).toBeUndefined();
      expect(response.headers['x-request-id']).toBeUndefined();
    }
    const xaiResponse = await post(gw, '/v1/chat/completions', { model: 'grok-3', messages: [{ role: 'user', content: '[error:429] hi' }] });
    expectOpenAIError(xaiResponse, 429, { message: 'exceeded the rate limit' });
    expect(xaiResponse.headers['retry-after']).toBe('1');
    const record = await recordFor(gw, error.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ status: 'error', httpStatus: 429, provider: 'openai' });
  });

  it('upstream 500 → 500 server_error (SDK InternalServerError)', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[error:500] hi' }] }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(500);
    const xaiResponse = await post(gw, '/v1/chat/completions', { model: 'grok-3', messages: [{ role: 'user', content: '[error:500] hi' }] });
    expectOpenAIError(xaiResponse, 500, { type: 'server_error', message: 'xAI' });
  });

  it('upstream 404 for a model the upstream does not have → 404 passed on', async () => {
    const response = await post(gw, '/v1/chat/completions', { model: 'gpt-9-imaginary', messages: hello });
    expectOpenAIError(response, 404, { code: 'model_not_found' });
    const xaiResponse = await post(gw, '/v1/chat/completions', { model: 'grok-99', messages: hello });
    expectOpenAIError(xaiResponse, 404, { message: 'grok-99' });
  });

  it('upstream 400 (a parameter the upstream rejects) → 400 with its param', async () => {
    const response = await post(gw, '/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'user', content: 'hi' }],
    });
    expectOpenAIError(response, 400, { type: 'invalid_request_error', message: 'tool_call_ids' });
  });

  it('mid-stream error → the SDK iterator throws an APIError and no [DONE] is sent', async () => {
    const stream = await gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[error:midstream] go' }], stream: true });
    let received = 0;
    const error = await caught(
      (async () => {
        for await (const _chunk of stream) received++;
      })(),
    );
    expect(error).toBeInstanceOf(APIError);
    expect(error.message).toContain(MIDSTREAM_ERROR_MESSAGE);
    expect(received).toBeGreaterThan(0);

    for (const model of ['gpt-4o-mini', 'grok-3', 'llama3.2:latest']) {
      const response = await post(gw, '/v1/chat/completions', { model, messages: [{ role: 'user', content: '[error:midstream] go' }], stream: true });
      expect(response.status, model).toBe(200);
      expect(response.text, model).not.toContain('[DONE]');
      const frames = parseSse(response.text) as Array<Record<string, any>>;
      const last = frames.at(-1)!;
      expect(Object.keys(last), model).toEqual(['error']);
      expect(Object.keys(last.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(last.error.message, model).toContain(MIDSTREAM_ERROR_MESSAGE);
      expect(frames.some((frame) => frame.choices?.[0]?.finish_reason), model).toBe(false);
      // xAI's "code" is a sentence ("Internal error"), not an OpenAI error code
      expect(last.error.code === null || /^[A-Za-z_][\w.-]*$/.test(last.error.code), `${model}: code ${last.error.code}`).toBe(true);
      const record = await recordFor(gw, response.headers['x-switchyard-request-id'] as string);
      expect(record, model).toMatchObject({ status: 'error', stream: true });
      expect(record.errorMessage, model).toContain(MIDSTREAM_ERROR_MESSAGE);
    }
  });

  it('a dropped upstream connection → an error frame, not a clean finish', async () => {
    for (const model of ['gpt-4o-mini', 'llama3.2:latest']) {
      const response = await post(gw, '/v1/chat/completions', { model, messages: [{ role: 'user', content: '[drop] go' }], stream: true, stream_options: { include_usage: true } });
      expect(response.status).toBe(200);
      expect(response.text, model).not.toContain('[DONE]');
      const frames = parseSse(response.text) as Array<Record<string, any>>;
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.at(-1)!.error, model).toMatchObject({ type: expect.any(String) });
      expect(frames.some((frame) => frame.choices?.[0]?.finish_reason)).toBe(false);
      const record = await recordFor(gw, response.headers['x-switchyard-request-id'] as string);
      expect(record.status).toBe('error');
      expect(record.httpStatus).toBeGreaterThanOrEqual(500);
    }
    const stream = await gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[drop] go' }], stream: true });
    const error = await caught(
      (async () => {
        for await (const _chunk of stream) void _chunk;
      })(),
    );
    expect(error).toBeInstanceOf(APIError);
  });

  it('wrong OpenAI key → 401 (SDK AuthenticationError); xAI "Incorrect API key" 400 → 401 in OpenAI shape', async () => {
    const error = await caught(wrongKeys.client().chat.completions.create({ model: 'gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(error.message).toContain('Incorrect API key');
    for (const stream of [false, true]) {
      const response = await post(wrongKeys, '/v1/chat/completions', { model: 'grok-3', messages: hello, stream });
      const body = expectOpenAIError(response, 401, { code: 'invalid_api_key', message: 'Incorrect API key' });
      expect(body.type).toBe('authentication_error');
      expect(body.message).not.toContain('xai-wrong-key-0000');
    }
    const xaiError = await caught(wrongKeys.client().chat.completions.create({ model: 'grok-3', messages: hello }));
    expect(xaiError).toBeInstanceOf(AuthenticationError);
    await expectHealthy(wrongKeys, 'llama3.2:latest', 'ollama');
  });

  it('upstream unreachable → 502', async () => {
    for (const model of ['deadend/anything', 'dead-model', 'grok-3']) {
      for (const stream of [false, true]) {
        const response = await post(trouble, '/v1/chat/completions', { model, messages: hello, stream });
        expectOpenAIError(response, 502, { code: 'upstream_unreachable', message: '127.0.0.1' });
      }
    }
    const error = await caught(trouble.client().embeddings.create({ model: 'deadend/embed', input: 'x' }));
    expect(error.status).toBe(502);
    await expectHealthy(trouble);
  });

  it('odd upstream answers are normalised, never passed on raw', async () => {
    const html = await post(trouble, '/v1/chat/completions', { model: 'odd/html-502', messages: hello });
    const htmlError = expectOpenAIError(html, 502);
    expect(htmlError.message).not.toContain('<html');
    expect(html.text).not.toContain('internal-host-12');
    expect(html.headers['x-upstream-secret']).toBeUndefined();
    expectOpenAIError(await post(trouble, '/v1/chat/completions', { model: 'odd/detail-422', messages: hello }), 422);
    expectOpenAIError(await post(trouble, '/v1/chat/completions', { model: 'odd/overloaded-529', messages: hello }), 503, { message: 'Overloaded' });
    expectOpenAIError(await post(trouble, '/v1/chat/completions', { model: 'odd/bad-json', messages: hello }), 502, { code: 'bad_upstream_response' });
  });

  it('odd upstream streams: garbage and a cut-off stream end in an error frame; finish without [DONE] is complete', async () => {
    for (const model of ['odd/stream-garbage', 'odd/stream-eof']) {
      const response = await post(trouble, '/v1/chat/completions', { model, messages: hello, stream: true });
      expect(response.status).toBe(200);
      const frames = parseSse(response.text);
      expect(frames, model).not.toContain('[DONE]');
      expect(Object.keys(frames.at(-1) as object), model).toEqual(['error']);
      expect(Object.keys((frames.at(-1) as any).error).sort()).toEqual(['code', 'message', 'param', 'type']);
    }
    const complete = await post(trouble, '/v1/chat/completions', { model: 'odd/stream-no-done', messages: hello, stream: true });
    const frames = parseSse(complete.text);
    expect(frames.at(-1)).toBe('[DONE]');
    expect((frames.at(-2) as any).choices[0].finish_reason).toBe('stop');
  });

  it('upstream timeout ([hang], timeoutSeconds 0.5) → 504', async () => {
    for (const stream of [false, true]) {
      const started = Date.now();
      const response = await post(trouble, '/v1/chat/completions', { model: 'slowpoke/gpt-4o-mini', messages: [{ role: 'user', content: '[hang] wait' }], stream });
      expectOpenAIError(response, 504, { code: 'upstream_timeout' });
      expect(Date.now() - started).toBeLessThan(10_000);
      const record = await recordFor(trouble, response.headers['x-switchyard-request-id'] as string);
      expect(record).toMatchObject({ status: 'error', httpStatus: 504 });
    }
    await expectHealthy(trouble);
  });
});

describe('gateway auth', () => {
  afterEach(() => expectHealthy(gw));

  it('no key → 401; wrong key → 401 (SDK AuthenticationError); the key never echoed', async () => {
    const before = openai.requests.length;
    const none = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: hello } });
    expectOpenAIError(none, 401, { code: 'missing_api_key' });
    const wrong = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer sy-not-the-key-123456' }, body: { model: 'gpt-4o-mini', messages: hello } });
    const body = expectOpenAIError(wrong, 401, { code: 'invalid_api_key' });
    expect(body.message).not.toContain('sy-not-the-key-123456');
    const error = await caught(gw.client({ apiKey: 'sy-not-the-key-123456' }).models.list());
    expect(error).toBeInstanceOf(AuthenticationError);
    expectOpenAIError(await rawRequest(gw.origin, { path: '/v1/models' }), 401);
    expectOpenAIError(await rawRequest(gw.origin, { path: '/v1/models/gpt-4.1' }), 401);
    expectOpenAIError(await rawRequest(gw.origin, { method: 'POST', path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: 'x' } }), 401);
    // nothing reached the upstream
    expect(openai.requests.length).toBe(before);
  });

  it('a percent-encoded or odd path cannot skip the key check', async () => {
    for (const path of ['/%761/models', '/%76%31/chat/completions', '/v%31/models', '//v1/models', '/v1/models?x=/', '/./v1/models']) {
      const response = await rawRequest(gw.origin, { method: path.endsWith('models') ? 'GET' : 'POST', path, body: path.endsWith('models') ? undefined : { model: 'gpt-4o-mini', messages: hello } });
      expect([401, 404], path).toContain(response.status);
      expectOpenAIError(response, response.status);
    }
  });

  it('x-api-key is accepted', async () => {
    const response = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { 'x-api-key': GATEWAY_KEY }, body: { model: 'gpt-4o-mini', messages: hello } });
    expect(response.status).toBe(200);
    expect(response.json.choices[0].message.content).toBe(defaultReplyFor('openai', 'hello'));
  });

  it('/health needs no key', async () => {
    const response = await rawRequest(gw.origin, { path: '/health' });
    expect(response.status).toBe(200);
  });

  it('auth: false (--no-auth) serves without any key', async () => {
    const response = await rawRequest(noAuth.origin, { method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: hello } });
    expect(response.status).toBe(200);
    const data = await noAuth.client({ apiKey: 'anything' }).chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(data.choices[0]!.message.content).toBe(defaultReplyFor('openai', 'hello'));
    const record = await waitFor(() => noAuth.records.at(-1), 'record');
    expect(record.gatewayKeyId).toBeNull();
    // the Host check still applies without auth
    expectOpenAIError(await rawRequest(noAuth.origin, { path: '/v1/models', headers: { host: 'evil.com' } }), 403, { code: 'host_not_allowed' });
  });
});

describe('Host and Origin checks', () => {
  afterEach(() => expectHealthy(gw));

  it('refuses DNS-rebinding Host names with 403, accepts loopback ones', async () => {
    const port = new URL(gw.origin).port;
    for (const host of ['evil.com', `evil.com:${port}`, `127.0.0.1.evil.com:${port}`, `localhost.evil.com:${port}`, 'attacker.example:80']) {
      const response = await rawRequest(gw.origin, { path: '/v1/models', headers: { ...AUTH, host } });
      expectOpenAIError(response, 403, { type: 'permission_error', code: 'host_not_allowed' });
      const chat = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, host }, body: { model: 'gpt-4o-mini', messages: hello } });
      expectOpenAIError(chat, 403, { code: 'host_not_allowed' });
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `127.0.0.5:${port}`, `app.localhost:${port}`, '127.0.0.1']) {
      const response = await rawRequest(gw.origin, { path: '/v1/models', headers: { ...AUTH, host } });
      expect(response.status, host).toBe(200);
    }
  });

  it('refuses a foreign browser Origin with 403, even with a valid key', async () => {
    const response = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, origin: 'https://evil.example' }, body: { model: 'gpt-4o-mini', messages: hello } });
    expectOpenAIError(response, 403, { code: 'origin_not_allowed', message: 'allowedOrigins' });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await rawRequest(gw.origin, {
      method: 'OPTIONS',
      path: '/v1/chat/completions',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an allowed origin gets CORS headers (JSON and streaming) and a 204 preflight', async () => {
    const preflight = await rawRequest(gw.origin, {
      method: 'OPTIONS',
      path: '/v1/chat/completions',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    expect(preflight.headers['access-control-allow-headers']).toContain('content-type');

    const json = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, origin: ALLOWED_ORIGIN }, body: { model: 'gpt-4o-mini', messages: hello } });
    expect(json.status).toBe(200);
    expect(json.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);

    const stream = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { ...AUTH, origin: ALLOWED_ORIGIN }, body: { model: 'gpt-4o-mini', messages: hello, stream: true } });
    expect(stream.status).toBe(200);
    expect(stream.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(parseSse(stream.text).at(-1)).toBe('[DONE]');
    // The stream's own headers beside those set before it began, each once (a repeated one would read "a, b").
    expect(stream.headers).toMatchObject({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', 'x-switchyard-model': 'gpt-4o-mini' });
    expect(stream.headers['x-switchyard-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(stream.headers['x-switchyard-provider']).toMatch(/^[a-z-]+$/);

    // an error answer to an allowed origin is readable by the page too
    const error = await rawRequest(gw.origin, { method: 'POST', path: '/v1/chat/completions', headers: { origin: ALLOWED_ORIGIN }, body: { model: 'gpt-4o-mini', messages: hello } });
    expectOpenAIError(error, 401);
    expect(error.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
  });

  it("the gateway's own origin is accepted", async () => {
    const response = await rawRequest(gw.origin, { path: '/v1/models', headers: { ...AUTH, origin: gw.origin } });
    expect(response.status).toBe(200);
  });
});

describe('client abort', () => {
  afterEach(() => expectHealthy(gw));

  it('SDK stream aborted after the first chunk → the upstream request is aborted at once, record cancelled', async () => {
    const controller = new AbortController();
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[slow] take your time' }], stream: true }, { signal: controller.signal })
      .withResponse();
    const id = response.headers.get('x-switchyard-request-id');
    let received = 0;
    for await (const chunk of stream) {
      received++;
      expect(chunk.choices[0]!.delta.role).toBe('assistant');
      controller.abort();
      break;
    }
    expect(received).toBe(1);
    await within(openai.waitForAbort(), 3_000, 'the upstream abort');
    const record = await recordFor(gw, id);
    expect(record).toMatchObject({ status: 'cancelled', stream: true, provider: 'openai' });
    expect(record.endedAt - record.startedAt).toBeLessThan(5_000);
  });

  it('fetch + AbortController after the first bytes → upstream aborted, record cancelled', async () => {
    const controller = new AbortController();
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[slow] again' }], stream: true }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"');
    controller.abort();
    await reader.read().catch(() => undefined);
    await within(openai.waitForAbort(), 3_000, 'the upstream abort');
    const record = await recordFor(gw, response.headers.get('x-switchyard-request-id'));
    expect(record.status).toBe('cancelled');
  });

  it('a non-streaming client that leaves is recorded as cancelled', async () => {
    const controller = new AbortController();
    const before = gw.records.length;
    const pending = gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[hang] json please' }] }, { signal: controller.signal })
      .catch((error: unknown) => error);
    await waitFor(() => openai.requests.some((request) => request.body?.messages?.[0]?.content === '[hang] json please'), 'the upstream request');
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    const record = await waitFor(() => gw.records.slice(before).find((candidate) => (candidate.requestBody as any)?.messages?.[0]?.content === '[hang] json please'), 'the record');
    expect(record).toMatchObject({ status: 'cancelled', stream: false, provider: 'openai' });
  });

  it('a client that leaves before the upstream answered ([hang] stream) aborts the upstream too', async () => {
    const controller = new AbortController();
    const pending = fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '[hang] forever' }], stream: true }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    const before = gw.records.length;
    await waitFor(() => openai.requests.some((request) => request.body?.messages?.[0]?.content === '[hang] forever'), 'the upstream request');
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await within(openai.waitForAbort(), 3_000, 'the upstream abort');
    const record = await waitFor(() => gw.records.slice(before).find((candidate) => (candidate.requestBody as any)?.messages?.[0]?.content === '[hang] forever'), 'the record');
    expect(record.status).toBe('cancelled');
  });
});
