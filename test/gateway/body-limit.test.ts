/**
 * A body over the limit gets a readable 413: the gateway reads and discards the rest of
 * the upload (up to a bound) before answering, so a client still sending receives the
 * OpenAI-shaped error instead of EPIPE. Nothing reaches the upstream, and the gateway
 * keeps serving. Past the bound it answers at once and closes.
 */
import net from 'node:net';
import http from 'node:http';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../helpers.js';
import { AUTH, expectOpenAIError, post } from './support.js';

const OPENAI_KEY = 'sk-body-limit-upstream';
const BODY_LIMIT = 1024 * 1024;

let fake: OpenAIFake;
let gateway: TestGateway;

beforeAll(async () => {
  fake = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY });
  gateway = await startTestGateway({ environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: fake.url }, file: { bodyLimitBytes: BODY_LIMIT } });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
});

async function stillServing(): Promise<void> {
  const response = await post(gateway, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] });
  expect(response.status).toBe(200);
}

/** A chunked upload of `size` bytes in 64 KB pieces, answered with the response. */
function chunkedUpload(size: number): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: new URL(gateway.origin).port, method: 'POST', path: '/v1/chat/completions', agent: false, headers: { ...AUTH, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    const piece = Buffer.alloc(64 * 1024, 'x');
    request.write('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"');
    let sent = 0;
    const writeMore = (): void => {
      while (sent < size) {
        sent += piece.length;
        if (!request.write(piece)) {
          request.once('drain', writeMore);
          return;
        }
      }
      request.end('"}]}');
    };
    writeMore();
  });
}

/**
 * A client that writes its whole body before it reads (as httpx, under the Python openai
 * SDK, does): any write error is a connection error to it. Resolves with what it read, or
 * `error:CODE` when a write failed (before the fix: EPIPE, the gateway having closed).
 */
function sendWholeThenRead(size: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(gateway.origin).port), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error:${error.code}`));
    socket.on('connect', () => {
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${GATEWAY_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
      const piece = Buffer.alloc(1024 * 1024, 'x');
      let sent = 0;
      const writeMore = (): void => {
        while (sent < size) {
          sent += piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', writeMore);
            return;
          }
        }
        socket.once('close', () => resolve(text));
      };
      writeMore();
    });
  });
}

describe('a body over the limit', () => {
  it('a client that sends all 50 MB before reading gets the 413, not EPIPE', async () => {
    const upstreamRequests = fake.requests.length;
    for (let round = 0; round < 2; round++) {
      const text = await sendWholeThenRead(50 * 1024 * 1024);
      expect(text).toMatch(/^HTTP\/1\.1 413 /);
      const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
      expect(json.error).toMatchObject({ code: 'request_too_large' });
      expect(json.error.message).toContain(String(BODY_LIMIT));
    }
    expect(fake.requests.length).toBe(upstreamRequests);
    await stillServing();
  }, 60_000);

  it('a 50 MB message through the openai SDK gets the 413 as an APIError, not a connection error', async () => {
    const upstreamRequests = fake.requests.length;
    const client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: gateway.baseURL, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(50 * 1024 * 1024) }] })
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    expect(error).not.toBeInstanceOf(APIConnectionError);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(413);
    expect((error as APIError).code).toBe('request_too_large');
    expect((error as APIError).message).toContain(String(BODY_LIMIT));
    expect(fake.requests.length).toBe(upstreamRequests);
    await stillServing();
  }, 60_000);

  it('a chunked upload (no Content-Length) of 8 MB reads its 413 too', async () => {
    const upstreamRequests = fake.requests.length;
    const response = await chunkedUpload(8 * 1024 * 1024);
    expect(response.status).toBe(413);
    expect(response.json.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
    expect(fake.requests.length).toBe(upstreamRequests);
    await stillServing();
  }, 60_000);

  it('a declared size past the drain bound is answered at once and the connection closed', async () => {
    const socket = net.connect(Number(new URL(gateway.origin).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${GATEWAY_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024 * 1024}\r\n\r\n{"model":`,
    );
    await closed;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    expect(json.error.code).toBe('request_too_large');
    await stillServing();
  }, 30_000);

  it('a body just over the limit, sent whole, is answered in shape on a connection that then closes', async () => {
    const response = await post(gateway, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT) }] });
    expectOpenAIError(response, 413, { code: 'request_too_large' });
    expect(response.headers.connection).toBe('close');
    await stillServing();
  });
});
