/**
 * Gateway errors in OpenAI's shape: every error returned on `/v1/*` is
 * `{"error":{"message","type","param","code"}}` with a status that means the same thing
 * OpenAI's would.
 */
import type { GatewayErrorBody } from './types.js';

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers (e.g. `retry-after` passed on from an upstream 429). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
    this.type = options.type ?? defaultErrorType(status);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): GatewayErrorBody {
    return { message: this.message, type: this.type, param: this.param, code: this.code };
  }

  toJson(): string {
    return JSON.stringify({ error: this.toBody() });
  }
}

/** The `type` OpenAI uses for a status when nothing more specific is known. */
export function defaultErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): GatewayError {
  return new GatewayError(400, message, { type: 'invalid_request_error', param, code });
}
