/**
 * An operation's refusal the user should read (bad input, unknown provider …), as opposed
 * to an internal failure. Both transports report `{ error: { message, code } }`; only
 * these errors carry their message to the renderer, others say "internal error".
 * The key stores' own refusals (no keychain, a malformed provider key, a gateway key
 * request storage will not take) become OperationErrors too (asOperationError).
 */
import { InvalidProviderKeyError, KeychainUnavailableError } from '../secrets/keychain.js';
import { GatewayKeyError } from '../storage/gateway-keys.js';

export class OperationError extends Error {
  override name = 'OperationError';

  constructor(
    message: string,
    readonly code: string = 'invalid_input',
    readonly status: number = 400,
  ) {
    super(message);
  }
}

export function requireString(value: unknown, field: string, options: { maximumLength?: number; allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw new OperationError(`${field} must be a string`);
  const trimmed = value.trim();
  if (!options.allowEmpty && trimmed.length === 0) throw new OperationError(`${field} must not be empty`);
  if (trimmed.length > (options.maximumLength ?? 1000)) throw new OperationError(`${field} is too long`);
  return trimmed;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The key stores' refusals as OperationErrors the user can act on, with their message and
 * code: no OS keychain is 409 (the app's state, not the input, is in the way; environment
 * keys still work), a malformed provider key or a gateway key request storage refuses
 * (or a reference matching several keys) is 400. Any other value is returned as it is.
 */
export function asOperationError(error: unknown): unknown {
  if (error instanceof OperationError) return error;
  if (error instanceof KeychainUnavailableError) return new OperationError(error.message, error.code, 409);
  if (error instanceof InvalidProviderKeyError) return new OperationError(error.message, error.code, 400);
  if (error instanceof GatewayKeyError) return new OperationError(error.message, error.code, 400);
  return error;
}
