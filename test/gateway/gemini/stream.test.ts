/**
 * Recorded Gemini SSE streams in → canonical stream events out. Each fixture is a raw
 * stream (fixtures/stream/<case>.sse) fed through the shared SSE decoder whole, byte by
 * byte and in uneven pieces, and a JSON file with the expected `events` and the completion
 * they add up to (`completion`, as the gateway logs it).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/main/gateway/config.js';
import { GeminiStreamTranslator } from '../../../src/main/gateway/providers/gemini/stream.js';
import type { UpstreamTarget } from '../../../src/main/gateway/providers/types.js';
import { SseDecoder } from '../../../src/main/gateway/sse/decoder.js';
import { StreamAccumulator } from '../../../src/main/gateway/sse/stream-accumulator.js';
import type { StreamEvent } from '../../../src/main/gateway/types.js';
import { UPDATE, fixtureNames, readFixture, readText, updateFixture } from './golden.js';

const gemini = loadConfig({ environment: {} }).providers.find((provider) => provider.id === 'gemini')!;
const target: UpstreamTarget = { provider: gemini, model: 'gemini-2.5-flash', apiKey: 'k' };

function run(pieces: Uint8Array[]): StreamEvent[] {
  const decoder = new SseDecoder();
  const translator = new GeminiStreamTranslator(target);
  const events: StreamEvent[] = [];
  for (const piece of pieces) {
    for (const sseEvent of decoder.push(piece)) events.push(...translator.push(sseEvent));
    if (translator.done) return JSON.parse(JSON.stringify(events)) as StreamEvent[];
  }
  for (const sseEvent of decoder.end()) events.push(...translator.push(sseEvent));
  events.push(...translator.end());
  return JSON.parse(JSON.stringify(events)) as StreamEvent[];
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

describe('Gemini stream translation (recorded streams)', () => {
  for (const name of fixtureNames('stream', '.sse')) {
    it(name, () => {
      const bytes = new TextEncoder().encode(readText('stream', `${name}.sse`));
      const ways = splits(bytes);
      const events = run(ways.whole!);
      for (const [way, pieces] of Object.entries(ways)) expect(run(pieces), way).toEqual(events);
      const accumulator = new StreamAccumulator();
      for (const event of events) accumulator.add(event);
      const completion = JSON.parse(JSON.stringify(accumulator.toCompletion())) as unknown;
      if (UPDATE) updateFixture('stream', name, { events, completion });
      else {
        const fixture = readFixture<{ events: unknown; completion: unknown }>('stream', name);
        expect(events).toEqual(fixture.events);
        expect(completion).toEqual(fixture.completion);
      }
    });
  }

  it('takes the last cumulative usage, never a sum, and emits it once at the end', () => {
    const translator = new GeminiStreamTranslator(target);
    const frame = (text: string, candidates: number, finish?: string) =>
      JSON.stringify({
        candidates: [{ content: { role: 'model', parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}), index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: candidates, thoughtsTokenCount: 3, totalTokenCount: 13 + candidates },
        responseId: 'r',
      });
    const seen: StreamEvent[] = [];
    for (const [text, count, finish] of [['a', 1], ['b', 2], ['c', 3, 'STOP']] as Array<[string, number, string?]>) {
      seen.push(...translator.push({ event: null, data: frame(text, count, finish), id: null, retry: null }));
    }
    expect(seen.filter((event) => event.type === 'usage')).toEqual([]);
    const closing = translator.end();
    expect(closing).toHaveLength(1);
    expect(closing[0]).toMatchObject({ type: 'usage', usage: { inputTokens: 10, outputTokens: 6, reasoningTokens: 3 } });
  });

  it('emits one finish per choice even when a trailing frame repeats the finishReason', () => {
    const translator = new GeminiStreamTranslator(target);
    const push = (body: unknown) => translator.push({ event: null, data: JSON.stringify(body), id: null, retry: null });
    const events = [
      ...push({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP', index: 0 }], responseId: 'r' }),
      ...push({ candidates: [{ finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 }, responseId: 'r' }),
      ...translator.end(),
    ];
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'usage', usage: { inputTokens: 1, outputTokens: 1 } });
  });

  it('remembers function calls across chunks: a later STOP means tool_calls', () => {
    const translator = new GeminiStreamTranslator(target);
    const push = (body: unknown) => translator.push({ event: null, data: JSON.stringify(body), id: null, retry: null });
    push({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }, index: 0 }], responseId: 'r' });
    const last = push({ candidates: [{ content: { role: 'model', parts: [{ text: ' ' }] }, finishReason: 'STOP', index: 0 }], responseId: 'r' });
    expect(last.find((event) => event.type === 'finish')).toMatchObject({ reason: { unified: 'tool_calls', raw: 'STOP' } });
  });
});
