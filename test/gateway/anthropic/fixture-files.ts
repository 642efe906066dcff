/**
 * Golden fixtures beside the Anthropic tests: each JSON file holds an input and the expected
 * output. `UPDATE_FIXTURES=1 npx vitest run test/gateway/anthropic` rewrites the expected part
 * from the current code (review the diff before committing it).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const UPDATE = process.env.UPDATE_FIXTURES === '1';

export function fixtureNames(prefix: string, extension = '.json'): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => name.startsWith(prefix) && name.endsWith(extension))
    .sort();
}

export function readFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8')) as T;
}

export function readText(name: string): string {
  return readFileSync(join(FIXTURE_DIR, name), 'utf8');
}

/** Compares `actual` with `fixture[key]`, or stores it there in update mode. */
export function expectGolden(name: string, fixture: Record<string, unknown>, key: string, actual: unknown): void {
  const normalised = JSON.parse(JSON.stringify(actual)) as unknown;
  if (UPDATE) {
    fixture[key] = normalised;
    writeFileSync(join(FIXTURE_DIR, name), `${JSON.stringify(fixture, null, 2)}\n`);
    return;
  }
  expect(normalised, `${name} → ${key}`).toEqual(fixture[key]);
}
