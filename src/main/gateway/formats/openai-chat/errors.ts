/** The OpenAI error shape: `{"error":{"message","type","param","code"}}`, from a GatewayError or a CoreError. */
import type { CoreError, CoreErrorKind } from '../../../core/types.js';
import { GatewayError, defaultErrorType } from '../../errors.js';
import type { GatewayErrorBody } from '../../types.js';

const TYPE_FOR_KIND: Partial<Record<CoreErrorKind, string>> = {
  'invalid-request': 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  'not-found': 'not_found_error',
  'request-too-large': 'invalid_request_error',
  'rate-limit': 'rate_limit_error',
  budget: 'insufficient_quota',
  timeout: 'timeout_error',
  upstream: 'upstream_error',
  cancelled: 'cancelled',
};

export function openAIErrorBody(error: GatewayError | CoreError): GatewayErrorBody {
  if (error instanceof GatewayError) return error.toBody();
  return { message: error.message, type: error.type ?? TYPE_FOR_KIND[error.kind] ?? defaultErrorType(error.status), param: error.param ?? null, code: error.code ?? null };
}

export function openAIErrorJson(error: GatewayError | CoreError): string {
  return JSON.stringify({ error: openAIErrorBody(error) });
}
