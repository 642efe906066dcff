/**
 * The OpenAI-compatible stream translator (upstream SSE events → core stream events with
 * block ids, starts and ends): start, text, reasoning under either name, usage (xAI counting,
 * the upstream's object kept as native), tool calls from servers that repeat indexes or ids,
 * streams cut short, error frames, other choices, and the round trip to the client's chunks.
 * (Ported from the tests of the old translator, which emitted OpenAI-pivot events.)
 */
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent } from '../../src/main/core/types.js';
import { loadConfig } from '../../src/main/gateway/config.js';
import { CoreStreamAccumulator } from '../../src/main/gateway/formats/openai-chat/accumulator.js';
import { unifiedFromOpenAI } from '../../src/main/gateway/formats/openai-chat/conventions.js';
import { encodeChatCompletion } from '../../src/main/gateway/formats/openai-chat/encode-response.js';
import { OpenAIChatStreamEncoder } from '../../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { OpenAICompatibleStreamTranslator } from '../../src/main/gateway/providers/openai-compatible/stream.js';
import type { UpstreamTarget } from '../../src/main/gateway/providers/types.js';
import { SseDecoder, type SseEvent } from '../../src/main/gateway/sse/decoder.js';

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

function run(translator: OpenAICompatibleStreamTranslator, payloads: unknown[], withEnd = true): CoreStreamEvent[] {
  const events: CoreStreamEvent[] = [];
  for (const payload of payloads) events.push(...translator.push(payload instanceof Object && 'data' in (payload as object) ? (payload as SseEvent) : sse(payload)));
  if (withEnd) events.push(...translator.end());
  return events;
}

/** The deltas of every block of one kind, in order. */
function deltasOfKind(events: CoreStreamEvent[], kind: string): CoreStreamEvent[] {
  const ids = new Set(events.flatMap((event) => (event.type === 'block-start' && event.block.kind === kind ? [event.block.id] : [])));
  return events.filter((event) => event.type === 'block-delta' && ids.has(event.id));
}

function completionOf(events: CoreStreamEvent[]) {
  const accumulator = new CoreStreamAccumulator();
  for (const event of events) accumulator.add(event);
  return encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true });
}

type ErrorEvent = Extract<CoreStreamEvent, { type: 'error' }>;

describe('OpenAICompatibleStreamTranslator', () => {
  it('emits start from the first chunk, a text block, finish and usage; [DONE] marks it done', () => {
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
      { type: 'response-start', id: 'chatcmpl-1', model: 'm', created: 1_700_000_000 },
      { type: 'block-start', block: { id: 'blk_0', kind: 'text' } },
      { type: 'block-delta', id: 'blk_0', text: 'Hi' },
      { type: 'block-end', id: 'blk_0' },
      { type: 'finish', finish: { unified: 'stop', raw: 'stop' } },
      {
        type: 'usage',
        usage: {
          inputTokens: 3,
          cachedInputTokens: 0,
          cacheWriteInputTokens: 0,
          outputTokens: 2,
          reasoningTokens: 0,
          raw: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
          // Passed on exactly as the upstream sent it.
          native: { family: 'openai', data: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
        },
      },
    ]);
  });

  it('takes reasoning from reasoning_content (xAI, DeepSeek) and from reasoning (Ollama, LM Studio)', () => {
    for (const field of ['reasoning_content', 'reasoning']) {
      const translator = new OpenAICompatibleStreamTranslator(target('ollama', 'qwen3:8b'));
      const events = run(translator, [chunk({ role: 'assistant', content: '', [field]: 'Let me' }), chunk({ [field]: ' think' }), chunk({ content: 'Answer' }), chunk({}, 'stop'), '[DONE]']);
      expect(deltasOfKind(events, 'reasoning').map((event) => (event as { text: string }).text).join('')).toBe('Let me think');
      expect(deltasOfKind(events, 'text')).toEqual([{ type: 'block-delta', id: 'blk_1', text: 'Answer' }]);
      // One reasoning block, then one text block.
      expect(events.filter((event) => event.type === 'block-start')).toEqual([
        { type: 'block-start', block: { id: 'blk_0', kind: 'reasoning' } },
        { type: 'block-start', block: { id: 'blk_1', kind: 'text' } },
      ]);
    }
  });

  it('counts xAI reasoning tokens into output tokens, and passes the usage on in OpenAI meaning', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('xai', 'grok-3-mini'));
    const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 15, completion_tokens_details: { reasoning_tokens: 6 } };
    const events = run(translator, [chunk({ content: 'x' }, 'stop'), { id: 'c', choices: [], usage }, '[DONE]']);
    const usageEvent = events.find((event) => event.type === 'usage') as Extract<CoreStreamEvent, { type: 'usage' }>;
    expect(usageEvent.usage).toMatchObject({ inputTokens: 5, outputTokens: 10, reasoningTokens: 6, raw: usage });
    expect(usageEvent.usage.native).toEqual({ family: 'openai', data: { ...usage, completion_tokens: 10, total_tokens: 15 } });
  });

  it('passes an OpenAI usage chunk on whole, the object the log keeps as raw', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4.1-mini'));
    const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9, prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 1, accepted_prediction_tokens: 0 } };
    const events = run(translator, [chunk({ content: 'x' }, 'stop'), { id: 'c', choices: [], usage }, '[DONE]']);
    const usageEvent = events.find((event) => event.type === 'usage') as Extract<CoreStreamEvent, { type: 'usage' }>;
    expect(usageEvent.usage).toMatchObject({ inputTokens: 5, cachedInputTokens: 2, outputTokens: 4, reasoningTokens: 1, raw: usage });
    expect(usageEvent.usage.native).toEqual({ family: 'openai', data: usage });
  });

  it('tells parallel tool calls apart when a server repeats index 0 with different ids', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('ollama', 'llama3.2:latest'));
    const events = run(translator, [
      chunk({ role: 'assistant', content: '', tool_calls: [{ index: 0, id: 'call_aaa', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } }] }),
      chunk({ role: 'assistant', content: '', tool_calls: [{ index: 0, id: 'call_bbb', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Porto"}' } }] }),
      chunk({ role: 'assistant', content: '' }, 'tool_calls'),
      '[DONE]',
    ]);
    expect(events.slice(1)).toEqual([
      { type: 'block-start', block: { id: 'blk_0', kind: 'tool-call', callId: 'call_aaa', name: 'get_weather', toolKind: 'function' } },
      { type: 'block-delta', id: 'blk_0', inputDelta: '{"city":"Lisbon"}' },
      { type: 'block-start', block: { id: 'blk_1', kind: 'tool-call', callId: 'call_bbb', name: 'get_weather', toolKind: 'function' } },
      { type: 'block-delta', id: 'blk_1', inputDelta: '{"city":"Porto"}' },
      { type: 'block-end', id: 'blk_0' },
      { type: 'block-end', id: 'blk_1' },
      { type: 'finish', finish: { unified: 'tool-calls', raw: 'tool_calls' } },
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
    const starts = events.filter((event) => event.type === 'block-start');
    expect(starts).toEqual([{ type: 'block-start', block: { id: 'blk_0', kind: 'tool-call', callId: 'call_1', name: 'lookup', toolKind: 'function' } }]);
    expect(completionOf(events).choices[0]!.message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
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
    const completion = completionOf(events);
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'w', arguments: '{"a":1}' } },
      { id: 'call_2', type: 'function', function: { name: 'w', arguments: '{"a":2}' } },
    ]);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('a stream that ends without a finish reason or [DONE] ends with an error (its open block left open)', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [chunk({ role: 'assistant', content: 'partial' })]);
    const last = events.at(-1)!;
    expect(last.type).toBe('error');
    expect((last as ErrorEvent).error).toMatchObject({ kind: 'upstream', status: 502, code: 'upstream_stream_incomplete', param: null, type: 'upstream_error' });
    expect(Object.keys((last as ErrorEvent).error).sort()).toEqual(['code', 'kind', 'message', 'param', 'status', 'type']);
    expect(events.some((event) => event.type === 'block-end')).toBe(false);
    expect(translator.done).toBe(true);
  });

  it('a stream with a finish reason but no [DONE] is complete', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [chunk({ content: 'x' }), chunk({}, 'length')]);
    expect(events.some((event) => event.type === 'error')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'finish', finish: { unified: 'length', raw: 'length' } });
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
      const error = events.at(-1) as ErrorEvent;
      expect(error.type).toBe('error');
      expect(error.error.status).toBe(502);
      expect(error.error.message).toBe('xAI: The server had an error');
      // xAI's sentence in `code` is no OpenAI code.
      expect(error.error.code).toBeNull();
      expect(Object.keys(error.error).sort()).toEqual(['code', 'kind', 'message', 'param', 'status', 'type']);
      expect(translator.end()).toEqual([]);
    }
  });

  it('a chunk that is not JSON is an error', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, ['{"choices": ['], false);
    expect(events).toMatchObject([{ type: 'error', error: { status: 502, code: 'bad_upstream_response' } }]);
    expect(translator.done).toBe(true);
  });

  it('tags events of other choices', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [{ id: 'x', choices: [{ index: 1, delta: { content: 'B' }, finish_reason: 'stop' }] }, '[DONE]']);
    expect(events.slice(1)).toEqual([
      { type: 'block-start', block: { id: 'blk_0', kind: 'text' }, choice: 1 },
      { type: 'block-delta', id: 'blk_0', text: 'B', choice: 1 },
      { type: 'block-end', id: 'blk_0', choice: 1 },
      { type: 'finish', finish: { unified: 'stop', raw: 'stop' }, choice: 1 },
    ]);
  });

  it('closes blocks still open at [DONE]', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('openai', 'gpt-4o-mini'));
    const events = run(translator, [chunk({ content: 'x' }), '[DONE]']);
    expect(events.slice(1)).toEqual([
      { type: 'block-start', block: { id: 'blk_0', kind: 'text' } },
      { type: 'block-delta', id: 'blk_0', text: 'x' },
      { type: 'block-end', id: 'blk_0' },
    ]);
  });

  it('unifies finish reasons', () => {
    expect(['stop', 'length', 'tool_calls', 'content_filter', 'function_call', 'eos', 'end_turn'].map(unifiedFromOpenAI)).toEqual([
      'stop',
      'length',
      'tool-calls',
      'content-filter',
      'tool-calls',
      'other',
      'other',
    ]);
  });

  it('translator → encoder round trip keeps text, tool calls and usage', () => {
    const translator = new OpenAICompatibleStreamTranslator(target('xai', 'grok-3-mini'));
    const enc = new OpenAIChatStreamEncoder({ id: 'chatcmpl-gw', created: 1_700_000_000, model: 'requested-model', includeUsage: true });
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
    const decoder = new SseDecoder();
    const out = [...decoder.push(text), ...decoder.end()].map((event) => (event.data === '[DONE]' ? '[DONE]' : (JSON.parse(event.data) as Record<string, any>)));
    expect(out.at(-1)).toBe('[DONE]');
    const usageChunk = out.at(-2) as Record<string, any>;
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4, completion_tokens_details: { reasoning_tokens: 1 } });
    const deltas = (out.slice(0, -2) as any[]).map((c) => c.choices[0].delta);
    expect(deltas).toEqual([{ role: 'assistant', content: '', refusal: null }, { reasoning_content: 'Hmm.' }, { content: 'Done.' }, {}]);
  });
});
