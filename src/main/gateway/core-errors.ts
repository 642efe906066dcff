/**
 * GatewayError (the gateway's error, OpenAI's vocabulary) ↔ CoreError (a neutral kind every
 * client format can express). The gateway's own `type` rides along so the OpenAI format
 * answers exactly as before.
 */
import type { CoreError, CoreErrorKind } from '../core/types.js';
import { GatewayError } from './errors.js';
import type { GatewayErrorBody } from './types.js';

export function errorKind(status: number, type: string | null | undefined): CoreErrorKind {
  if (status === 499 || type === 'cancelled') return 'cancelled';
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 404) return 'not-found';
  if (status === 413) return 'request-too-large';
  if (status === 429) return type === 'budget_exceeded' || type === 'insufficient_quota' ? 'budget' : 'rate-limit';
  if (status === 408 || status === 504 || type === 'timeout_error') return 'timeout';
  if (status === 529 || status === 503) return 'overloaded';
  if (status >= 500) return type === 'upstream_error' || status === 502 ? 'upstream' : 'server';
  return 'invalid-request';
}

export function coreErrorFromBody(status: number, body: GatewayErrorBody): CoreError {
  return { kind: errorKind(status, body.type), status, message: body.message, param: body.param, code: body.code, type: body.type };
}

export function coreErrorFrom(error: GatewayError): CoreError {
  const core = coreErrorFromBody(error.status, error.toBody());
  const retryAfter = Number(error.headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && error.headers['retry-after'] !== undefined) core.retryAfterSeconds = retryAfter;
  return core;
}

/** The GatewayError for a core error (param kept out, as stream failures have always been recorded). */
export function gatewayErrorFrom(error: CoreError, options: { keepParam?: boolean } = {}): GatewayError {
  return new GatewayError(error.status, error.message, {
    type: error.type ?? undefined,
    code: error.code ?? null,
    param: options.keepParam ? (error.param ?? null) : null,
  });
}
