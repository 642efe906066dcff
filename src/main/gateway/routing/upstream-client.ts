/**
 * Upstream HTTP: one undici Agent, which keeps a keep-alive connection pool per origin.
 * Maps transport failures to gateway errors: unreachable → 502, timeouts → 504, and
 * a cancelled request (client went away) → 499-style cancellation.
 */
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { GatewayError } from '../errors.js';
import type { FetchJson, PreparedRequest } from '../providers/types.js';
import type { ClientAbort } from './client-abort.js';

/** Anything with `aborted` that undici can listen to. */
export type AbortSource = AbortSignal | ClientAbort;

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export class UpstreamClient {
  private readonly agent: Agent;

  constructor(options: { connectTimeoutMs?: number; connectionsPerOrigin?: number } = {}) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: options.connectionsPerOrigin ?? 256,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  /** Parsed upstream URLs: a few per provider, reused by every request. */
  private readonly urls = new Map<string, { origin: string; path: string }>();

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

  async request(prepared: PreparedRequest, options: { signal?: AbortSource; timeoutMs: number; providerName: string }): Promise<UpstreamResponse> {
    const url = this.parse(prepared.url);
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: url.path,
        method: prepared.method,
        headers: prepared.headers,
        body: prepared.body,
        signal: options.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw transportError(error, options.providerName, url.origin, options.signal);
    }
  }

  /** GET/POST returning parsed JSON; used for model lists and key tests. */
  readonly fetchJson: FetchJson = async (prepared, timeoutMs) => {
    const response = await this.request(prepared, { timeoutMs, providerName: prepared.url });
    const text = await response.body.text();
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json };
  };

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function isAbort(error: unknown, signal?: AbortSource): boolean {
  if (signal?.aborted) return true;
  return error instanceof Error && (error.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError);
}

/** Maps an undici/network failure to the gateway error a client should see. */
export function transportError(error: unknown, providerName: string, origin: string, signal?: AbortSource): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isAbort(error, signal)) return new GatewayError(499, 'the client closed the request', { type: 'cancelled', code: 'client_closed_request' });
  const code = (error as { code?: string }).code ?? '';
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new GatewayError(504, `${providerName} did not answer in time (${origin})`, { type: 'timeout_error', code: 'upstream_timeout' });
  }
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  const detail = cause ?? code ?? '';
  return new GatewayError(502, `${providerName} is unreachable at ${origin}${detail ? ` (${detail})` : ''}`, {
    type: 'upstream_error',
    code: 'upstream_unreachable',
  });
}
