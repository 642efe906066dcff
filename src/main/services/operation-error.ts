/**
 * An operation's refusal the user should read (bad input, unknown provider …), as opposed
 * to an internal failure. Both transports report `{ error: { message, code } }`; only
 * these errors carry their message to the renderer, others say "internal error".
 */
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
