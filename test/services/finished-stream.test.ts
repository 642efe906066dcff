/** A finished stream kept compactly for the inspector describes exactly as its events did. */
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent } from '../../src/main/core/types.js';
import { compactStream, expandStream } from '../../src/main/services/finished-stream.js';
import { describeStreamEvents } from '../../src/main/services/live-request-tracker.js';

const offsets = (events: readonly unknown[]): number[] => events.map((_, index) => index * 7);

describe('compactStream', () => {
  it('keeps each delta with its text, kind and block, and every other event as it is', () => {
    const events: CoreStreamEvent[] = [
      // A delta before any block began, and one whose block begins only later, name no block.
      { type: 'block-delta', id: 'late', text: 'early "quoted" text\n' },
      { type: 'response-start', id: null, model: 'claude-sonnet-4-5' },
      { type: 'block-start', block: { id: 'r0', kind: 'reasoning', redacted: false } },
      { type: 'block-delta', id: 'r0', text: 'thinking… é 😀' },
      { type: 'block-delta', id: 'r0', text: '' },
      { type: 'block-end', id: 'r0', providerData: { family: 'anthropic', data: { signature: 'sig' } } },
      { type: 'block-start', block: { id: 'late', kind: 'text' } },
      { type: 'block-delta', id: 'late', text: 'x'.repeat(400) },
      { type: 'block-start', block: { id: 't0', kind: 'tool-call', callId: 'call_1', name: 'search', toolKind: 'function' }, choice: 1 },
      { type: 'block-delta', id: 't0', inputDelta: '', choice: 1 },
      { type: 'block-delta', id: 't0', inputDelta: '{"q":"a"}', choice: 1 },
      { type: 'block-delta', id: 'missing', inputDelta: '{}' },
      // The same id begun again: its deltas from then on belong to the new block.
      { type: 'block-start', block: { id: 'r0', kind: 'refusal' } },
      { type: 'block-delta', id: 'r0', text: 'no' },
      { type: 'block-delta', id: 'late', text: 'more' },
      { type: 'block-start', block: { id: 'late', kind: 'reasoning' } },
      { type: 'block-delta', id: 'late', text: 'again' },
      { type: 'finish', finish: { unified: 'stop', raw: 'end_turn' } },
      { type: 'usage', usage: { inputTokens: 5, cachedInputTokens: null, cacheWriteInputTokens: null, outputTokens: 7, reasoningTokens: null, raw: { input_tokens: 5, output_tokens: 7 } } },
      { type: 'error', error: { status: 529, type: 'overloaded', message: 'Overloaded' } as never },
    ];
    const compact = compactStream(events);
    expect(describeStreamEvents(expandStream(compact), offsets(events))).toEqual(describeStreamEvents(events, offsets(events)));
    const described = describeStreamEvents(expandStream(compact), offsets(events)).map((event) => event.type);
    expect(described).toEqual(['text-delta', 'start', 'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-end', 'text-start', 'text-delta', 'tool-call-start', 'tool-call-delta', 'tool-call-delta', 'text-delta', 'refusal-start', 'refusal-delta', 'text-delta', 'reasoning-start', 'reasoning-delta', 'finish', 'usage', 'error']);
    // The deltas' texts are one string; only the other events are kept as objects.
    expect(compact.others).toHaveLength(10);
    expect(compact.texts).toBe(`early "quoted" text\nthinking… é 😀${'x'.repeat(400)}{"q":"a"}{}nomoreagain`);
    // The upstream's raw usage report is not kept (the inspector shows tokens in and out).
    expect(compact.others.find((event) => event.type === 'usage')).toEqual({ type: 'usage', usage: { inputTokens: 5, cachedInputTokens: null, cacheWriteInputTokens: null, outputTokens: 7, reasoningTokens: null } });
  });

  it('keeps nothing for no events', () => {
    expect(expandStream(compactStream([]))).toEqual([]);
  });
});
