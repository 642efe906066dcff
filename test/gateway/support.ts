/** Small helpers for the gateway integration tests: raw HTTP, SSE parsing, error-shape checks. */
import http from 'node:http';
import net from 'node:net';
import { expect } from 'vitest';
import type { TestGateway } from '../helpers.js';
import { GATEWAY_KEY } from '../helpers.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';

export const AUTH = { authorization: `Bearer ${GATEWAY_KEY}` };

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/**
 * One request with node:http, so that any header (Host, Origin) can be set exactly as
 * given. `body` objects are sent as JSON; strings and Buffers as they are.
 */
export function rawRequest(
  origin: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: unknown },
): Promise<RawResponse> {
  const url = new URL(origin);
  const payload =
    options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    if (headers['transfer-encoding'] === undefined) headers['content-length'] ??= String(Buffer.byteLength(payload));
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, method: options.method ?? (payload === undefined ? 'GET' : 'POST'), path: options.path, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any = undefined;
          try {
            json = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      },
    );
    request.on('error', reject);
    if (payload !== undefined) {
      // chunked uploads go out in several pieces
      const bytes = Buffer.from(payload);
      if (headers['transfer-encoding'] === 'chunked') for (let offset = 0; offset < bytes.length; offset += 16_384) request.write(bytes.subarray(offset, offset + 16_384));
      else request.write(bytes);
    }
    request.end();
  });
}

/** POST a JSON body to the gateway with its key. */
export function post(gateway: TestGateway, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(gateway.origin, { method: 'POST', path, body, headers: { ...AUTH, ...headers } });
}

/** Asserts OpenAI's error shape: exactly {error:{message,type,param,code}}, and returns the inner error. */
export function expectOpenAIError(
  response: Pick<RawResponse, 'status' | 'json' | 'headers'>,
  status: number,
  expected: { type?: string; code?: string | null; param?: string | null; message?: string | RegExp } = {},
): { message: string; type: string; param: string | null; code: string | null } {
  expect(response.status).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/json');
  expect(Object.keys(response.json ?? {})).toEqual(['error']);
  const error = response.json.error;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(typeof error.type).toBe('string');
  expect(error.param === null || typeof error.param === 'string').toBe(true);
  expect(error.code === null || typeof error.code === 'string').toBe(true);
  if (expected.type !== undefined) expect(error.type).toBe(expected.type);
  if (expected.code !== undefined) expect(error.code).toBe(expected.code);
  if (expected.param !== undefined) expect(error.param).toBe(expected.param);
  if (typeof expected.message === 'string') expect(error.message).toContain(expected.message);
  else if (expected.message) expect(error.message).toMatch(expected.message);
  return error;
}

export type SseFrame = Record<string, any> | '[DONE]';

/** Parses an SSE body into its data frames (JSON objects, or '[DONE]'). */
export function parseSse(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data.length === 0) continue;
    frames.push(data === '[DONE]' ? '[DONE]' : JSON.parse(data));
  }
  return frames;
}

/** A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until `probe` returns a value (generous bound; fails the test after it). */
export async function waitFor<T>(probe: () => T | null | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The record of the request with this id (from the x-switchyard-request-id header). */
export function recordFor(gateway: TestGateway, id: string | null | undefined | string[]): Promise<RequestRecord> {
  expect(typeof id).toBe('string');
  return waitFor(() => gateway.records.find((record) => record.id === id), `record ${String(id)}`);
}

/** Rejects when `promise` does not settle within `ms` (for "resolves quickly" assertions). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}
