/**
 * Google API errors → OpenAI-shaped gateway errors. Google's body is
 * `{"error":{"code","message","status","details":[…]}}`; the meaning is kept: a bad key
 * (400 with reason API_KEY_INVALID) is an authentication failure, a 429 carries its retry
 * hint in a RetryInfo detail (no Retry-After header is documented), which becomes the
 * `retry-after` / `retry-after-ms` headers the OpenAI SDKs read.
 */
import type { CoreStreamEvent } from '../../../core/types.js';
import { coreErrorFromBody } from '../../core-errors.js';
import { GatewayError, defaultErrorType } from '../../errors.js';
import type { GeminiPromptFeedback } from './wire-types.js';

interface GoogleErrorFields {
  code: number | null;
  message: string | null;
  status: string | null;
  details: Array<Record<string, unknown>>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a Google error object (the value of the top-level `error` key). */
export function readGoogleError(error: unknown): GoogleErrorFields {
  if (!isObject(error)) return { code: null, message: typeof error === 'string' ? error : null, status: null, details: [] };
  return {
    code: typeof error.code === 'number' ? error.code : null,
    message: typeof error.message === 'string' && error.message.trim().length > 0 ? error.message.trim() : null,
    status: typeof error.status === 'string' ? error.status : null,
    details: Array.isArray(error.details) ? error.details.filter(isObject) : [],
  };
}

function parseBody(body: string): GoogleErrorFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    const message = text.length > 0 && text.length < 500 && !text.startsWith('<') ? text : null;
    return { code: null, message, status: null, details: [] };
  }
  // Without alt=sse a streamed error can come as a one-element array.
  if (Array.isArray(parsed)) parsed = parsed[0];
  return readGoogleError(isObject(parsed) ? parsed.error : undefined);
}

function detailOfType(details: Array<Record<string, unknown>>, type: string): Record<string, unknown> | undefined {
  return details.find((detail) => typeof detail['@type'] === 'string' && (detail['@type'] as string).endsWith(type));
}

/** Milliseconds from a protobuf Duration in JSON form ("37s", "1.5s"), or null. */
export function durationMs(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : null;
}

function retryHeaders(fields: GoogleErrorFields, headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  const upstream = headers['retry-after'];
  if (typeof upstream === 'string') result['retry-after'] = upstream;
  const delay = durationMs(detailOfType(fields.details, 'google.rpc.RetryInfo')?.retryDelay);
  if (delay !== null) {
    result['retry-after'] = String(Math.max(1, Math.ceil(delay / 1000)));
    result['retry-after-ms'] = String(delay);
  }
  return result;
}

function isBadKey(fields: GoogleErrorFields): boolean {
  const info = detailOfType(fields.details, 'google.rpc.ErrorInfo');
  return info?.reason === 'API_KEY_INVALID' || /api key not valid/i.test(fields.message ?? '');
}

function statusFor(upstream: number): number {
  if (upstream >= 400 && upstream <= 599) return upstream;
  return 502;
}

/** Builds the gateway error for an upstream HTTP status and parsed Google error fields. */
export function googleError(providerName: string, upstreamStatus: number, fields: GoogleErrorFields, headers: Record<string, string | string[] | undefined> = {}): GatewayError {
  const message = `${providerName}: ${fields.message ?? `upstream returned HTTP ${upstreamStatus}${fields.status ? ` ${fields.status}` : ''}`}`;
  if (isBadKey(fields)) {
    return new GatewayError(401, message, { type: 'authentication_error', code: 'invalid_api_key' });
  }
  const status = statusFor(upstreamStatus);
  if (status === 429) {
    return new GatewayError(429, message, { type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: retryHeaders(fields, headers) });
  }
  let code = fields.status ? fields.status.toLowerCase() : null;
  if (status === 404 && /models\//.test(fields.message ?? '')) code = 'model_not_found';
  return new GatewayError(status, message, { type: defaultErrorType(status), code });
}

/** An upstream error response (non-2xx) → gateway error. */
export function geminiUpstreamError(providerName: string, status: number, body: string, headers: Record<string, string | string[] | undefined>): GatewayError {
  const fields = parseBody(body);
  return googleError(providerName, status, fields, headers);
}

/** A gateway error as a core stream error event (its OpenAI body's type kept). */
export function errorEvent(error: GatewayError): Extract<CoreStreamEvent, { type: 'error' }> {
  return { type: 'error', error: coreErrorFromBody(error.status, error.toBody()) };
}

/** A `{"error":{…}}` frame inside a stream → an error event. */
export function streamErrorEvent(providerName: string, error: unknown): Extract<CoreStreamEvent, { type: 'error' }> {
  const fields = readGoogleError(error);
  return errorEvent(googleError(providerName, fields.code ?? 502, fields));
}

/**
 * A prompt Gemini refused to answer (`promptFeedback.blockReason`, no candidates). It is the
 * request that was refused, so this is a 400, shaped like Azure OpenAI's content-filter error.
 */
export function promptBlockedError(providerName: string, feedback: GeminiPromptFeedback): GatewayError {
  const reason = typeof feedback.blockReason === 'string' ? feedback.blockReason : 'BLOCK_REASON_UNSPECIFIED';
  const detail = typeof feedback.blockReasonMessage === 'string' && feedback.blockReasonMessage.length > 0 ? ` ${feedback.blockReasonMessage}` : '';
  return new GatewayError(400, `${providerName} blocked the prompt (blockReason: ${reason}) and returned no answer.${detail}`, {
    type: 'invalid_request_error',
    param: 'messages',
    code: 'content_filter',
  });
}

export function badResponseError(providerName: string, what: string): GatewayError {
  return new GatewayError(502, `${providerName} returned ${what}`, { type: 'upstream_error', code: 'bad_upstream_response' });
}
