/**
 * Upstream HTTP: one undici Agent, which keeps a keep-alive connection pool per origin.
 * Reads answers with a bound (an upstream cannot make the gateway hold more than
 * `maxResponseBytes` of one answer, nor more than 64 KiB of an error body) and maps
 * transport failures to gateway errors named for what happened: unreachable (no
 * connection), closed before answering or mid-response, a malformed response, an answer
 * too large → 502; timeouts → 504; a cancelled request (client went away) → 499.
 */
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { GatewayError } from '../errors.js';
import { DEFAULT_MAX_SSE_EVENT_SIZE, SseEventTooLargeError } from '../sse/decoder.js';
import type { FetchJson, PreparedRequest } from '../providers/types.js';
import type { ClientAbort } from './client-abort.js';

/** Anything with `aborted` that undici can listen to. */
export type AbortSource = AbortSignal | ClientAbort;

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** The default bound on one non-streaming upstream answer (a chat completion, embeddings, a model list). */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** The most of an upstream error body the gateway reads; the rest is discarded with the connection. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface UpstreamClientOptions {
  connectTimeoutMs?: number;
  connectionsPerOrigin?: number;
  /** The most bytes of one non-streaming answer the gateway reads before answering 502 (default 32 MiB). */
  maxResponseBytes?: number;
  /** The largest single SSE event a stream may carry (default 16 MiB; see SseDecoder). */
  maxStreamEventSize?: number;
}

/** Where an upstream answer came from, for the errors reading it may turn into. */
export interface UpstreamReadContext {
  providerName: string;
  origin: string;
  signal?: AbortSource;
}

export class UpstreamClient {
  private readonly agent: Agent;
  /** Agents for providers with a connect timeout of their own (one per distinct value, made on first use). */
  private readonly agentsByConnectTimeout = new Map<number, Agent>();
  private readonly connectTimeoutMs: number;
  private readonly connectionsPerOrigin: number;
  readonly maxResponseBytes: number;
  readonly maxStreamEventSize: number;

  constructor(options: UpstreamClientOptions = {}) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxStreamEventSize = options.maxStreamEventSize ?? DEFAULT_MAX_SSE_EVENT_SIZE;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.connectionsPerOrigin = options.connectionsPerOrigin ?? 256;
    this.agent = this.makeAgent(this.connectTimeoutMs);
  }

  private makeAgent(connectTimeoutMs: number): Agent {
    return new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: this.connectionsPerOrigin,
      connect: { timeout: connectTimeoutMs },
    });
  }

  private agentFor(connectTimeoutMs: number | undefined): Agent {
    if (connectTimeoutMs === undefined || connectTimeoutMs === this.connectTimeoutMs) return this.agent;
    let agent = this.agentsByConnectTimeout.get(connectTimeoutMs);
    if (!agent) {
      agent = this.makeAgent(connectTimeoutMs);
      this.agentsByConnectTimeout.set(connectTimeoutMs, agent);
    }
    return agent;
  }

  /** Parsed upstream URLs: a few per provider, reused by every request. */
  private readonly urls = new Map<string, { origin: string; path: string }>();

  /** The origin of a URL, from the same cache the requests use (a parse per request showed in the profile). */
  originOf(url: string): string {
    return this.parse(url).origin;
  }

  private parse(url: string): { origin: string; path: string } {
    let parsed = this.urls.get(url);
    if (!parsed) {
      const value = new URL(url);
      parsed = { origin: value.origin, path: value.pathname + value.search };
      if (this.urls.size > 1000) this.urls.clear();
      this.urls.set(url, parsed);
    }
    return parsed;
  }

  /**
   * Sends one request. `timeoutMs` bounds the wait for the response headers (time to first
   * byte), `idleTimeoutMs` the wait between two body chunks (default: timeoutMs),
   * `connectTimeoutMs` opening the connection (default: the client's). 0 turns one off.
   */
  async request(
    prepared: PreparedRequest,
    options: { signal?: AbortSource; timeoutMs: number; idleTimeoutMs?: number; connectTimeoutMs?: number; providerName: string },
  ): Promise<UpstreamResponse> {
    const url = this.parse(prepared.url);
    try {
      const response = await this.agentFor(options.connectTimeoutMs).request({
        origin: url.origin,
        path: url.path,
        method: prepared.method,
        headers: prepared.headers,
        body: prepared.body,
        signal: options.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.idleTimeoutMs ?? options.timeoutMs,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw transportError(error, options.providerName, url.origin, options.signal);
    }
  }

  /**
   * The whole body of a non-streaming answer, read as it arrives and refused with a 502
   * as soon as it passes `maxResponseBytes` (the connection is dropped, nothing more is
   * read). A failure while reading is named for what it was (see `transportError`).
   */
  readBody(response: UpstreamResponse, from: UpstreamReadContext): Promise<Buffer> {
    return readBounded(response, this.maxResponseBytes, from);
  }

  /** GET/POST returning parsed JSON; used for model lists and key tests. */
  readonly fetchJson: FetchJson = async (prepared, timeoutMs) => {
    const response = await this.request(prepared, { timeoutMs, providerName: prepared.url });
    const origin = this.parse(prepared.url).origin;
    const text = (await this.readBody(response, { providerName: prepared.url, origin })).toString('utf8');
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json };
  };

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), ...[...this.agentsByConnectTimeout.values()].map((agent) => agent.close())]);
  }
}

export function isAbort(error: unknown, signal?: AbortSource): boolean {
  if (signal?.aborted) return true;
  return error instanceof Error && (error.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError);
}

function tooLarge(limit: number, from: UpstreamReadContext): GatewayError {
  return new GatewayError(502, `${from.providerName} sent an upstream answer larger than ${limit} bytes (${formatBytes(limit)}), the most the gateway reads of one answer`, {
    type: 'upstream_error',
    code: 'upstream_response_too_large',
  });
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}

/** Reads a body into one Buffer, failing once it passes `limit` bytes (checked on the declared length first). */
function readBounded(response: UpstreamResponse, limit: number, from: UpstreamReadContext): Promise<Buffer> {
  const body = response.body;
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    return Promise.reject(tooLarge(limit, from));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const fail = (error: GatewayError): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        chunks.length = 0;
        fail(tooLarge(limit, from));
        // Dropping the connection is the only way to stop an upstream that keeps sending.
        body.destroy();
        return;
      }
      chunks.push(chunk);
    };
    body.on('data', onData);
    body.once('error', (error) => fail(transportError(error, from.providerName, from.origin, from.signal, 'body')));
    body.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    });
  });
}

/**
 * An upstream error body as text: at most 64 KiB are read, the rest is dropped with the
 * connection. Never throws (a body that breaks off gives what arrived before).
 */
export function readErrorBody(response: UpstreamResponse): Promise<string> {
  const body = response.body;
  return new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      resolve(Buffer.concat(chunks, Math.min(total, MAX_ERROR_BODY_BYTES)).toString('utf8'));
    };
    const onData = (chunk: Buffer): void => {
      const room = MAX_ERROR_BODY_BYTES - total;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      total += Math.min(chunk.length, room);
      if (total >= MAX_ERROR_BODY_BYTES) {
        finish();
        if (!body.readableEnded) body.destroy();
      }
    };
    body.on('data', onData);
    body.once('end', finish);
    body.once('error', finish);
    body.once('close', finish);
  });
}

/** Errors that mean the connection could not be made at all. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
/** Errors that mean an open connection was closed or reset by the other side. */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof cause === 'string' ? cause : '';
}

/** "(http://host:port, ECONNRESET)", leaving out what is not known. */
function where(origin: string, detail: string): string {
  const parts = [origin, detail].filter((part) => part.length > 0);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** What an undici parser error says went wrong, in words. */
function malformedWhat(error: Error, code: string): string {
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'a body that does not match its content-length';
  const text = `${code} ${error.message}`;
  if (/chunk/i.test(text)) return 'invalid chunked encoding';
  const reason = /\(([^)]+)\)\s*$/.exec(error.message)?.[1];
  return reason ? `not valid HTTP: ${reason.toLowerCase()}` : 'not valid HTTP';
}

/**
 * Maps an undici/network failure to the gateway error a client should see. `phase` says
 * whether the upstream had begun its answer (headers received, the body being read):
 * a connection that closes then is not "unreachable".
 */
export function transportError(error: unknown, providerName: string, origin: string, signal?: AbortSource, phase: 'request' | 'body' = 'request'): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isAbort(error, signal)) return new GatewayError(499, 'the client closed the request', { type: 'cancelled', code: 'client_closed_request' });
  if (error instanceof SseEventTooLargeError) {
    return new GatewayError(502, `${providerName} streamed ${error.message}`, { type: 'upstream_error', code: 'upstream_event_too_large' });
  }
  const code = errorCode(error);
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new GatewayError(504, `${providerName} did not answer in time${where(origin, '')}`, { type: 'timeout_error', code: 'upstream_timeout' });
  }
  if (
    error instanceof undiciErrors.HTTPParserError ||
    error instanceof undiciErrors.ResponseContentLengthMismatchError ||
    (error instanceof Error && error.name === 'HTTPParserError') ||
    code.startsWith('HPE_') ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
  ) {
    return new GatewayError(502, `${providerName} sent a malformed response: ${malformedWhat(error as Error, code)}${where(origin, '')}`, {
      type: 'upstream_error',
      code: 'bad_upstream_response',
    });
  }
  if (code === 'UND_ERR_INVALID_ARG' || code.startsWith('ERR_INVALID_') || code.startsWith('ERR_HTTP_INVALID')) {
    // The request could not even be sent as given (a header value undici refuses, for one).
    return new GatewayError(500, `the gateway could not send the request to ${providerName} (${(error as Error).message})`, { type: 'server_error', code: 'internal_error' });
  }
  if (CLOSED_CODES.has(code) || (phase === 'body' && code.length > 0 && !UNREACHABLE_CODES.has(code))) {
    const when = phase === 'body' ? 'mid-response' : 'before answering';
    return new GatewayError(502, `${providerName} closed the connection ${when}${where(origin, code)}`, { type: 'upstream_error', code: 'upstream_connection_closed' });
  }
  if (code.length > 0 || error instanceof undiciErrors.UndiciError) {
    return new GatewayError(502, `${providerName} is unreachable${origin ? ` at ${origin}` : ''}${where('', code)}`, {
      type: 'upstream_error',
      code: 'upstream_unreachable',
    });
  }
  // Not a network failure at all: a fault in the gateway itself, never blamed on the upstream.
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new GatewayError(500, `the gateway failed while handling the request (${detail.length > 200 ? `${detail.slice(0, 200)}…` : detail})`, {
    type: 'server_error',
    code: 'internal_error',
  });
}
