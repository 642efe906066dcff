/** Google error bodies → OpenAI-shaped gateway errors (fixtures/errors.json: one row per case). */
import { describe, expect, it } from 'vitest';
import { geminiUpstreamError, streamErrorEvent } from '../../../src/main/gateway/providers/gemini/errors.js';
import { UPDATE, errorShape, readFixture, updateFixture } from './golden.js';

interface ErrorCase {
  description: string;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  expected?: unknown;
}

const file = readFixture<{ cases: Record<string, ErrorCase> }>('.', 'errors');

describe('Gemini upstream errors (golden fixtures)', () => {
  const updated: Record<string, ErrorCase> = {};
  for (const [name, errorCase] of Object.entries(file.cases)) {
    it(name, () => {
      const body = typeof errorCase.body === 'string' ? errorCase.body : JSON.stringify(errorCase.body);
      const actual = errorShape(geminiUpstreamError('Google Gemini', errorCase.status, body, errorCase.headers ?? {}));
      updated[name] = { ...errorCase, expected: actual };
      if (UPDATE) updateFixture('.', 'errors', { cases: { ...file.cases, ...updated } });
      else expect(actual).toEqual(errorCase.expected);
    });
  }

  it('maps an in-stream error frame with the same rules', () => {
    expect(streamErrorEvent('Google Gemini', { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' })).toEqual({
      type: 'error',
      error: { kind: 'rate-limit', status: 429, message: 'Google Gemini: quota', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
    });
  });
});
