/** transportError: each kind of upstream failure gets its own name, status and code. */
import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/main/gateway/errors.js';
import { transportError } from '../../src/main/gateway/routing/upstream-client.js';
import { SseEventTooLargeError } from '../../src/main/gateway/sse/decoder.js';

const ORIGIN = 'http://10.0.0.7:8080';

function systemError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('transportError', () => {
  it('no connection at all → 502 upstream_unreachable naming the host', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']) {
      const error = transportError(systemError(code), 'OpenAI', ORIGIN);
      expect(error).toMatchObject({ status: 502, code: 'upstream_unreachable', type: 'upstream_error' });
      expect(error.message).toBe(`OpenAI is unreachable at ${ORIGIN} (${code})`);
    }
    // a code carried on the cause (AggregateError from happy eyeballs)
    const aggregate = Object.assign(new Error('connect failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(transportError(aggregate, 'OpenAI', ORIGIN).message).toContain('(ECONNREFUSED)');
  });

  it('never prints an empty address', () => {
    const error = transportError(systemError('ECONNREFUSED'), 'upstream', '');
    expect(error.message).toBe('upstream is unreachable (ECONNREFUSED)');
    expect(error.message).not.toMatch(/at\s*($|\()/);
  });

  it('a connection closed or reset: before answering, or mid-response once the body was being read', () => {
    const socket = new undiciErrors.SocketError('other side closed');
    expect(transportError(socket, 'xAI', ORIGIN)).toMatchObject({
      status: 502,
      code: 'upstream_connection_closed',
      message: `xAI closed the connection before answering (${ORIGIN}, UND_ERR_SOCKET)`,
    });
    expect(transportError(socket, 'xAI', ORIGIN, undefined, 'body').message).toBe(`xAI closed the connection mid-response (${ORIGIN}, UND_ERR_SOCKET)`);
    expect(transportError(systemError('ECONNRESET', 'read ECONNRESET'), 'xAI', ORIGIN, undefined, 'body')).toMatchObject({
      status: 502,
      code: 'upstream_connection_closed',
      message: `xAI closed the connection mid-response (${ORIGIN}, ECONNRESET)`,
    });
  });

  it('a malformed response: broken chunked encoding, wrong content-length, bad HTTP', () => {
    const chunked = new undiciErrors.HTTPParserError('Response does not match the HTTP/1.1 protocol (Invalid character in chunk size)');
    expect(transportError(chunked, 'Ollama', ORIGIN, undefined, 'body')).toMatchObject({
      status: 502,
      code: 'bad_upstream_response',
      message: `Ollama sent a malformed response: invalid chunked encoding (${ORIGIN})`,
    });
    const status = new undiciErrors.HTTPParserError('Response does not match the HTTP/1.1 protocol (Invalid status code)');
    expect(transportError(status, 'Ollama', ORIGIN).message).toBe(`Ollama sent a malformed response: not valid HTTP: invalid status code (${ORIGIN})`);
    const length = new undiciErrors.ResponseContentLengthMismatchError();
    expect(transportError(length, 'Ollama', ORIGIN, undefined, 'body').message).toContain('a body that does not match its content-length');
  });

  it('timeouts → 504; a client that left → 499', () => {
    expect(transportError(new undiciErrors.HeadersTimeoutError(), 'OpenAI', ORIGIN)).toMatchObject({ status: 504, code: 'upstream_timeout', message: `OpenAI did not answer in time (${ORIGIN})` });
    expect(transportError(new undiciErrors.BodyTimeoutError(), 'OpenAI', ORIGIN, undefined, 'body').status).toBe(504);
    const controller = new AbortController();
    controller.abort();
    expect(transportError(new Error('aborted'), 'OpenAI', ORIGIN, controller.signal).status).toBe(499);
  });

  it('an SSE event over the cap → 502 upstream_event_too_large naming the limit', () => {
    expect(transportError(new SseEventTooLargeError(16 * 1024 * 1024), 'Anthropic', ORIGIN, undefined, 'body')).toMatchObject({
      status: 502,
      code: 'upstream_event_too_large',
      message: 'Anthropic streamed an event larger than 16 MiB (16777216 characters), the limit for one streamed event',
    });
  });

  it("a fault in the gateway itself is a 500, never blamed on the upstream", () => {
    const error = transportError(new RangeError('Maximum call stack size exceeded'), 'upstream', '');
    expect(error).toMatchObject({ status: 500, code: 'internal_error', type: 'server_error' });
    expect(error.message).toContain('RangeError: Maximum call stack size exceeded');
    expect(error.message).not.toContain('unreachable');
    const invalid = Object.assign(new Error('invalid authorization header'), { code: 'UND_ERR_INVALID_ARG' });
    expect(transportError(invalid, 'OpenAI', ORIGIN)).toMatchObject({ status: 500, code: 'internal_error' });
  });

  it('a GatewayError passes through unchanged', () => {
    const original = new GatewayError(418, 'teapot');
    expect(transportError(original, 'OpenAI', ORIGIN)).toBe(original);
  });
});
