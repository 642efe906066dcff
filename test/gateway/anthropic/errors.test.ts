/** Anthropic error bodies → OpenAI-shaped gateway errors. */
import { describe, expect, it } from 'vitest';
import { anthropicError } from '../../../src/main/gateway/providers/anthropic/errors.js';

const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_1' });

describe('Anthropic errors', () => {
  it('529 overloaded → 503, type kept, retry-after passed on', () => {
    const error = anthropicError('Anthropic', 529, body('overloaded_error', 'Overloaded'), { 'retry-after': '3', 'request-id': 'req_1' });
    expect(error.status).toBe(503);
    expect(error.toBody()).toEqual({ message: 'Anthropic: Overloaded', type: 'overloaded_error', param: null, code: 'overloaded' });
    expect(error.headers).toEqual({ 'retry-after': '3' });
  });

  it('429 keeps its status and retry-after', () => {
    const error = anthropicError('Anthropic', 429, body('rate_limit_error', 'Too many requests'), { 'retry-after': '1' });
    expect(error.status).toBe(429);
    expect(error.type).toBe('rate_limit_error');
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.headers['retry-after']).toBe('1');
  });

  it.each([
    [400, 'invalid_request_error', null],
    [401, 'authentication_error', 'invalid_api_key'],
    [403, 'permission_error', null],
    [404, 'not_found_error', null],
    [413, 'request_too_large', null],
    [500, 'api_error', null],
  ])('%i %s keeps status and type', (status, type, code) => {
    const error = anthropicError('Anthropic', status, body(type, 'boom'), {});
    expect(error.status).toBe(status);
    expect(error.toBody()).toEqual({ message: 'Anthropic: boom', type, param: null, code });
  });

  it('a body that is not JSON still gives a useful error', () => {
    const html = anthropicError('Anthropic', 502, '<html>bad gateway</html>', {});
    expect(html.status).toBe(502);
    expect(html.message).toBe('Anthropic: upstream returned HTTP 502');
    expect(html.type).toBe('server_error');
    const text = anthropicError('Anthropic', 503, 'upstream connect error', {});
    expect(text.message).toBe('Anthropic: upstream connect error');
  });
});
