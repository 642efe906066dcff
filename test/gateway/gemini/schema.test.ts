/**
 * JSON Schema → Gemini: `$ref` inlining and keyword removal, one golden fixture per case
 * (fixtures/schema/<case>.json: `input`, and the expected `output` or `error`).
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/main/gateway/errors.js';
import { NODE_LIMIT, REF_DEPTH_LIMIT, toGeminiJsonSchema } from '../../../src/main/gateway/providers/gemini/schema.js';
import { UPDATE, errorShape, fixtureNames, readFixture, updateFixture } from './golden.js';

const PARAM = 'tools[0].function.parameters';

function outcome(input: unknown): Record<string, unknown> {
  try {
    return { output: toGeminiJsonSchema(structuredClone(input), PARAM), error: undefined };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { output: undefined, error: errorShape(error) };
  }
}

describe('Gemini schema conversion (golden fixtures)', () => {
  for (const name of fixtureNames('schema')) {
    it(name, () => {
      const fixture = readFixture<{ input: unknown; output?: unknown; error?: unknown }>('schema', name);
      const result = outcome(fixture.input);
      if (UPDATE) updateFixture('schema', name, result);
      else expect(result).toEqual({ output: fixture.output, error: fixture.error });
    });
  }
});

describe('Gemini schema conversion limits', () => {
  it(`refuses a $ref chain deeper than ${REF_DEPTH_LIMIT} with a clear error`, () => {
    const defs: Record<string, unknown> = {};
    for (let index = 0; index < REF_DEPTH_LIMIT + 5; index++) defs[`D${index}`] = { type: 'object', properties: { next: { $ref: `#/$defs/D${index + 1}` } } };
    defs[`D${REF_DEPTH_LIMIT + 5}`] = { type: 'string' };
    const result = outcome({ $ref: '#/$defs/D0', $defs: defs });
    expect(result.error).toMatchObject({ status: 400, param: PARAM, code: 'invalid_schema', message: expect.stringContaining(`$refs nest deeper than ${REF_DEPTH_LIMIT} levels`) });
  });

  it('refuses references that would grow past the node limit (diamonds)', () => {
    const defs: Record<string, unknown> = { L0: { type: 'string' } };
    for (let level = 1; level <= 20; level++) defs[`L${level}`] = { type: 'object', properties: { a: { $ref: `#/$defs/L${level - 1}` }, b: { $ref: `#/$defs/L${level - 1}` } } };
    const result = outcome({ $ref: '#/$defs/L20', $defs: defs });
    expect(result.error).toMatchObject({ status: 400, message: expect.stringContaining(`more than ${NODE_LIMIT} schema objects`) });
  });

  it('does not change its input', () => {
    const input = { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } } };
    const copy = structuredClone(input);
    toGeminiJsonSchema(input, PARAM);
    expect(input).toEqual(copy);
  });
});
