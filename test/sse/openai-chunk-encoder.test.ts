/**
 * The OpenAI chunk encoder (canonical events → `chat.completion.chunk` frames) and the
 * OpenAI-compatible stream translator (upstream SSE events → canonical events).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { OpenAICompatibleStreamTranslator, unifyFinishReason } from '../../src/main/gateway/providers/openai-compatible/stream.js';
import type { UpstreamTarget } from '../../src/main/gateway/providers/types.js';
import { SseDecoder, type SseEvent } from '../../src/main/gateway/sse/decoder.js';
import { OpenAIChunkEncoder } from '../../src/main/gateway/sse/openai-chunk-encoder.js';
import { StreamAccumulator } from '../../src/main/gateway/sse/stream-accumulator.js';
import type { StreamEvent, Usage } from '../../src/main/gateway/types.js';

/** Splits encoder output into frames: parsed JSON objects, or the string '[DONE]'. */
function frames(text: string): Array<Record<string, any> | '[DONE]'> {
  expect(text.endsWith('\n\n') || text === '').toBe(true);
  const decoder = new SseDecoder();
  const events = [...decoder.push(text), ...decoder.end()];
  return events.map((event) => (event.data === '[DONE]' ? '[DONE]' : (JSON.parse(event.data) as Record<string, any>)));
}

function encoder(includeUsage: boolean): OpenAIChunkEncoder {
  return new OpenAIChunkEncoder({ id: 'chatcmpl-gw', created: 1_700_000_000, model: 'requested-model', includeUsage });
}

const USAGE: Usage = { inputTokens: 10, cachedInputTokens: 4, cacheWriteInputTokens: 0, outputTokens: 7, reasoningTokens: 3 };

const SAMPLE: StreamEvent[] = [
  { type: 'start', id: 'chatcmpl-up', model: 'gpt-4o-mini', created: 1_700_000_123 },
  { type: 'text-delta', text: 'Hel' },
  { type: 'text-delta', text: 'lo "quoted"\n✓' },
  { type: 'finish', reason: { unified: 'stop', raw: 'stop' } },
  { type: 'usage', usage: USAGE },
];

function encodeAll(enc: OpenAIChunkEncoder, events: StreamEvent[]): string {
  return events.map((event) => enc.encode(event)).join('') + enc.finish();
}

describe('OpenAIChunkEncoder', () => {
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

  it('with include_usage but no usage from upstream: no usage chunk', () => {
    const out = frames(encodeAll(encoder(true), SAMPLE.slice(0, 4)));
    expect(out.at(-1)).toBe('[DONE]');
    expect((out.slice(0, -1) as Array<Record<string, any>>).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it('sends the role first even when content arrives before any start event', () => {
    const enc = encoder(false);
    const out = frames(enc.encode({ type: 'text-delta', text: 'x' }) + enc.encode({ type: 'text-delta', text: 'y' }));
    expect(out).toHaveLength(3);
    expect((out[0] as any).choices[0].delta.role).toBe('assistant');
    expect((out[0] as any).model).toBe('requested-model');
    expect((out[1] as any).choices[0].delta).toEqual({ content: 'x' });
  });

  it('opens each choice with its own role chunk', () => {
    const enc = encoder(false);
    const out = frames(enc.encode({ type: 'start', id: 'a', model: 'm' }) + enc.encode({ type: 'text-delta', text: 'second', choice: 1 }));
    expect(out.map((chunk: any) => [chunk.choices[0].index, chunk.choices[0].delta])).toEqual([
      [0, { role: 'assistant', content: '', refusal: null }],
      [1, { role: 'assistant', content: '', refusal: null }],
      [1, { content: 'second' }],
    ]);
  });

  it('encodes an error event as an OpenAI error frame', () => {
    const enc = encoder(true);
    const body = { message: 'upstream: boom', type: 'server_error', param: null, code: 'x' };
    expect(enc.encode({ type: 'error', error: { status: 502, body } })).toBe(`data: ${JSON.stringify({ error: body })}\n\n`);
  });

  it('encodes reasoning as reasoning_content and signed thinking blocks as thinking_blocks', () => {
    const enc = encoder(false);
    const text = [
      enc.encode({ type: 'start', id: 'a', model: 'm' }),
      enc.encode({ type: 'reasoning-delta', text: 'Let me ' }),
      enc.encode({ type: 'reasoning-delta', text: 'think.' }),
      enc.encode({ type: 'reasoning-delta', text: '', signature: 'sig-1' }),
      enc.encode({ type: 'reasoning-delta', text: '', redactedData: 'opaque==' }),
      enc.encode({ type: 'reasoning-delta', text: 'Again.', signature: 'sig-2' }),
    ].join('');
    const deltas = frames(text).map((chunk: any) => chunk.choices[0].delta);
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
    const text = [
      enc.encode({ type: 'tool-call-start', index: 0, id: 'call_a', name: 'get_weather', extraContent: { google: { thought_signature: 'abc' } } }),
      enc.encode({ type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' }),
      enc.encode({ type: 'tool-call-start', index: 1, id: 'call_b', name: 'get_weather' }),
      enc.encode({ type: 'tool-call-delta', index: 1, argumentsDelta: '"Porto"}' }),
      enc.encode({ type: 'finish', reason: { unified: 'tool_calls', raw: 'tool_calls' } }),
    ].join('');
    const chunks = frames(text) as any[];
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
    const text =
      enc.encode({ type: 'refusal-delta', text: 'No.' }) +
      enc.encode({ type: 'finish', reason: { unified: 'other', raw: 'eos' } }) +
      enc.encode({ type: 'finish', reason: { unified: 'length', raw: 'length' } });
    const chunks = frames(text) as any[];
    expect(chunks[1].choices[0].delta).toEqual({ refusal: 'No.' });
    expect(chunks[2].choices[0].finish_reason).toBe('stop');
    expect(chunks[3].choices[0].finish_reason).toBe('length');
  });
});

// ───────────────────────────── stream translator ─────────────────────────────

const config = loadConfig({ environment: {} });
function target(providerId: string, model: string): UpstreamTarget {
  const provider = config.providers.find((candidate) => candidate.id === providerId)!;
  return { provider, model, apiKey: null };
}

function sse(payload: unknown, event: string | null = null): SseEvent {
  return { event, data: typeof payload === 'string' ? payload : JSON.stringify(payload), id: null, retry: null };
}

function chunk(delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm', choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra };
}

function run(translator: OpenAICompatibleStreamTranslator, payloads: unknown[], withEnd = true): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const payload of payloads) events.push(...translator.push(payload instanceof Object && 'data' in (payload as object) ? (payload as SseEvent) : sse(payload)));
  if (withEnd) events.push(...translator.end());
  return events;
}

describe('OpenAICompatibleStreamTranslator', () => {
  it('emits start from the first chunk, text deltas, finish and usage; [DONE] marks it done', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [
      chunk({ role: 'assistant', content: '', refusal: null }),
      chunk({ content: 'Hi' }),
      chunk({}, 'stop'),
      { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
      '[DONE]',
    ]);
    expect(translator.done).toBe(true);
    expect(events).toEqual([
      { type: 'start', id: 'chatcmpl-1', model: 'm', created: 1_700_000_000 },
      { type: 'text-delta', text: 'Hi' },
      { type: 'finish', reason: { unified: 'stop', raw: 'stop' }, choice: undefined },
      {
        type: 'usage',
        usage: { inputTokens: 3, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 2, reasoningTokens: 0, raw: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
        // Passed on exactly as the upstream sent it.
        openAIUsage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      },
    ]);
  });

  it('takes reasoning from reasoning_content (xAI, DeepSeek) and from reasoning (Ollama, LM Studio)', () => {
    for (const field of ['reasoning_content', 'reasoning']) {
      const translator = new OpenAICompatibleStreamTranslator(target('ollama', 'qwen3:8b'));
      const events = run(translator, [chunk({ role: 'assistant', content: '', [field]: 'Let me' }), chunk({ [field]: ' think' }), chunk({ content: 'Answer' }), chunk({}, 'stop'), '[DONE]']);
      expect(events.filter((event) => event.type === 'reasoning-delta').map((event) => (event as { text: string }).text).join('')).toBe('Let me think');
      expect(events.filter((event) => event.type === 'text-delta')).toEqual([{ type: 'text-delta', text: 'Answer' }]);
    }
  });

  it('counts xAI reasoning tokens into output tokens', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('xai', 'grok-3-mini'));
    const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 15, completion_tokens_details: { reasoning_tokens: 6 } };
    const events = run(translator, [chunk({ content: 'x' }, 'stop'), { id: 'c', choices: [], usage }, '[DONE]']);
    const usageEvent = events.find((event) => event.type === 'usage') as Extract<StreamEvent, { type: 'usage' }>;
    expect(usageEvent.usage).toMatchObject({ inputTokens: 5, outputTokens: 10, reasoningTokens: 6 });
  });

  it('tells parallel tool calls apart when a server repeats index 0 with different ids', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('ollama', 'llama3.2:latest'));
    const events = run(translator, [
      chunk({ role: 'assistant', content: '', tool_calls: [{ index: 0, id: 'call_aaa', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } }] }),
      chunk({ role: 'assistant', content: '', tool_calls: [{ index: 0, id: 'call_bbb', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Porto"}' } }] }),
      chunk({ role: 'assistant', content: '' }, 'tool_calls'),
      '[DONE]',
    ]);
    expect(events.filter((event) => event.type.startsWith('tool-call'))).toEqual([
      { type: 'tool-call-start', index: 0, id: 'call_aaa', name: 'get_weather', choice: undefined },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":"Lisbon"}', choice: undefined },
      { type: 'tool-call-start', index: 1, id: 'call_bbb', name: 'get_weather', choice: undefined },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '{"city":"Porto"}', choice: undefined },
    ]);
  });

  it('keeps fragments that carry a fresh id but no name in the same call', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('lmstudio', 'qwen2.5-7b-instruct'));
    const events = run(translator, [
      chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'frag_2', type: 'function', function: { arguments: '{"q":' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'frag_3', type: 'function', function: { arguments: '"x"}' } }] }),
      // the same id repeated on every fragment, with the name again (LM Studio)
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
    const starts = events.filter((event) => event.type === 'tool-call-start');
    expect(starts).toEqual([{ type: 'tool-call-start', index: 0, id: 'call_1', name: 'lookup', choice: undefined }]);
    const accumulator = new StreamAccumulator();
    for (const event of events) accumulator.add(event);
    expect(accumulator.toCompletion().choices[0]!.message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
  });

  it('OpenAI-style tool calls at index 0 and 1 with arguments split over chunks', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4.1'));
    const events = run(translator, [
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'w', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'w', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"a":2}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
    const accumulator = new StreamAccumulator();
    for (const event of events) accumulator.add(event);
    const completion = accumulator.toCompletion();
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'w', arguments: '{"a":1}' } },
      { id: 'call_2', type: 'function', function: { name: 'w', arguments: '{"a":2}' } },
    ]);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('a stream that ends without a finish reason or [DONE] ends with an error', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [chunk({ role: 'assistant', content: 'partial' })]);
    const last = events.at(-1)!;
    expect(last.type).toBe('error');
    expect((last as Extract<StreamEvent, { type: 'error' }>).error.status).toBe(502);
    expect((last as Extract<StreamEvent, { type: 'error' }>).error.body).toMatchObject({ code: 'upstream_stream_incomplete', param: null });
    expect(Object.keys((last as Extract<StreamEvent, { type: 'error' }>).error.body).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(translator.done).toBe(true);
  });

  it('a stream with a finish reason but no [DONE] is complete', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [chunk({ content: 'x' }), chunk({}, 'length')]);
    expect(events.some((event) => event.type === 'error')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: { unified: 'length', raw: 'length' } });
  });

  it('an error frame (OpenAI shape, xAI shape, event: error) becomes an error event and stops the stream', () => {
    const shapes: SseEvent[] = [
      sse({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } }),
      sse({ code: 'Internal error', error: 'The server had an error' }),
      sse({ message: 'The server had an error' }, 'error'),
    ];
    for (const frame of shapes) {
      const translator = new OpenAICompatibleStreamTranslator(target('xai', 'grok-3'));
      const events = run(translator, [chunk({ content: 'a' }), frame], false);
      expect(translator.done).toBe(true);
      const error = events.at(-1) as Extract<StreamEvent, { type: 'error' }>;
      expect(error.type).toBe('error');
      expect(error.error.status).toBe(502);
      expect(error.error.body.message).toBe('xAI: The server had an error');
      expect(Object.keys(error.error.body).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(translator.end()).toEqual([]);
    }
  });

  it('a chunk that is not JSON is an error', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, ['{"choices": ['], false);
    expect(events).toMatchObject([{ type: 'error', error: { status: 502, body: { code: 'bad_upstream_response' } } }]);
    expect(translator.done).toBe(true);
  });

  it('tags events of other choices', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [{ id: 'x', choices: [{ index: 1, delta: { content: 'B' }, finish_reason: 'stop' }] }, '[DONE]']);
    expect(events.slice(1)).toEqual([
      { type: 'text-delta', text: 'B', choice: 1 },
      { type: 'finish', reason: { unified: 'stop', raw: 'stop' }, choice: 1 },
    ]);
  });

  it('unifies finish reasons', () => {
    expect(['stop', 'length', 'tool_calls', 'content_filter', 'function_call', 'eos', 'end_turn'].map(unifyFinishReason)).toEqual([
      'stop',
      'length',
      'tool_calls',
      'content_filter',
      'tool_calls',
      'other',
      'other',
    ]);
  });

  it('translator → encoder round trip keeps text, tool calls and usage', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('xai', 'grok-3-mini'));
    const enc = encoder(true);
    let text = '';
    const upstream = [
      chunk({ role: 'assistant', reasoning_content: 'Hmm.' }),
      chunk({ content: 'Done.' }),
      chunk({}, 'stop'),
      { id: 'c', choices: [], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 4, completion_tokens_details: { reasoning_tokens: 1 } } },
      '[DONE]',
    ];
    for (const event of run(translator, upstream)) text += enc.encode(event);
    text += enc.finish();
    const out = frames(text);
    const usageChunk = out.at(-2) as Record<string, any>;
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4, completion_tokens_details: { reasoning_tokens: 1 } });
    const deltas = (out.slice(0, -2) as any[]).map((c) => c.choices[0].delta);
    expect(deltas).toEqual([{ role: 'assistant', content: '', refusal: null }, { reasoning_content: 'Hmm.' }, { content: 'Done.' }, {}]);
  });
});
