/**
 * The openai-chat stream encoder over core events writes byte for byte what the gateway's
 * OpenAI chunk encoder wrote for the same content, and the accumulator assembles the same
 * completion for the log:
 * - the old encoder's own test cases, ported (legacy events → legacy bridge → core events);
 * - recorded OpenAI-compatible streams through its translator: old path (legacy events →
 *   OpenAIChunkEncoder / StreamAccumulator) against new (bridge → OpenAIChatStreamEncoder /
 *   CoreStreamAccumulator). (Anthropic and Gemini translate to core events themselves: their
 *   recorded streams are checked against the chunk bytes the old path wrote, kept in their
 *   fixtures, in test/gateway/anthropic and test/gateway/gemini.)
 * Also: every block the bridge emits has exactly one start and one end.
 */
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent } from '../../../../src/main/core/types.js';
import { loadConfig } from '../../../../src/main/gateway/config.js';
import { CoreStreamAccumulator } from '../../../../src/main/gateway/formats/openai-chat/accumulator.js';
import { ChatChunkDecoder } from '../../../../src/main/gateway/formats/openai-chat/decode-stream.js';
import { encodeChatCompletion } from '../../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { OpenAIChatStreamEncoder } from '../../../../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { LegacyStreamBridge } from '../../../../src/main/gateway/providers/legacy-bridge.js';
import { OpenAICompatibleStreamTranslator } from '../../../../src/main/gateway/providers/openai-compatible/stream.js';
import type { StreamTranslator, UpstreamTarget } from '../../../../src/main/gateway/providers/types.js';
import { SseDecoder, type SseEvent } from '../../../../src/main/gateway/sse/decoder.js';
import { OpenAIChunkEncoder } from '../../../../src/main/gateway/sse/openai-chunk-encoder.js';
import { StreamAccumulator } from '../../../../src/main/gateway/sse/stream-accumulator.js';
import type { StreamEvent, Usage } from '../../../../src/main/gateway/types.js';

const OPTIONS = { id: 'chatcmpl-gw', created: 1_700_000_000, model: 'requested-model' };

/** Legacy events as one translator step: the bridge sees them as its inner translator's output. */
function bridged(batches: StreamEvent[][], done = true): CoreStreamEvent[] {
  let index = 0;
  let finished = false;
  const inner: StreamTranslator = {
    push: () => {
      const batch = batches[index++] ?? [];
      if (index >= batches.length) finished = done;
      return batch;
    },
    end: () => [],
    get done() {
      return finished;
    },
  };
  const bridge = new LegacyStreamBridge(inner);
  const out: CoreStreamEvent[] = [];
  for (let step = 0; step < batches.length; step++) out.push(...bridge.push({ event: null, data: '', id: null, retry: null }));
  if (!bridge.done) out.push(...bridge.end());
  return out;
}

function expectSame(events: StreamEvent[], includeUsage: boolean, batches: StreamEvent[][] = [events]): void {
  const old = new OpenAIChunkEncoder({ ...OPTIONS, includeUsage });
  const oldText = events.map((event) => old.encode(event)).join('') + old.finish();
  const encoder = new OpenAIChatStreamEncoder({ ...OPTIONS, includeUsage });
  const core = bridged(batches);
  const newText = core.map((event) => encoder.encode(event)).join('') + encoder.finish();
  expect(newText).toBe(oldText);

  const oldAccumulator = new StreamAccumulator();
  for (const event of events) oldAccumulator.add(event);
  const accumulator = new CoreStreamAccumulator();
  for (const event of core) accumulator.add(event);
  // The old accumulator kept choice 0 only; the core one keeps every choice (n > 1 streams are logged whole).
  const completion = encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true });
  expect({ ...completion, choices: completion.choices.filter((choice) => choice.index === 0) }).toEqual(oldAccumulator.toCompletion());
  expectBlocksWellFormed(core);
}

/** Every block has one start before its deltas and one end; nothing after its end. */
function expectBlocksWellFormed(events: CoreStreamEvent[]): void {
  const state = new Map<string, 'open' | 'closed'>();
  const failed = events.some((event) => event.type === 'error');
  for (const event of events) {
    if (event.type === 'block-start') {
      expect(state.has(event.block.id)).toBe(false);
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

const USAGE: Usage = { inputTokens: 10, cachedInputTokens: 4, cacheWriteInputTokens: 0, outputTokens: 7, reasoningTokens: 3 };

describe('OpenAIChatStreamEncoder: the old encoder cases, byte for byte', () => {
  const sample: StreamEvent[] = [
    { type: 'start', id: 'chatcmpl-up', model: 'gpt-4o-mini', created: 1_700_000_123 },
    { type: 'text-delta', text: 'Hel' },
    { type: 'text-delta', text: 'lo "quoted"\n✓' },
    { type: 'finish', reason: { unified: 'stop', raw: 'stop' } },
    { type: 'usage', usage: USAGE },
  ];

  it('role chunk, content, finish, [DONE]; with and without include_usage', () => {
    expectSame(sample, false);
    expectSame(sample, true);
    expectSame(sample.slice(0, 4), true);
  });

  it('usage passed on exactly as the upstream sent it', () => {
    const openAIUsage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { audio_tokens: 0 } };
    expectSame([...sample.slice(0, 4), { type: 'usage', usage: USAGE, openAIUsage }], true);
  });

  it('content before any start event, and each choice with its own role chunk', () => {
    expectSame([{ type: 'text-delta', text: 'x' }, { type: 'text-delta', text: 'y' }], false);
    expectSame([{ type: 'start', id: 'a', model: 'm' }, { type: 'text-delta', text: 'second', choice: 1 }], false);
  });

  it('an error event as an OpenAI error frame', () => {
    const body = { message: 'upstream: boom', type: 'server_error', param: null, code: 'x' };
    expectSame([{ type: 'start', id: 'a', model: 'm' }, { type: 'text-delta', text: 'x' }, { type: 'error', error: { status: 502, body } }], true);
  });

  it('reasoning as reasoning_content and signed thinking blocks as thinking_blocks', () => {
    expectSame(
      [
        { type: 'start', id: 'a', model: 'm' },
        { type: 'reasoning-delta', text: 'Let me ' },
        { type: 'reasoning-delta', text: 'think.' },
        { type: 'reasoning-delta', text: '', signature: 'sig-1' },
        { type: 'reasoning-delta', text: '', redactedData: 'opaque==' },
        { type: 'reasoning-delta', text: 'Again.', signature: 'sig-2' },
        { type: 'text-delta', text: 'Answer.' },
        { type: 'finish', reason: { unified: 'stop', raw: 'end_turn' } },
      ],
      false,
    );
  });

  it('tool calls, with extra_content when present', () => {
    expectSame(
      [
        { type: 'tool-call-start', index: 0, id: 'call_a', name: 'get_weather', extraContent: { google: { thought_signature: 'abc' } } },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
        { type: 'tool-call-start', index: 1, id: 'call_b', name: 'get_weather' },
        { type: 'tool-call-delta', index: 1, argumentsDelta: '"Porto"}' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '"Lisbon"}' },
        { type: 'finish', reason: { unified: 'tool_calls', raw: 'tool_calls' } },
      ],
      false,
    );
  });

  it('refusals, and finish reasons OpenAI does not have read as stop', () => {
    expectSame(
      [
        { type: 'refusal-delta', text: 'No.' },
        { type: 'finish', reason: { unified: 'other', raw: 'eos' } },
        { type: 'finish', reason: { unified: 'length', raw: 'length' } },
      ],
      false,
    );
  });
});

// ───────────────────────────── recorded upstream streams ─────────────────────────────

const config = loadConfig({ environment: {} });
function target(providerId: string, model: string): UpstreamTarget {
  return { provider: config.providers.find((candidate) => candidate.id === providerId)!, model, apiKey: 'k' };
}

/** The upstream bytes through a translator, split in awkward places, old path against new. */
function compareStream(make: () => StreamTranslator, text: string, includeUsage: boolean): void {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += 37) chunks.push(text.slice(at, at + 37));
  const legacyEvents: StreamEvent[] = [];
  const batches: StreamEvent[][] = [];
  {
    const translator = make();
    const decoder = new SseDecoder();
    const step = (events: SseEvent[]): void => {
      for (const event of events) {
        if (translator.done) return;
        const batch = translator.push(event);
        batches.push(batch);
        legacyEvents.push(...batch);
      }
    };
    for (const chunk of chunks) step(decoder.push(chunk));
    step(decoder.end());
    if (!translator.done) {
      const batch = translator.end();
      batches.push(batch);
      legacyEvents.push(...batch);
    }
  }
  const old = new OpenAIChunkEncoder({ ...OPTIONS, includeUsage });
  const oldText = legacyEvents.map((event) => old.encode(event)).join('') + old.finish();
  const oldAccumulator = new StreamAccumulator();
  for (const event of legacyEvents) oldAccumulator.add(event);

  const bridge = new LegacyStreamBridge(make());
  const decoder = new SseDecoder();
  const core: CoreStreamEvent[] = [];
  const step = (events: SseEvent[]): void => {
    for (const event of events) {
      if (bridge.done) return;
      core.push(...bridge.push(event));
    }
  };
  for (const chunk of chunks) step(decoder.push(chunk));
  step(decoder.end());
  if (!bridge.done) core.push(...bridge.end());
  const encoder = new OpenAIChatStreamEncoder({ ...OPTIONS, includeUsage });
  expect(core.map((event) => encoder.encode(event)).join('') + encoder.finish()).toBe(oldText);
  const accumulator = new CoreStreamAccumulator();
  for (const event of core) accumulator.add(event);
  expect(encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true })).toEqual(oldAccumulator.toCompletion());
  expectBlocksWellFormed(core);
}

describe('recorded upstream streams: old encoder and accumulator against the core path', () => {
  it('openai-compatible: reasoning, parallel tool calls, usage with details, xAI counting', () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const text =
      chunk({ role: 'assistant', content: '', reasoning_content: 'Hmm.' }) +
      chunk({ content: 'Calling.' }) +
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'w', arguments: '' } }] }) +
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'w', arguments: '{"a":' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] }) +
      chunk({ tool_calls: [{ index: 1, function: { arguments: '2}' } }] }) +
      chunk({}, 'tool_calls') +
      `data: ${JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 4, completion_tokens_details: { reasoning_tokens: 1, audio_tokens: 0 } } })}\n\n` +
      'data: [DONE]\n\n';
    for (const provider of ['openai', 'xai', 'ollama']) {
      for (const includeUsage of [false, true]) compareStream(() => new OpenAICompatibleStreamTranslator(target(provider, 'm')), text, includeUsage);
    }
    // Cut short: an error, with the old bytes.
    compareStream(() => new OpenAICompatibleStreamTranslator(target('openai', 'm')), chunk({ content: 'partial' }), true);
  });
});

describe('ChatChunkDecoder reads back what the encoder writes', () => {
  it('text, reasoning with a signature, tool calls, finish and usage', () => {
    const events: StreamEvent[] = [
      { type: 'start', id: 'chatcmpl-up', model: 'm', created: 5 },
      { type: 'reasoning-delta', text: 'Think.' },
      { type: 'reasoning-delta', text: '', signature: 'sig' },
      { type: 'text-delta', text: 'Hi' },
      { type: 'tool-call-start', index: 0, id: 'call_a', name: 'f', extraContent: { google: { thought_signature: 'g' } } },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{}' },
      { type: 'finish', reason: { unified: 'tool_calls', raw: 'tool_calls' } },
      { type: 'usage', usage: USAGE },
    ];
    const core = bridged([events]);
    const encoder = new OpenAIChatStreamEncoder({ ...OPTIONS, includeUsage: true });
    const text = core.map((event) => encoder.encode(event)).join('') + encoder.finish();
    const decoder = new ChatChunkDecoder();
    const sse = new SseDecoder();
    const back: CoreStreamEvent[] = [];
    for (const event of [...sse.push(text), ...sse.end()]) back.push(...decoder.push(event.data));
    expectBlocksWellFormed(back);
    const a = new CoreStreamAccumulator();
    for (const event of core) a.add(event);
    const b = new CoreStreamAccumulator();
    for (const event of back) b.add(event);
    const first = a.toResponse();
    const second = b.toResponse();
    expect(encodeChatCompletion({ ...second, usage: null })).toEqual(encodeChatCompletion({ ...first, usage: null }));
    expect(second.usage).toMatchObject({ inputTokens: 10, cachedInputTokens: 4, outputTokens: 7, reasoningTokens: 3 });
  });
});
