/**
 * Golden-fixture plumbing for the Gemini translator tests. Each fixture is a JSON file
 * holding the input and the expected output; `UPDATE_GOLDEN=1 npx vitest run …` rewrites
 * the expected part from what the code produces now (review the diff before keeping it).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const UPDATE = process.env.UPDATE_GOLDEN === '1';

export function fixtureNames(folder: string, extension = '.json'): string[] {
  return readdirSync(join(FIXTURES, folder))
    .filter((name) => name.endsWith(extension))
    .map((name) => name.slice(0, -extension.length))
    .sort();
}

export function readFixture<T = Record<string, unknown>>(folder: string, name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, folder, `${name}.json`), 'utf8')) as T;
}

export function readText(folder: string, file: string): string {
  return readFileSync(join(FIXTURES, folder, file), 'utf8');
}

/** Writes `expected` into the fixture's `key`, keeping everything else as it was. */
export function updateFixture(folder: string, name: string, fields: Record<string, unknown>): void {
  const path = join(FIXTURES, folder, `${name}.json`);
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) delete fixture[key];
    else fixture[key] = value;
  }
  writeFileSync(path, `${JSON.stringify(fixture, null, 2)}\n`);
}

/** A thrown gateway error as a plain object for comparison. */
export function errorShape(error: unknown): { status: number; type: string; code: string | null; param: string | null; message: string; headers?: Record<string, string> } {
  const gatewayError = error as { status: number; type: string; code: string | null; param: string | null; message: string; headers: Record<string, string> };
  const shape: ReturnType<typeof errorShape> = {
    status: gatewayError.status,
    type: gatewayError.type,
    code: gatewayError.code,
    param: gatewayError.param,
    message: gatewayError.message,
  };
  if (gatewayError.headers && Object.keys(gatewayError.headers).length > 0) shape.headers = gatewayError.headers;
  return shape;
}
