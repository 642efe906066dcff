/**
 * Recorded Gemini SSE streams in → OpenAI chunks out, by composition: the Gemini adapter's
 * stream translator (native → core events), then the openai-chat stream encoder (core →
 * chunks). Each fixture is a raw stream (fixtures/stream/<case>.sse) fed through the shared
 * SSE decoder whole, byte by byte and in uneven pieces, and a JSON file with the expected
 * chunk bytes (`chunks`, with and without include_usage: what the gateway wrote before the
 * core, byte for byte), the completion they add up to (`completion`, as the gateway logs it)
 * and the core events themselves (`events`, golden).
 */
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent } from '../../../src/main/core/types.js';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { CoreStreamAccumulator } from '../../../src/main/gateway/formats/openai-chat/accumulator.js';
import { encodeChatCompletion } from '../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { OpenAIChatStreamEncoder } from '../../../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { GeminiStreamTranslator } from '../../../src/main/gateway/providers/gemini/stream.js';
import type { UpstreamTarget } from '../../../src/main/gateway/providers/types.js';
import { SseDecoder } from '../../../src/main/gateway/sse/decoder.js';
import { UPDATE, fixtureNames, readFixture, readText, updateFixture } from './golden.js';

const gemini = loadConfig({ environment: {} }).providers.find((provider) => provider.id === 'gemini')!;
const target: UpstreamTarget = { provider: gemini, model: 'gemini-2.5-flash', apiKey: 'k' };
const OPTIONS = { id: 'chatcmpl-gw', created: 1_700_000_000, model: 'requested-model' };

function run(pieces: Uint8Array[]): CoreStreamEvent[] {
  const decoder = new SseDecoder();
  const translator = new GeminiStreamTranslator(target);
  const events: CoreStreamEvent[] = [];
  for (const piece of pieces) {
    for (const sseEvent of decoder.push(piece)) events.push(...translator.push(sseEvent));
    if (translator.done) return JSON.parse(JSON.stringify(events)) as CoreStreamEvent[];
  }
  for (const sseEvent of decoder.end()) events.push(...translator.push(sseEvent));
  if (!translator.done) events.push(...translator.end());
  return JSON.parse(JSON.stringify(events)) as CoreStreamEvent[];
}

function splits(bytes: Uint8Array): Record<string, Uint8Array[]> {
  const uneven: Uint8Array[] = [];
  for (let start = 0, size = 1; start < bytes.length; start += size, size = (size * 7) % 23 + 1) uneven.push(bytes.subarray(start, start + size));
  return {
    whole: [bytes],
    'byte by byte': Array.from(bytes, (_, index) => bytes.subarray(index, index + 1)),
    uneven,
  };
}

function encode(events: CoreStreamEvent[], includeUsage: boolean): string {
  const encoder = new OpenAIChatStreamEncoder({ ...OPTIONS, includeUsage });
  return events.map((event) => encoder.encode(event)).join('') + encoder.finish();
}

/** Every block has one start before its deltas and one end; nothing after its end; all ended unless the stream failed. */
function expectBlocksWellFormed(events: CoreStreamEvent[]): void {
  const state = new Map<string, 'open' | 'closed'>();
  const choiceOf = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'block-start') {
      expect(state.has(event.block.id)).toBe(false);
      state.set(event.block.id, 'open');
      choiceOf.set(event.block.id, event.choice ?? 0);
    } else if (event.type === 'block-delta') {
      expect(state.get(event.id)).toBe('open');
    } else if (event.type === 'block-end') {
      expect(state.get(event.id)).toBe('open');
      state.set(event.id, 'closed');
    } else if (event.type === 'finish') {
      // A choice's blocks all end before its finish.
      for (const [id, value] of state) if (value === 'open' && choiceOf.get(id) === (event.choice ?? 0)) expect.fail(`block ${id} still open at finish`);
    }
  }
  if (!events.some((event) => event.type === 'error')) for (const value of state.values()) expect(value).toBe('closed');
}

const frame = (body: unknown) => ({ event: null, data: JSON.stringify(body), id: null, retry: null });

describe('Gemini stream translation (recorded streams)', () => {
  for (const name of fixtureNames('stream', '.sse')) {
    it(name, () => {
      const bytes = new TextEncoder().encode(readText('stream', `${name}.sse`));
      const ways = splits(bytes);
      const events = run(ways.whole!);
      for (const [way, pieces] of Object.entries(ways)) expect(run(pieces), way).toEqual(events);
      expectBlocksWellFormed(events);
      const accumulator = new CoreStreamAccumulator();
      for (const event of events) accumulator.add(event);
      const completion = JSON.parse(JSON.stringify(encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true }))) as unknown;
      const chunks = { withUsage: encode(events, true), withoutUsage: encode(events, false) };
      if (UPDATE) updateFixture('stream', name, { events, completion });
      const fixture = readFixture<{ events: unknown; completion: unknown; chunks: typeof chunks }>('stream', name);
      expect(chunks.withUsage).toBe(fixture.chunks.withUsage);
      expect(chunks.withoutUsage).toBe(fixture.chunks.withoutUsage);
      expect(completion).toEqual(fixture.completion);
      expect(events).toEqual(fixture.events);
    });
  }

  it('takes the last cumulative usage, never a sum, and emits it once at the end', () => {
    const translator = new GeminiStreamTranslator(target);
    const body = (text: string, candidates: number, finish?: string) => ({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}), index: 0 }],
      usageMetadata: { promptTokenCount: 10, cachedContentTokenCount: 4, candidatesTokenCount: candidates, thoughtsTokenCount: 3, totalTokenCount: 13 + candidates },
      responseId: 'r',
    });
    const seen: CoreStreamEvent[] = [];
    for (const [text, count, finish] of [['a', 1], ['b', 2], ['c', 3, 'STOP']] as Array<[string, number, string?]>) seen.push(...translator.push(frame(body(text, count, finish))));
    expect(seen.filter((event) => event.type === 'usage')).toEqual([]);
    const closing = translator.end();
    expect(closing).toHaveLength(1);
    expect(closing[0]).toMatchObject({ type: 'usage', usage: { inputTokens: 10, cachedInputTokens: 4, outputTokens: 6, reasoningTokens: 3, native: { family: 'gemini' } } });
  });

  it('emits one finish per choice even when a trailing frame repeats the finishReason', () => {
    const translator = new GeminiStreamTranslator(target);
    const events = [
      ...translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP', index: 0 }], responseId: 'r' })),
      ...translator.push(frame({ candidates: [{ finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 }, responseId: 'r' })),
      ...translator.end(),
    ];
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'usage', usage: { inputTokens: 1, outputTokens: 1 } });
  });

  it('remembers function calls across chunks: a later STOP means tool calls', () => {
    const translator = new GeminiStreamTranslator(target);
    translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }, index: 0 }], responseId: 'r' }));
    const last = translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ text: ' ' }] }, finishReason: 'STOP', index: 0 }], responseId: 'r' }));
    expect(last.find((event) => event.type === 'finish')).toMatchObject({ finish: { unified: 'tool-calls', raw: 'STOP' } });
  });

  it('blocks: thoughts then text then a call, each started and ended; a text signature ends its block; candidates apart', () => {
    const translator = new GeminiStreamTranslator(target);
    const events = [
      ...translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ text: 'Hmm', thought: true }] }, index: 0 }, { content: { role: 'model', parts: [{ text: 'B' }] }, index: 1 }], responseId: 'r' })),
      ...translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ text: 'A' }, { text: '', thoughtSignature: 'c2ln' }] }, index: 0 }], responseId: 'r' })),
      ...translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: { x: 1 }, id: 'fc1' }, thoughtSignature: 'Zm4=' }] }, finishReason: 'STOP', index: 0 }, { finishReason: 'MAX_TOKENS', index: 1 }], responseId: 'r' })),
      ...translator.end(),
    ];
    expectBlocksWellFormed(events);
    expect(events).toEqual([
      { type: 'response-start', id: 'chatcmpl-r', model: 'gemini-2.5-flash' },
      { type: 'block-start', block: { id: 'blk_0', kind: 'reasoning' } },
      { type: 'block-delta', id: 'blk_0', text: 'Hmm' },
      { type: 'block-start', block: { id: 'blk_1', kind: 'text' }, choice: 1 },
      { type: 'block-delta', id: 'blk_1', text: 'B', choice: 1 },
      { type: 'block-end', id: 'blk_0' },
      { type: 'block-start', block: { id: 'blk_2', kind: 'text' } },
      { type: 'block-delta', id: 'blk_2', text: 'A' },
      { type: 'block-end', id: 'blk_2', providerData: { family: 'gemini', data: { thoughtSignature: 'c2ln' } } },
      { type: 'block-start', block: { id: 'blk_3', kind: 'tool-call', callId: 'fc1', name: 'f', toolKind: 'function', providerData: { family: 'gemini', data: { thoughtSignature: 'Zm4=' } } } },
      { type: 'block-delta', id: 'blk_3', inputDelta: '{"x":1}' },
      { type: 'block-end', id: 'blk_3' },
      { type: 'finish', finish: { unified: 'tool-calls', raw: 'STOP' } },
      { type: 'block-end', id: 'blk_1', choice: 1 },
      { type: 'finish', finish: { unified: 'length', raw: 'MAX_TOKENS' }, choice: 1 },
    ]);
  });

  it('a stream closed before any finishReason ends with usage, then an error', () => {
    const translator = new GeminiStreamTranslator(target);
    translator.push(frame({ candidates: [{ content: { role: 'model', parts: [{ text: 'par' }] }, index: 0 }], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1 }, responseId: 'r' }));
    const closing = translator.end();
    expect(closing.map((event) => event.type)).toEqual(['usage', 'error']);
    expect(closing[1]).toMatchObject({ error: { kind: 'upstream', status: 502, code: 'upstream_stream_incomplete', type: 'upstream_error' } });
    expect(translator.done).toBe(true);
  });
});
