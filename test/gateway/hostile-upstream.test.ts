/**
 * Upstreams that answer badly on purpose, through a real gateway and the openai SDK: one
 * endless SSE line, a 50 MB JSON answer, a 50 MB error body, a connection reset mid-body,
 * a broken chunked encoding, a connection closed before any answer. Each must end in a
 * clean OpenAI-shaped error that names what happened (never "unreachable" once the
 * upstream had answered), without the gateway holding the whole answer in memory, and
 * the gateway must go on serving.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { APIError } from 'openai';
import { startTestGateway, type TestGateway } from '../helpers.js';
import { defaultReplyFor, startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { expectOpenAIError, parseSse, post, recordFor } from './support.js';
import { DEFAULT_MAX_RESPONSE_BYTES, MAX_ERROR_BODY_BYTES } from '../../src/main/gateway/routing/upstream-client.js';
import { DEFAULT_MAX_SSE_EVENT_SIZE } from '../../src/main/gateway/sse/decoder.js';

const OPENAI_KEY = 'sk-openai-fake-key-hostile';
const FIFTY_MB = 50 * 1024 * 1024;
const hello = [{ role: 'user' as const, content: 'hello' }];

const chunkFrame = (delta: object, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'h-1', object: 'chat.completion.chunk', created: 1, model: 'h', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const completion = (content: string): string =>
  JSON.stringify({ id: 'h-1', object: 'chat.completion', created: 1, model: 'h', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });

/** Writes `total` bytes of `fill` in 64 KiB pieces, honouring back-pressure; stops when the peer goes away. Resolves with what was written. */
async function writeMany(target: NodeJS.WritableStream & { destroyed: boolean }, total: number, fill = 'x'): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, fill);
  let written = 0;
  while (written < total && !target.destroyed) {
    const slice = piece.subarray(0, Math.min(piece.length, total - written));
    written += slice.length;
    if (!target.write(slice)) {
      const stillOpen = await new Promise<boolean>((resolve) => {
        const onDrain = (): void => {
          target.off('close', onClose);
          resolve(true);
        };
        const onClose = (): void => {
          target.off('drain', onDrain);
          resolve(false);
        };
        target.once('drain', onDrain);
        target.once('close', onClose);
      });
      if (!stillOpen) break;
    }
  }
  return written;
}

interface Hostile {
  url: string;
  /** Bytes the last huge answer managed to write before the gateway hung up. */
  lastWritten: number;
  close(): Promise<void>;
}

/** The upstream: what it does is chosen by the requested model name. */
async function startHostileUpstream(): Promise<Hostile> {
  const state = { lastWritten: 0 };
  const server = http.createServer((request, response) => {
    let raw = '';
    request.on('data', (piece: Buffer) => (raw += piece.toString('utf8')));
    request.on('end', () => {
      const socket = request.socket;
      socket.on('error', () => {});
      response.on('error', () => {});
      const model = request.url === '/v1/models' ? 'list' : (JSON.parse(raw || '{}') as { model?: string }).model;
      const sse = (): void => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
      };
      const run = async (): Promise<void> => {
        switch (model) {
          case 'list':
            response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [] }));
            return;
          case 'ok':
            response.writeHead(200, { 'content-type': 'application/json' }).end(completion('fine'));
            return;
          case 'ok-stream':
            sse();
            response.end(chunkFrame({ role: 'assistant', content: 'fine' }) + chunkFrame({}, 'stop') + 'data: [DONE]\n\n');
            return;
          case 'huge-sse-line':
            // One event that never ends: past the 16 MiB cap (and then some).
            sse();
            response.write(chunkFrame({ role: 'assistant', content: 'a' }));
            response.write('data: {"choices":[{"index":0,"delta":{"content":"');
            state.lastWritten = await writeMany(response, DEFAULT_MAX_SSE_EVENT_SIZE + 48 * 1024 * 1024);
            response.end('"}}]}\n\n');
            return;
          case 'huge-json':
            // 50 MB, no content-length: only counting the bytes as they come can stop it.
            response.writeHead(200, { 'content-type': 'application/json' });
            response.write('{"id":"h-1","object":"chat.completion","created":1,"model":"h","choices":[{"index":0,"message":{"role":"assistant","content":"');
            state.lastWritten = await writeMany(response, FIFTY_MB);
            response.end('"},"finish_reason":"stop"}]}');
            return;
          case 'huge-json-declared':
            // Declared up front: refused on the header, before reading the body.
            response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(FIFTY_MB) });
            state.lastWritten = await writeMany(response, FIFTY_MB);
            response.end();
            return;
          case 'huge-error':
            response.writeHead(500, { 'content-type': 'application/json' });
            response.write('{"error":{"message":"boom');
            state.lastWritten = await writeMany(response, FIFTY_MB);
            response.end('"}}');
            return;
          case 'reset-mid-body':
            response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
            response.write('{"id":"h-1","choices":[');
            setTimeout(() => socket.resetAndDestroy(), 30);
            return;
          case 'reset-mid-stream':
            sse();
            response.write(chunkFrame({ role: 'assistant', content: 'partial' }));
            setTimeout(() => socket.resetAndDestroy(), 30);
            return;
          case 'broken-chunked':
            // Raw bytes: a valid chunk, then a chunk size that is not hexadecimal.
            socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"id"\r\nZZZ\r\nxx\r\n');
            return;
          case 'broken-chunked-stream': {
            const frame = chunkFrame({ role: 'assistant', content: 'partial' });
            socket.write(
              `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\nnot-a-size\r\n`,
            );
            return;
          }
          case 'close-before-answer':
            socket.destroy();
            return;
          default:
            response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `unknown model ${model}` } }));
        }
      };
      void run();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get lastWritten() {
      return state.lastWritten;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let hostile: Hostile;
let openai: OpenAIFake;
let gw: TestGateway;

beforeAll(async () => {
  [hostile, openai] = await Promise.all([startHostileUpstream(), startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY })]);
  gw = await startTestGateway({
    environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url },
    file: { providers: { hostile: { baseUrl: hostile.url } } },
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([hostile?.close(), openai?.close()]);
});

/** The gateway still answers, from the same hostile upstream and from another one, JSON and stream. */
async function expectHealthy(): Promise<void> {
  const client = gw.client();
  const same = await client.chat.completions.create({ model: 'hostile/ok', messages: hello });
  expect(same.choices[0]!.message.content).toBe('fine');
  let streamed = '';
  for await (const chunk of await client.chat.completions.create({ model: 'hostile/ok-stream', messages: hello, stream: true })) streamed += chunk.choices[0]?.delta.content ?? '';
  expect(streamed).toBe('fine');
  const other = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] });
  expect(other.choices[0]!.message.content).toBe(defaultReplyFor('openai', 'still there?'));
}

async function caught(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Reads a stream with the SDK to its end; resolves with the error it threw and what arrived before. */
async function sdkStreamError(model: string): Promise<{ error: any; received: number }> {
  const stream = await gw.client().chat.completions.create({ model, messages: hello, stream: true });
  let received = 0;
  const error = await caught(
    (async () => {
      for await (const _chunk of stream) received++;
    })(),
  );
  return { error, received };
}

/** A raw streaming request: the last frame must be an OpenAI-shaped error, no [DONE], no finish. */
async function expectErrorFrame(model: string, expected: { code: string; message: string | RegExp }): Promise<Record<string, any>> {
  const response = await post(gw, '/v1/chat/completions', { model, messages: hello, stream: true });
  expect(response.status).toBe(200);
  expect(response.text).not.toContain('[DONE]');
  const frames = parseSse(response.text) as Array<Record<string, any>>;
  const last = frames.at(-1)!;
  expect(Object.keys(last)).toEqual(['error']);
  expect(Object.keys(last.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(last.error.code).toBe(expected.code);
  expect(last.error.type).toBe('upstream_error');
  if (typeof expected.message === 'string') expect(last.error.message).toContain(expected.message);
  else expect(last.error.message).toMatch(expected.message);
  expect(last.error.message).not.toContain('unreachable');
  expect(frames.some((frame) => frame.choices?.[0]?.finish_reason)).toBe(false);
  const record = await recordFor(gw, response.headers['x-switchyard-request-id'] as string);
  expect(record).toMatchObject({ status: 'error', stream: true, httpStatus: 502 });
  return last.error;
}

describe('hostile upstreams', () => {
  afterEach(() => expectHealthy(), 30_000);

  it('an SSE line beyond the 16 MiB event cap → an error frame naming the limit; the upstream connection is dropped', async () => {
    const { error, received } = await sdkStreamError('hostile/huge-sse-line');
    expect(error).toBeInstanceOf(APIError);
    expect(error.message).toContain('16 MiB');
    expect(received).toBeGreaterThan(0); // what came before the bad event reached the client
    const body = await expectErrorFrame('hostile/huge-sse-line', { code: 'upstream_event_too_large', message: /streamed an event larger than 16 MiB \(16777216 characters\)/ });
    expect(body.message).toContain('hostile');
    // the gateway hung up instead of reading the rest
    expect(hostile.lastWritten).toBeLessThan(DEFAULT_MAX_SSE_EVENT_SIZE + 48 * 1024 * 1024);
  }, 60_000);

  it('a 50 MB JSON answer → 502 naming the 32 MiB limit, read no further than that', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'hostile/huge-json', messages: hello }));
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_response_too_large');
    expect(error.message).toContain(`larger than ${DEFAULT_MAX_RESPONSE_BYTES} bytes (32 MiB)`);
    expect(hostile.lastWritten).toBeLessThan(FIFTY_MB);

    const response = await post(gw, '/v1/chat/completions', { model: 'hostile/huge-json', messages: hello });
    expectOpenAIError(response, 502, { type: 'upstream_error', code: 'upstream_response_too_large', message: String(DEFAULT_MAX_RESPONSE_BYTES) });
    const record = await recordFor(gw, response.headers['x-switchyard-request-id'] as string);
    expect(record).toMatchObject({ status: 'error', httpStatus: 502 });

    // declared in content-length: refused at once
    expectOpenAIError(await post(gw, '/v1/chat/completions', { model: 'hostile/huge-json-declared', messages: hello }), 502, { code: 'upstream_response_too_large' });
    // embeddings read through the same bound
    const embeddings = await caught(gw.client().embeddings.create({ model: 'hostile/huge-json', input: 'x' }));
    expect(embeddings.status).toBe(502);
    expect(embeddings.code).toBe('upstream_response_too_large');
  }, 60_000);

  it('a 50 MB error body → the upstream status in OpenAI shape, read only up to 64 KiB', async () => {
    for (const stream of [false, true]) {
      const response = await post(gw, '/v1/chat/completions', { model: 'hostile/huge-error', messages: hello, stream });
      const error = expectOpenAIError(response, 500);
      expect(error.message.length).toBeLessThan(MAX_ERROR_BODY_BYTES + 200);
      expect(hostile.lastWritten).toBeLessThan(FIFTY_MB);
    }
  }, 60_000);

  it('a connection reset mid-body → 502 "closed the connection mid-response", not "unreachable"', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'hostile/reset-mid-body', messages: hello }));
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_connection_closed');
    expect(error.message).toContain('closed the connection mid-response');
    expect(error.message).toContain(new URL(hostile.url).origin);

    const response = await post(gw, '/v1/chat/completions', { model: 'hostile/reset-mid-body', messages: hello });
    const body = expectOpenAIError(response, 502, { type: 'upstream_error', code: 'upstream_connection_closed', message: 'mid-response' });
    expect(body.message).not.toContain('unreachable');

    const streamed = await sdkStreamError('hostile/reset-mid-stream');
    expect(streamed.error).toBeInstanceOf(APIError);
    expect(streamed.error.message).toContain('closed the connection mid-response');
    expect(streamed.received).toBeGreaterThan(0);
    await expectErrorFrame('hostile/reset-mid-stream', { code: 'upstream_connection_closed', message: 'closed the connection mid-response' });
  }, 30_000);

  it('a broken chunked encoding → 502 "malformed response (invalid chunked encoding)"', async () => {
    const error = await caught(gw.client().chat.completions.create({ model: 'hostile/broken-chunked', messages: hello }));
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('bad_upstream_response');
    expect(error.message).toContain('sent a malformed response: invalid chunked encoding');

    const response = await post(gw, '/v1/chat/completions', { model: 'hostile/broken-chunked', messages: hello });
    expectOpenAIError(response, 502, { code: 'bad_upstream_response', message: 'invalid chunked encoding' });

    const streamed = await sdkStreamError('hostile/broken-chunked-stream');
    expect(streamed.error).toBeInstanceOf(APIError);
    expect(streamed.error.message).toContain('invalid chunked encoding');
    await expectErrorFrame('hostile/broken-chunked-stream', { code: 'bad_upstream_response', message: 'invalid chunked encoding' });
  }, 30_000);

  it('a connection closed before any answer → 502 "closed the connection before answering", naming the host', async () => {
    for (const stream of [false, true]) {
      const response = await post(gw, '/v1/chat/completions', { model: 'hostile/close-before-answer', messages: hello, stream });
      const body = expectOpenAIError(response, 502, { type: 'upstream_error', code: 'upstream_connection_closed', message: 'closed the connection before answering' });
      expect(body.message).toContain(new URL(hostile.url).origin);
    }
  }, 30_000);
});

describe('many requests while one upstream streams an enormous line', () => {
  it('other requests are answered meanwhile', async () => {
    const huge = post(gw, '/v1/chat/completions', { model: 'hostile/huge-sse-line', messages: hello, stream: true });
    const others: Array<Promise<OpenAI.Chat.Completions.ChatCompletion>> = [];
    for (let index = 0; index < 5; index++) others.push(gw.client().chat.completions.create({ model: 'hostile/ok', messages: hello }));
    for (const answer of await Promise.all(others)) expect(answer.choices[0]!.message.content).toBe('fine');
    const response = await huge;
    expect(parseSse(response.text).at(-1)).toMatchObject({ error: { code: 'upstream_event_too_large' } });
  }, 60_000);
});
