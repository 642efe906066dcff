/**
 * Upstream errors from OpenAI-compatible servers, normalised to OpenAI's shape. Servers
 * disagree on the body (xAI sends `{"code","error":"<string>"}`), so only the meaning is
 * kept: status, message, and the type/code/param when the server gave them.
 */
import { GatewayError, defaultErrorType } from '../../errors.js';

function stringOrNull(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return null;
}

export interface UpstreamErrorFields {
  message: string | null;
  type: string | null;
  code: string | null;
  param: string | null;
}

/** Reads the useful fields from an upstream error body of any common shape. */
export function readErrorFields(body: string): UpstreamErrorFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return { message: text.length > 0 && text.length < 500 && !text.startsWith('<') ? text : null, type: null, code: null, param: null };
  }
  if (typeof parsed !== 'object' || parsed === null) return { message: null, type: null, code: null, param: null };
  const record = parsed as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'string') {
    return { message: error, type: null, code: stringOrNull(record.code), param: null };
  }
  if (typeof error === 'object' && error !== null) {
    const inner = error as Record<string, unknown>;
    return {
      message: stringOrNull(inner.message),
      type: stringOrNull(inner.type) ?? stringOrNull(inner.status),
      code: stringOrNull(inner.code),
      param: stringOrNull(inner.param),
    };
  }
  return { message: stringOrNull(record.message) ?? stringOrNull(record.detail), type: stringOrNull(record.type), code: stringOrNull(record.code), param: null };
}

/** The status the gateway answers with for an upstream status. */
export function gatewayStatusFor(upstreamStatus: number): number {
  if (upstreamStatus >= 400 && upstreamStatus <= 599 && upstreamStatus !== 529) return upstreamStatus;
  if (upstreamStatus === 529) return 503;
  return 502;
}

export function upstreamError(
  providerName: string,
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): GatewayError {
  const fields = readErrorFields(body);
  const message = fields.message ?? `upstream returned HTTP ${status}`;
  // Some servers (xAI) answer a bad key with 400; its meaning is an authentication failure.
  const badKey = (status === 400 || status === 403) && /(incorrect|invalid) api key|api key not valid/i.test(message);
  const gatewayStatus = badKey ? 401 : gatewayStatusFor(status);
  const passHeaders: Record<string, string> = {};
  for (const name of ['retry-after', 'retry-after-ms']) {
    const value = headers[name];
    if (typeof value === 'string') passHeaders[name] = value;
  }
  // A type like "tokens" (OpenAI rate limits) is meaningful; a bare number is not.
  const type = fields.type && !/^\d+$/.test(fields.type) && !badKey ? fields.type : defaultErrorType(gatewayStatus);
  return new GatewayError(gatewayStatus, `${providerName}: ${message}`, {
    type,
    code: fields.code && /^[A-Za-z_][\w.-]*$/.test(fields.code) ? fields.code : gatewayStatus === 401 ? 'invalid_api_key' : null,
    param: fields.param,
    headers: passHeaders,
  });
}
