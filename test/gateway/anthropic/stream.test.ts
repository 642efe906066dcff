/**
 * Recorded Anthropic SSE streams → core events → OpenAI chunks, by composition: the shared
 * SseDecoder, the adapter's stream translator (native → core events), the openai-chat stream
 * encoder (core → chunks) and accumulator. Each fixture holds the chunks the gateway wrote
 * before the core (`chunks`: checked byte for byte), the completion they add up to as the log
 * records it (`completion`) and the core events themselves (`events`, golden). Block ids map
 * Anthropic's content block indexes 1:1, and every block has one start and one end.
 */
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent } from '../../../src/main/core/types.js';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { CoreStreamAccumulator } from '../../../src/main/gateway/formats/openai-chat/accumulator.js';
import { encodeChatCompletion } from '../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { OpenAIChatStreamEncoder } from '../../../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { AnthropicStreamTranslator } from '../../../src/main/gateway/providers/anthropic/stream.js';
import { SseDecoder } from '../../../src/main/gateway/sse/decoder.js';
import { expectGolden, fixtureNames, readFixture, readText } from './fixture-files.js';

const provider = loadConfig({ environment: {} }).providers.find((candidate) => candidate.id === 'anthropic')!;
const target = { provider, model: 'claude-sonnet-4-5', apiKey: 'sk-ant-test' };

/** Runs a stream the way the chat-completions route does: stop at done or at the first error. */
function translate(sse: string, chunkSize: number): CoreStreamEvent[] {
  const translator = new AnthropicStreamTranslator(target);
  const decoder = new SseDecoder();
  const bytes = Buffer.from(sse, 'utf8');
  const events: CoreStreamEvent[] = [];
  const take = (produced: CoreStreamEvent[]) => {
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

/** The SSE text the openai-chat encoder writes for the events (closing frames unless the stream failed). */
function encode(events: CoreStreamEvent[], includeUsage = true): string {
  const encoder = new OpenAIChatStreamEncoder({ id: 'chatcmpl-test', created: 1_700_000_000, model: 'claude-sonnet-4-5', includeUsage });
  let text = events.map((event) => encoder.encode(event)).join('');
  if (!events.some((event) => event.type === 'error')) text += encoder.finish();
  return text;
}

/** The fixture's chunks as the bytes the gateway wrote. */
function framesOf(chunks: unknown[]): string {
  return chunks.map((chunk) => `data: ${chunk === '[DONE]' ? chunk : JSON.stringify(chunk)}\n\n`).join('');
}

function assemble(events: CoreStreamEvent[]): ReturnType<typeof encodeChatCompletion> {
  const accumulator = new CoreStreamAccumulator();
  for (const event of events) accumulator.add(event);
  return encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true });
}

/** Every block has one start before its deltas and one end, its id naming its Anthropic index. */
function expectBlocksWellFormed(events: CoreStreamEvent[], sse: string): void {
  const state = new Map<string, 'open' | 'closed'>();
  const failed = events.some((event) => event.type === 'error');
  for (const event of events) {
    if (event.type === 'block-start') {
      expect(state.has(event.block.id)).toBe(false);
      expect(sse).toContain(`"type":"content_block_start","index":${event.block.id.replace('blk_', '')},`);
      state.set(event.block.id, 'open');
    } else if (event.type === 'block-delta') {
      expect(state.get(event.id)).toBe('open');
    } else if (event.type === 'block-end') {
      expect(state.get(event.id)).toBe('open');
      state.set(event.id, 'closed');
    }
  }
  if (!failed) for (const value of state.values()) expect(value).toBe('closed');
}

describe('Anthropic stream → core events → OpenAI chunks (golden fixtures)', () => {
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
      expectBlocksWellFormed(events, sse);
      // Byte for byte the chunks the gateway wrote before the core.
      const chunks = fixture.chunks as unknown[];
      expect(encode(events)).toBe(framesOf(chunks));
      // Without include_usage: no usage field and no usage chunk, as before.
      const withoutUsage = chunks
        .filter((chunk) => chunk === '[DONE]' || !Array.isArray((chunk as { choices?: unknown[] }).choices) || (chunk as { choices: unknown[] }).choices.length > 0)
        .map((chunk) => (chunk === '[DONE]' || !('choices' in (chunk as object)) ? chunk : { ...(chunk as object), usage: undefined }));
      expect(encode(events, false)).toBe(framesOf(withoutUsage));
      const completion = assemble(events);
      if (events.some((event) => event.type === 'error')) {
        // A stream that fails after message_start now logs the input usage Anthropic reported.
        const start = events.find((event): event is Extract<CoreStreamEvent, { type: 'usage' }> => event.type === 'usage');
        expect(completion.usage).toEqual(start ? { prompt_tokens: start.usage.inputTokens, completion_tokens: start.usage.outputTokens, total_tokens: start.usage.inputTokens! + start.usage.outputTokens!, prompt_tokens_details: { cached_tokens: start.usage.cachedInputTokens }, completion_tokens_details: { reasoning_tokens: 0 } } : undefined);
        expect({ ...completion, usage: undefined }).toEqual({ ...(fixture.completion as object), usage: undefined });
      } else {
        expect(completion).toEqual(fixture.completion);
      }
      expectGolden(name, fixture, 'events', events);
    });
  }
});

describe('stream translator edge cases', () => {
  const event = (data: unknown) => ({ event: null, data: typeof data === 'string' ? data : JSON.stringify(data), id: null, retry: null });

  it('a non-JSON event fails the stream with 502', () => {
    const translator = new AnthropicStreamTranslator(target);
    const [failure] = translator.push(event('not json'));
    expect(failure).toMatchObject({ type: 'error', error: { kind: 'upstream', status: 502, code: 'bad_upstream_response' } });
    expect(translator.done).toBe(true);
    expect(translator.end()).toEqual([]);
  });

  it('an error event for a rate limit keeps status 429 and its type', () => {
    const translator = new AnthropicStreamTranslator(target);
    const [failure] = translator.push(event({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
    expect(failure).toEqual({ type: 'error', error: { kind: 'rate-limit', status: 429, message: 'Anthropic: slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
  });

  it('message_start gives the input usage at once; message_stop without message_delta finishes with it', () => {
    const translator = new AnthropicStreamTranslator(target);
    const raw = { input_tokens: 3, output_tokens: 1 };
    const usage = { inputTokens: 3, cachedInputTokens: null, cacheWriteInputTokens: null, outputTokens: 1, reasoningTokens: null, raw, native: { family: 'anthropic', data: raw } };
    expect(translator.push(event({ type: 'message_start', message: { id: 'msg_1', model: 'm', usage: raw } }))).toEqual([
      { type: 'response-start', id: 'msg_1', model: 'm' },
      { type: 'usage', usage },
    ]);
    expect(translator.push(event({ type: 'message_stop' }))).toEqual([{ type: 'finish', finish: { unified: 'other', raw: null } }]);
    expect(translator.done).toBe(true);
  });

  it('a tool_use whose start already carries the input and gets no deltas sends that input', () => {
    const translator = new AnthropicStreamTranslator(target);
    translator.push(event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } } }));
    expect(translator.push(event({ type: 'content_block_stop', index: 0 }))).toEqual([
      { type: 'block-delta', id: 'blk_0', inputDelta: '{"a":1}' },
      { type: 'block-end', id: 'blk_0' },
    ]);
  });

  it('citations_delta are kept on the text block end; a stop sequence on the finish; blocks left open close at message_stop', () => {
    const translator = new AnthropicStreamTranslator(target);
    const citation = { type: 'char_location', cited_text: 'x', document_index: 0, start_char_index: 0, end_char_index: 1 };
    const events = [
      ...translator.push(event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })),
      ...translator.push(event({ type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation } })),
      ...translator.push(event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } })),
      ...translator.push(event({ type: 'content_block_stop', index: 0 })),
      ...translator.push(event({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: 'y' } })),
      ...translator.push(event({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: '###' }, usage: { output_tokens: 2 } })),
      ...translator.push(event({ type: 'message_stop' })),
    ];
    expect(events.filter((item) => item.type !== 'usage')).toEqual([
      { type: 'block-start', block: { id: 'blk_0', kind: 'text' } },
      { type: 'block-delta', id: 'blk_0', text: 'x' },
      { type: 'block-end', id: 'blk_0', providerData: { family: 'anthropic', data: { citations: [citation] } } },
      { type: 'block-start', block: { id: 'blk_1', kind: 'text' } },
      { type: 'block-delta', id: 'blk_1', text: 'y' },
      { type: 'finish', finish: { unified: 'stop-sequence', raw: 'stop_sequence', stopSequence: '###' } },
      { type: 'block-end', id: 'blk_1' },
    ]);
  });
});
