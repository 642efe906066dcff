/**
 * Recorded Anthropic SSE streams → canonical events → OpenAI chunks, through the shared
 * SseDecoder, the adapter's translator, the shared encoder and accumulator (golden fixtures).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { AnthropicStreamTranslator } from '../../../src/main/gateway/providers/anthropic/stream.js';
import { SseDecoder } from '../../../src/main/gateway/sse/decoder.js';
import { OpenAIChunkEncoder } from '../../../src/main/gateway/sse/openai-chunk-encoder.js';
import { StreamAccumulator } from '../../../src/main/gateway/sse/stream-accumulator.js';
import type { StreamEvent } from '../../../src/main/gateway/types.js';
import { expectGolden, fixtureNames, readFixture, readText } from './fixture-files.js';

const provider = loadConfig({ environment: {} }).providers.find((candidate) => candidate.id === 'anthropic')!;
const target = { provider, model: 'claude-sonnet-4-5', apiKey: 'sk-ant-test' };

/** Runs a stream the way the chat-completions route does: stop at done or at the first error. */
function translate(sse: string, chunkSize: number): StreamEvent[] {
  const translator = new AnthropicStreamTranslator(target);
  const decoder = new SseDecoder();
  const bytes = Buffer.from(sse, 'utf8');
  const events: StreamEvent[] = [];
  const take = (produced: StreamEvent[]) => {
    events.push(...produced);
    return produced.some((event) => event.type === 'error') || translator.done;
  };
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    for (const sseEvent of decoder.push(bytes.subarray(offset, offset + chunkSize))) {
      if (take(translator.push(sseEvent))) return events;
    }
  }
  for (const sseEvent of decoder.end()) if (take(translator.push(sseEvent))) return events;
  events.push(...translator.end());
  return events;
}

function encode(events: StreamEvent[]): unknown[] {
  const encoder = new OpenAIChunkEncoder({ id: 'chatcmpl-test', created: 1_700_000_000, model: 'claude-sonnet-4-5', includeUsage: true });
  let text = events.map((event) => encoder.encode(event)).join('');
  if (!events.some((event) => event.type === 'error')) text += encoder.finish();
  return text
    .split('\n\n')
    .filter((frame) => frame.length > 0)
    .map((frame) => {
      const data = frame.replace(/^data: /, '');
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

function assemble(events: StreamEvent[]): unknown {
  const accumulator = new StreamAccumulator();
  for (const event of events) accumulator.add(event);
  return accumulator.toCompletion();
}

describe('Anthropic stream → canonical events → OpenAI chunks (golden fixtures)', () => {
  const names = fixtureNames('stream-', '.sse');
  it('has fixtures', () => expect(names.length).toBeGreaterThanOrEqual(10));
  for (const sseName of names) {
    const name = sseName.replace(/\.sse$/, '.json');
    const fixture = readFixture(name);
    const sse = readText(sseName);
    it(`${sseName.replace(/^stream-|\.sse$/g, '')}: ${String(fixture.description)}`, () => {
      const events = translate(sse, sse.length);
      // The same events whatever the network chunking.
      for (const size of [1, 7, 64]) expect(translate(sse, size)).toEqual(events);
      expectGolden(name, fixture, 'events', events);
      expectGolden(name, fixture, 'completion', assemble(events));
      expectGolden(name, fixture, 'chunks', encode(events));
    });
  }
});

describe('stream translator edge cases', () => {
  const event = (data: unknown) => ({ event: null, data: typeof data === 'string' ? data : JSON.stringify(data), id: null, retry: null });

  it('a non-JSON event fails the stream with 502', () => {
    const translator = new AnthropicStreamTranslator(target);
    const [failure] = translator.push(event('not json'));
    expect(failure).toMatchObject({ type: 'error', error: { status: 502, body: { code: 'bad_upstream_response' } } });
    expect(translator.done).toBe(true);
    expect(translator.end()).toEqual([]);
  });

  it('an error event for a rate limit keeps status 429 and its type', () => {
    const translator = new AnthropicStreamTranslator(target);
    const [failure] = translator.push(event({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
    expect(failure).toEqual({ type: 'error', error: { status: 429, body: { message: 'Anthropic: slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } } });
  });

  it('message_stop without message_delta still finishes with the start usage', () => {
    const translator = new AnthropicStreamTranslator(target);
    translator.push(event({ type: 'message_start', message: { id: 'msg_1', model: 'm', usage: { input_tokens: 3, output_tokens: 1 } } }));
    const closing = translator.push(event({ type: 'message_stop' }));
    expect(closing).toEqual([
      { type: 'finish', reason: { unified: 'other', raw: null } },
      { type: 'usage', usage: { inputTokens: 3, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 1, reasoningTokens: 0, raw: { input_tokens: 3, output_tokens: 1 } } },
    ]);
    expect(translator.done).toBe(true);
  });

  it('a tool_use whose start already carries the input and gets no deltas sends that input', () => {
    const translator = new AnthropicStreamTranslator(target);
    translator.push(event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } } }));
    expect(translator.push(event({ type: 'content_block_stop', index: 0 }))).toEqual([{ type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":1}' }]);
  });
});
