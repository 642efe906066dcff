/**
 * The request checks generated at build time (scripts/precompile-checks.ts) against TypeBox
 * compiling the same schemas at run time: the same verdict and the same 400 for every body,
 * valid and invalid, of every precompiled schema. The built CLI's use of them is tested in
 * test/services/built-serve-first-requests.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { precompiledChecksSource } from '../../scripts/precompile-checks.js';
import type { CheckFactory } from '../../src/main/gateway/precompiled-checks.js';
import { REQUEST_SCHEMAS } from '../../src/main/gateway/request-schemas.js';
import { requestValidator, schemaError } from '../../src/main/gateway/request-validation.js';

/** The generated module, evaluated as the build would bundle it. */
function generatedFactories(): Record<string, CheckFactory> {
  const source = precompiledChecksSource();
  expect(source.startsWith('export const precompiledChecks = {')).toBe(true);
  return new Function(`return ${source.slice('export const precompiledChecks = '.length)}`)() as Record<string, CheckFactory>;
}

const user = [{ role: 'user', content: 'hi' }];
const chat = (extra: Record<string, unknown> = {}, messages: unknown = user) => ({ model: 'm', messages, ...extra });
const anthropic = (extra: Record<string, unknown> = {}) => ({ model: 'claude', max_tokens: 16, messages: user, ...extra });

const BODIES: Record<string, unknown[]> = {
  chat: [
    chat(),
    chat({ temperature: null, stop: ['a', 'b'], stream: true, stream_options: { include_usage: true } }),
    chat({}, [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'data:,', detail: 'low' } }, { type: 'future', x: 1 }] }]),
    chat({}, [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c', content: '1' }]),
    chat({ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: { type: 'function', function: { name: 'f' } } }),
    [1, 2],
    null,
    { messages: user },
    { model: 'm' },
    { model: '', messages: user },
    chat({}, []),
    chat({}, [...user, { role: 'wizard', content: 'b' }]),
    chat({}, [{ role: 'user' }]),
    chat({}, [...user, { role: 'assistant', content: null }]),
    chat({}, [{ role: 'user', content: 5 }]),
    chat({}, [{ role: 'user', content: ['a'] }]),
    chat({}, [{ role: 'user', content: [{ type: 'text' }] }]),
    chat({}, [...user, { role: 'tool', content: '1' }]),
    chat({}, [...user, { role: 'assistant', tool_calls: [{ id: 'c', function: {} }] }]),
    chat({ stream_options: { include_usage: true } }),
    chat({ stream: 'yes' }),
    chat({ temperature: 3 }),
    chat({ n: 1.5 }),
    chat({ max_tokens: 0 }),
    chat({ stop: ['a', 1] }),
    chat({ tools: [{ type: 'web', function: { name: 'f' } }] }),
    chat({ tool_choice: 'maybe' }),
    chat({ response_format: 'json' }),
  ],
  embeddings: [
    { model: 'e', input: 'a' },
    { model: 'e', input: [[1], [2, 3]] },
    { model: 'e' },
    { model: 'e', input: [] },
    { model: 'e', input: [1, 'a'] },
    { model: 'e', input: ['a', ''] },
    { model: 'e', input: 'x', encoding_format: 'hex' },
    { model: 'e', input: 'x', dimensions: 0 },
  ],
  messages: [
    anthropic(),
    anthropic({ system: [{ type: 'text', text: 's' }], stream: true, tools: [{ name: 't', input_schema: { type: 'object' } }] }),
    anthropic({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] }] }),
    { model: 'claude', messages: user },
    anthropic({ max_tokens: 'many' }),
    anthropic({ messages: [] }),
    anthropic({ messages: [{ role: 'system', content: 'x' }] }),
    anthropic({ temperature: 9 }),
    'text',
  ],
  countTokens: [{ model: 'claude', messages: user }, { model: 'claude' }, { model: 'claude', messages: 'hi' }, 42],
  responses: [
    { model: 'm', input: 'hi' },
    { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }], stream: true },
    { model: 'm', input: 'hi', previous_response_id: 'resp_1', store: false },
    { input: 'hi' },
    { model: 'm', input: 5 },
    { model: 'm', input: 'hi', temperature: 'warm' },
    [],
  ],
};

describe('request checks generated at build time', () => {
  const factories = generatedFactories();

  it('exist for every request schema, and the module has no others', () => {
    expect(Object.keys(factories).sort()).toEqual(Object.keys(REQUEST_SCHEMAS).sort());
    expect(Object.keys(BODIES).sort()).toEqual(Object.keys(REQUEST_SCHEMAS).sort());
  });

  for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) {
    it(`${name}: the same verdict and the same 400 as TypeBox compiling at run time`, () => {
      const precompiled = requestValidator(schema, factories[name]);
      const compiled = Compile(schema as TSchema);
      let rejected = 0;
      for (const body of BODIES[name]!) {
        const verdict = compiled.Check(body);
        expect(precompiled.Check(body), JSON.stringify(body)).toBe(verdict);
        if (verdict) {
          expect(precompiled.Errors(body)).toEqual([]);
          continue;
        }
        rejected++;
        expect(precompiled.Errors(body)).toEqual(compiled.Errors(body));
        const fromPrecompiled = schemaError(schema, precompiled.Errors(body), body);
        const fromCompiled = schemaError(schema, compiled.Errors(body) as Parameters<typeof schemaError>[1], body);
        expect({ message: fromPrecompiled.message, param: fromPrecompiled.param, code: fromPrecompiled.code }).toEqual({
          message: fromCompiled.message,
          param: fromCompiled.param,
          code: fromCompiled.code,
        });
      }
      // Both kinds of body were tried.
      expect(rejected).toBeGreaterThan(0);
      expect(rejected).toBeLessThan(BODIES[name]!.length);
    });
  }

  it('are used instead of compiling when the build provides one', () => {
    let made = 0;
    const factory: CheckFactory = () => {
      made++;
      return (value) => value === 'ok';
    };
    const validator = requestValidator(REQUEST_SCHEMAS.chat!, factory);
    expect(made).toBe(1);
    expect(validator.Check('ok')).toBe(true);
    expect(validator.Errors('ok')).toEqual([]);
    expect(validator.Check({ model: 'm', messages: user })).toBe(false);
  });
});
