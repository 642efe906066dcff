/**
 * The captured first requests of Claude Code and Codex (`shared/reference/captured/`, beside
 * the checkout as CI places it), for tests and benchmarks that replay them.
 *
 * The captures replaced every long text with its length (`"<text, 784 chars>"`). Where that
 * replaced a whole property schema (a property named `description` inside `properties`), the
 * body is not a valid JSON Schema any more: `withSchemasRepaired` puts a string schema back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CAPTURED_DIRECTORY = join(import.meta.dirname, '..', '..', '..', 'shared', 'reference', 'captured');

export const CLAUDE_CODE_CAPTURE = 'claude-code-2.1.328-request.json';
export const CODEX_CAPTURE = 'codex-0.169-request.json';

export interface CapturedRequest {
  captured: string;
  /** Claude Code's capture names its path (`/v1/messages?beta=true`); Codex's does not (`/v1/responses`). */
  url?: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

export function readCaptured(file: typeof CLAUDE_CODE_CAPTURE | typeof CODEX_CAPTURE): CapturedRequest {
  return JSON.parse(readFileSync(join(CAPTURED_DIRECTORY, file), 'utf8')) as CapturedRequest;
}

/** A copy of `value` where every string standing for a schema inside `properties` is a string schema again. */
export function withSchemasRepaired<T>(value: T, inProperties = false): T {
  if (Array.isArray(value)) return value.map((item) => withSchemasRepaired(item)) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      inProperties && typeof inner === 'string' ? { type: 'string', description: inner } : withSchemasRepaired(inner, key === 'properties'),
    ]),
  ) as T;
}
