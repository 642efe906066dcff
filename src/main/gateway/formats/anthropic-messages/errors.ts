/**
 * Errors in Anthropic's shape, `{"type":"error","error":{"type","message"},"request_id"}`, with
 * Anthropic's statuses: 401 authentication_error, 403 permission_error, 404 not_found_error,
 * 413 request_too_large, 429 rate_limit_error, 500 api_error, 504 timeout_error, 529
 * overloaded_error (a 503 from the gateway or an upstream is overload: 529, which Anthropic
 * clients retry), every other 4xx invalid_request_error. An error type an Anthropic upstream
 * sent is kept. Used for answers, for refusals before a route runs, and for `error` events.
 */
import type { FastifyReply } from 'fastify';
import type { CoreError, CoreErrorKind } from '../../../core/types.js';
import { GatewayError } from '../../errors.js';

export const ANTHROPIC_ERROR_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
]);

const TYPE_FOR_KIND: Record<CoreErrorKind, string> = {
  'invalid-request': 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  'not-found': 'not_found_error',
  'request-too-large': 'request_too_large',
  'rate-limit': 'rate_limit_error',
  budget: 'rate_limit_error',
  overloaded: 'overloaded_error',
  timeout: 'timeout_error',
  upstream: 'api_error',
  server: 'api_error',
  cancelled: 'invalid_request_error',
};

/** The status and Anthropic error type for a gateway status and the gateway's (or upstream's) error type. */
export function anthropicStatusAndType(status: number, type: string | null | undefined): { status: number; type: string } {
  if (type === 'overloaded_error' || status === 503 || status === 529) return { status: 529, type: 'overloaded_error' };
  switch (status) {
    case 401:
      return { status, type: 'authentication_error' };
    case 402:
      return { status, type: 'billing_error' };
    case 403:
      return { status, type: 'permission_error' };
    case 404:
      return { status, type: 'not_found_error' };
    case 413:
      return { status, type: 'request_too_large' };
    case 429:
      return { status, type: 'rate_limit_error' };
    case 408:
    case 504:
      return { status, type: 'timeout_error' };
  }
  if (type && ANTHROPIC_ERROR_TYPES.has(type)) return { status, type };
  if (status >= 500) return { status, type: 'api_error' };
  return { status, type: 'invalid_request_error' };
}

/** The message with the field named, when the error knows it and the message does not already say it. */
function messageOf(message: string, param: string | null | undefined): string {
  return param && !message.includes(param) ? `${param}: ${message}` : message;
}

export function anthropicErrorBody(error: GatewayError | CoreError, requestId: string | null = null): { status: number; body: { type: 'error'; error: { type: string; message: string }; request_id: string | null } } {
  let mapped: { status: number; type: string };
  if (error instanceof GatewayError) mapped = anthropicStatusAndType(error.status, error.type);
  else {
    const byStatus = anthropicStatusAndType(error.status, error.type);
    mapped = error.type && ANTHROPIC_ERROR_TYPES.has(error.type) ? { status: byStatus.status, type: error.type } : { status: byStatus.status, type: TYPE_FOR_KIND[error.kind] ?? byStatus.type };
  }
  return { status: mapped.status, body: { type: 'error', error: { type: mapped.type, message: messageOf(error.message, error.param) }, request_id: requestId } };
}

/** Sends a gateway error in Anthropic's shape (status, headers such as retry-after, body). */
export function sendAnthropicError(reply: FastifyReply, error: GatewayError): FastifyReply | void {
  if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
  const requestId = reply.getHeader('x-switchyard-request-id');
  const { status, body } = anthropicErrorBody(error, typeof requestId === 'string' ? requestId : null);
  // 499 (the client went away) is kept: it is what the log records and nobody reads it.
  reply.code(error.status === 499 ? 499 : status);
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.header('content-type', 'application/json').send(JSON.stringify(body));
}
