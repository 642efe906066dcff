/**
 * Anthropic errors → OpenAI-shaped gateway errors. The body is
 * `{"type":"error","error":{"type","message"},"request_id"}`; the Anthropic error type is
 * kept as the OpenAI `type`. 529 (overloaded) becomes 503, the status OpenAI clients know
 * as "try again later"; `retry-after` is passed on.
 */
import { GatewayError } from '../../errors.js';
import type { GatewayErrorBody } from '../../types.js';

/** The HTTP status Anthropic uses for each error type (also used for errors inside a stream). */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 503,
};

function codeFor(status: number, type: string | null): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  if (type === 'overloaded_error') return 'overloaded';
  return null;
}

export function gatewayStatusFor(upstreamStatus: number): number {
  if (upstreamStatus === 529) return 503;
  if (upstreamStatus >= 400 && upstreamStatus <= 599) return upstreamStatus;
  return 502;
}

/** `{type, message}` from an Anthropic error body (or from a plain-text one, when short). */
export function readAnthropicError(body: string): { type: string | null; message: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return { type: null, message: text.length > 0 && text.length < 500 && !text.startsWith('<') ? text : null };
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error === 'object' && error !== null) {
    const { type, message } = error as { type?: unknown; message?: unknown };
    return { type: typeof type === 'string' ? type : null, message: typeof message === 'string' ? message : null };
  }
  if (typeof error === 'string') return { type: null, message: error };
  return { type: null, message: null };
}

export function anthropicError(providerName: string, status: number, body: string, headers: Record<string, string | string[] | undefined>): GatewayError {
  const { type, message } = readAnthropicError(body);
  const gatewayStatus = gatewayStatusFor(status);
  const passHeaders: Record<string, string> = {};
  for (const name of ['retry-after', 'retry-after-ms']) {
    const value = headers[name];
    if (typeof value === 'string') passHeaders[name] = value;
  }
  return new GatewayError(gatewayStatus, `${providerName}: ${message ?? `upstream returned HTTP ${status}`}`, {
    type: type ?? undefined,
    code: codeFor(gatewayStatus, type),
    headers: passHeaders,
  });
}

/** An `event: error` payload received mid-stream → the error a stream event carries. */
export function streamErrorBody(providerName: string, data: string): { status: number; body: GatewayErrorBody } {
  const { type, message } = readAnthropicError(data);
  const status = (type && STATUS_BY_TYPE[type]) || 502;
  return {
    status,
    body: { message: `${providerName}: ${message ?? 'the stream ended with an error'}`, type: type ?? 'upstream_error', param: null, code: codeFor(status, type) },
  };
}
