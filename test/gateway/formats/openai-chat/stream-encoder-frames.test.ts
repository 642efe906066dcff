/**
 * The OpenAI chat stream encoder (core events → `chat.completion.chunk` frames), frame by
 * frame: the role chunk, usage null or absent, the usage chunk, choices, errors, reasoning
 * and thinking blocks, tool calls with extra_content, refusals and finish reasons. (Ported
 * from the old OpenAIChunkEncoder's tests; fixtures/old-chunk-encoder.json holds that encoder's
 * bytes for the same content, checked in stream-encoder.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent, CoreUsage } from '../../../../src/main/core/types.js';
import { coreErrorFromBody } from '../../../../src/main/gateway/core-errors.js';
import { OpenAIChatStreamEncoder } from '../../../../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { SseDecoder } from '../../../../src/main/gateway/sse/decoder.js';

/** Splits encoder output into frames: parsed JSON objects, or the string '[DONE]'. */
function frames(text: string): Array<Record<string, any> | '[DONE]'> {
  expect(text.endsWith('\n\n') || text === '').toBe(true);
  const decoder = new SseDecoder();
  const events = [...decoder.push(text), ...decoder.end()];
  return events.map((event) => (event.data === '[DONE]' ? '[DONE]' : (JSON.parse(event.data) as Record<string, any>)));
}

function encoder(includeUsage: boolean): OpenAIChatStreamEncoder {
  return new OpenAIChatStreamEncoder({ id: 'chatcmpl-gw', created: 1_700_000_000, model: 'requested-model', includeUsage });
}

const USAGE: CoreUsage = { inputTokens: 10, cachedInputTokens: 4, cacheWriteInputTokens: 0, outputTokens: 7, reasoningTokens: 3 };

const SAMPLE: CoreStreamEvent[] = [
  { type: 'response-start', id: 'chatcmpl-up', model: 'gpt-4o-mini', created: 1_700_000_123 },
  { type: 'block-start', block: { id: 't', kind: 'text' } },
  { type: 'block-delta', id: 't', text: 'Hel' },
  { type: 'block-delta', id: 't', text: 'lo "quoted"\n✓' },
  { type: 'block-end', id: 't' },
  { type: 'finish', finish: { unified: 'stop', raw: 'stop' } },
  { type: 'usage', usage: USAGE },
];

function encodeAll(enc: OpenAIChatStreamEncoder, events: CoreStreamEvent[]): string {
  return events.map((event) => enc.encode(event)).join('') + enc.finish();
}

describe('OpenAIChatStreamEncoder frames', () => {
  it('opens with a role chunk, then content, then finish, then [DONE]', () => {
    const out = frames(encodeAll(encoder(false), SAMPLE));
    expect(out.at(-1)).toBe('[DONE]');
    const chunks = out.slice(0, -1) as Array<Record<string, any>>;
    expect(chunks).toHaveLength(4);
    expect(chunks[0]!.choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks[0]!.choices[0].finish_reason).toBeNull();
    for (const chunk of chunks) {
      expect(chunk.id).toBe('chatcmpl-up');
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.created).toBe(1_700_000_123);
      expect(chunk.model).toBe('gpt-4o-mini');
      expect(chunk).not.toHaveProperty('usage');
    }
    expect(chunks.slice(1, 3).map((chunk) => chunk.choices[0].delta.content).join('')).toBe('Hello "quoted"\n✓');
    expect(chunks[3]!.choices[0]).toMatchObject({ index: 0, delta: {}, finish_reason: 'stop' });
  });

  it('without include_usage: no usage chunk and no usage field anywhere', () => {
    const text = encodeAll(encoder(false), SAMPLE);
    expect(text).not.toContain('"usage"');
  });

  it('with include_usage: usage null on every chunk, then one usage chunk with empty choices before [DONE]', () => {
    const out = frames(encodeAll(encoder(true), SAMPLE));
    expect(out.at(-1)).toBe('[DONE]');
    const chunks = out.slice(0, -1) as Array<Record<string, any>>;
    const usageChunk = chunks.at(-1)!;
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk).toHaveProperty('usage', null);
      expect(chunk.choices).toHaveLength(1);
    }
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.id).toBe('chatcmpl-up');
    expect(usageChunk.usage).toEqual({
      prompt_tokens: 10,
      completion_tokens: 7,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
  });

  it('with include_usage and usage that came in OpenAI shape: that object, whole', () => {
    const native = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { audio_tokens: 0 } };
    const events: CoreStreamEvent[] = [...SAMPLE.slice(0, -1), { type: 'usage', usage: { ...USAGE, native: { family: 'openai', data: native } } }];
    const out = frames(encodeAll(encoder(true), events));
    expect((out.at(-2) as Record<string, any>).usage).toEqual(native);
  });

  it('with include_usage but no usage from upstream: no usage chunk', () => {
    const out = frames(encodeAll(encoder(true), SAMPLE.slice(0, -1)));
    expect(out.at(-1)).toBe('[DONE]');
    expect((out.slice(0, -1) as Array<Record<string, any>>).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it('sends the role first even when content arrives before any start event', () => {
    const enc = encoder(false);
    const out = frames(enc.encode({ type: 'block-start', block: { id: 't', kind: 'text' } }) + enc.encode({ type: 'block-delta', id: 't', text: 'x' }) + enc.encode({ type: 'block-delta', id: 't', text: 'y' }));
    expect(out).toHaveLength(3);
    expect((out[0] as any).choices[0].delta.role).toBe('assistant');
    expect((out[0] as any).model).toBe('requested-model');
    expect((out[1] as any).choices[0].delta).toEqual({ content: 'x' });
  });

  it('opens each choice with its own role chunk', () => {
    const enc = encoder(false);
    const out = frames(
      enc.encode({ type: 'response-start', id: 'a', model: 'm' }) +
        enc.encode({ type: 'block-start', block: { id: 't', kind: 'text' }, choice: 1 }) +
        enc.encode({ type: 'block-delta', id: 't', text: 'second', choice: 1 }),
    );
    expect(out.map((chunk: any) => [chunk.choices[0].index, chunk.choices[0].delta])).toEqual([
      [0, { role: 'assistant', content: '', refusal: null }],
      [1, { role: 'assistant', content: '', refusal: null }],
      [1, { content: 'second' }],
    ]);
  });

  it('encodes an error event as an OpenAI error frame', () => {
    const enc = encoder(true);
    const body = { message: 'upstream: boom', type: 'server_error', param: null, code: 'x' };
    expect(enc.encode({ type: 'error', error: coreErrorFromBody(502, body) })).toBe(`data: ${JSON.stringify({ error: body })}\n\n`);
  });

  it('encodes reasoning as reasoning_content and signed thinking blocks as thinking_blocks', () => {
    const enc = encoder(false);
    const redacted = { family: 'anthropic' as const, data: { data: 'opaque==' } };
    const events: CoreStreamEvent[] = [
      { type: 'response-start', id: 'a', model: 'm' },
      { type: 'block-start', block: { id: 'r0', kind: 'reasoning' } },
      { type: 'block-delta', id: 'r0', text: 'Let me ' },
      { type: 'block-delta', id: 'r0', text: 'think.' },
      { type: 'block-end', id: 'r0', providerData: { family: 'anthropic', data: { signature: 'sig-1' } } },
      { type: 'block-start', block: { id: 'r1', kind: 'reasoning', redacted: true, providerData: redacted } },
      { type: 'block-end', id: 'r1', providerData: redacted },
      { type: 'block-start', block: { id: 'r2', kind: 'reasoning' } },
      { type: 'block-delta', id: 'r2', text: 'Again.' },
      { type: 'block-end', id: 'r2', providerData: { family: 'anthropic', data: { signature: 'sig-2' } } },
    ];
    const deltas = frames(events.map((event) => enc.encode(event)).join('')).map((chunk: any) => chunk.choices[0].delta);
    expect(deltas).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { reasoning_content: 'Let me ' },
      { reasoning_content: 'think.' },
      { thinking_blocks: [{ type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' }] },
      { thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque==' }] },
      { reasoning_content: 'Again.' },
      { thinking_blocks: [{ type: 'thinking', thinking: 'Again.', signature: 'sig-2' }] },
    ]);
  });

  it('encodes tool calls, with extra_content when present', () => {
    const enc = encoder(false);
    const events: CoreStreamEvent[] = [
      { type: 'block-start', block: { id: 'a', kind: 'tool-call', callId: 'call_a', name: 'get_weather', toolKind: 'function', providerData: { family: 'gemini', data: { thoughtSignature: 'abc' } } } },
      { type: 'block-delta', id: 'a', inputDelta: '{"city":' },
      { type: 'block-start', block: { id: 'b', kind: 'tool-call', callId: 'call_b', name: 'get_weather', toolKind: 'function' } },
      { type: 'block-delta', id: 'b', inputDelta: '"Porto"}' },
      { type: 'block-end', id: 'a' },
      { type: 'block-end', id: 'b' },
      { type: 'finish', finish: { unified: 'tool-calls', raw: 'tool_calls' } },
    ];
    const chunks = frames(events.map((event) => enc.encode(event)).join('')) as any[];
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.slice(1).map((chunk) => chunk.choices[0].delta)).toEqual([
      {
        tool_calls: [
          { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' }, extra_content: { google: { thought_signature: 'abc' } } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '"Porto"}' } }] },
      {},
    ]);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  it('encodes refusals, and maps the finish reasons OpenAI does not have to stop', () => {
    const enc = encoder(false);
    const text = [
      { type: 'block-start', block: { id: 'r', kind: 'refusal' } },
      { type: 'block-delta', id: 'r', text: 'No.' },
      { type: 'block-end', id: 'r' },
      { type: 'finish', finish: { unified: 'other', raw: 'eos' } },
      { type: 'finish', finish: { unified: 'length', raw: 'length' } },
    ]
      .map((event) => enc.encode(event as CoreStreamEvent))
      .join('');
    const chunks = frames(text) as any[];
    expect(chunks[1].choices[0].delta).toEqual({ refusal: 'No.' });
    expect(chunks[2].choices[0].finish_reason).toBe('stop');
    expect(chunks[3].choices[0].finish_reason).toBe('length');
  });
});
