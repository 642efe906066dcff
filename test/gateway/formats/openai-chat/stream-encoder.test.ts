/**
 * The openai-chat stream encoder over core events writes byte for byte what the gateway's old
 * OpenAI chunk encoder wrote for the same content, and the accumulator assembles the same
 * completion for the log. The old path (OpenAI-pivot events → OpenAIChunkEncoder /
 * StreamAccumulator) is gone; what it wrote was recorded in fixtures/old-chunk-encoder.json:
 * - the old encoder's own test cases: the same content as core events, the old bytes, the old
 *   completion;
 * - recorded OpenAI-compatible streams: the upstream bytes (split in awkward places here),
 *   through the provider's stream translator → OpenAIChatStreamEncoder / CoreStreamAccumulator,
 *   against the old bytes and completion. (Anthropic and Gemini are checked against the chunk
 *   bytes of the old path kept in their own fixtures, in test/gateway/anthropic and
 *   test/gateway/gemini.)
 * Also: every block has exactly one start and one end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreStreamEvent } from '../../../../src/main/core/types.js';
import { loadConfig } from '../../../../src/main/gateway/config.js';
import { CoreStreamAccumulator } from '../../../../src/main/gateway/formats/openai-chat/accumulator.js';
import { ChatChunkDecoder } from '../../../../src/main/gateway/formats/openai-chat/decode-stream.js';
import { encodeChatCompletion } from '../../../../src/main/gateway/formats/openai-chat/encode-response.js';
import { OpenAIChatStreamEncoder } from '../../../../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { OpenAICompatibleStreamTranslator } from '../../../../src/main/gateway/providers/openai-compatible/stream.js';
import type { CoreStreamTranslator, UpstreamTarget } from '../../../../src/main/gateway/providers/types.js';
import { SseDecoder, type SseEvent } from '../../../../src/main/gateway/sse/decoder.js';

const OPTIONS = { id: 'chatcmpl-gw', created: 1_700_000_000, model: 'requested-model' };

interface Recorded {
  includeUsage: boolean;
  /** The old encoder's bytes, `[DONE]` included. */
  chunks: string;
  /** The old accumulator's completion (choice 0 only). */
  completion: unknown;
}
interface EncoderCase extends Recorded {
  name: string;
  events: CoreStreamEvent[];
}
interface UpstreamCase extends Recorded {
  name: string;
  provider: string;
  model: string;
  upstream: string;
}
const FIXTURE = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'old-chunk-encoder.json'), 'utf8')) as {
  encoderCases: EncoderCase[];
  roundTrip: { events: CoreStreamEvent[] };
  upstreamStreams: UpstreamCase[];
};

/** Core events through the new encoder and accumulator against what the old path wrote. */
function expectSame(core: CoreStreamEvent[], recorded: Recorded, choiceZeroOnly = true): void {
  const encoder = new OpenAIChatStreamEncoder({ ...OPTIONS, includeUsage: recorded.includeUsage });
  expect(core.map((event) => encoder.encode(event)).join('') + encoder.finish()).toBe(recorded.chunks);
  const accumulator = new CoreStreamAccumulator();
  for (const event of core) accumulator.add(event);
  const completion = encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true });
  // The old accumulator kept choice 0 only; the core one keeps every choice (n > 1 streams are logged whole).
  expect(choiceZeroOnly ? { ...completion, choices: completion.choices.filter((choice) => choice.index === 0) } : completion).toEqual(recorded.completion);
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

describe('OpenAIChatStreamEncoder: the old encoder cases, byte for byte', () => {
  it('covers every case the old encoder was tested with', () => {
    expect(FIXTURE.encoderCases.map((entry) => entry.name)).toEqual([
      'sample',
      'sample with include_usage',
      'sample without usage, include_usage',
      'usage passed on exactly as the upstream sent it',
      'content before any start event',
      'a second choice with its own role chunk',
      'an error event',
      'reasoning and signed thinking blocks',
      'tool calls, with extra_content when present',
      'refusals, and finish reasons OpenAI does not have',
    ]);
  });

  for (const entry of FIXTURE.encoderCases) {
    it(entry.name, () => expectSame(entry.events, entry));
  }
});

// ───────────────────────────── recorded upstream streams ─────────────────────────────

const config = loadConfig({ environment: {} });
function target(providerId: string, model: string): UpstreamTarget {
  return { provider: config.providers.find((candidate) => candidate.id === providerId)!, model, apiKey: 'k' };
}

/** The upstream bytes through a translator, split in awkward places, as the pipeline feeds it. */
function translate(translator: CoreStreamTranslator, text: string): CoreStreamEvent[] {
  const decoder = new SseDecoder();
  const core: CoreStreamEvent[] = [];
  const step = (events: SseEvent[]): void => {
    for (const event of events) {
      if (translator.done) return;
      core.push(...translator.push(event));
    }
  };
  for (let at = 0; at < text.length; at += 37) step(decoder.push(text.slice(at, at + 37)));
  step(decoder.end());
  if (!translator.done) core.push(...translator.end());
  return core;
}

describe('recorded upstream streams: the core path against what the old encoder and accumulator wrote', () => {
  it('covers reasoning, parallel tool calls, usage with details, xAI counting, a stream cut short', () => {
    expect(FIXTURE.upstreamStreams.map((entry) => `${entry.provider}/${entry.includeUsage}`)).toEqual([
      'openai/false',
      'openai/true',
      'xai/false',
      'xai/true',
      'ollama/false',
      'ollama/true',
      'openai/true',
    ]);
    // Cut short: the old path ended with an error frame and no [DONE].
    expect(FIXTURE.upstreamStreams.at(-1)!.chunks).toContain('upstream_stream_incomplete');
  });

  for (const entry of FIXTURE.upstreamStreams) {
    it(`${entry.name} (include_usage ${entry.includeUsage})`, () => {
      const translator = new OpenAICompatibleStreamTranslator(target(entry.provider, entry.model));
      expectSame(translate(translator, entry.upstream), entry, false);
    });
  }
});

describe('ChatChunkDecoder reads back what the encoder writes', () => {
  it('text, reasoning with a signature, tool calls, finish and usage', () => {
    const core = FIXTURE.roundTrip.events;
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
    // The round trip covers a signed reasoning block, a tool call with extra_content and usage.
    expect(core.map((event) => event.type)).toContain('usage');
    expect(JSON.stringify(core)).toContain('"signature":"sig"');
    expect(JSON.stringify(core)).toContain('"thoughtSignature":"g"');
  });
});

describe('OpenAIChatStreamEncoder: choice 0 text frames from the parts made once', () => {
  it('writes the same bytes as the general frame, with and without usage, after the upstream renames the stream', () => {
    for (const includeUsage of [false, true]) {
      const encoder = new OpenAIChatStreamEncoder({ id: 'chatcmpl-gw', created: 1, model: 'asked', includeUsage });
      const usage = includeUsage ? ',"usage":null' : '';
      const head = (id: string, created: number, model: string, choice: number): string =>
        `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":${choice},"delta":`;
      const tail = `,"logprobs":null,"finish_reason":null}]${usage}}\n\n`;
      // Before any response-start: the role frame comes first, then the text frame.
      expect(encoder.encode({ type: 'block-start', block: { id: 'a', kind: 'text' } })).toBe('');
      expect(encoder.encode({ type: 'block-delta', id: 'a', text: 'one' })).toBe(
        `${head('chatcmpl-gw', 1, 'asked', 0)}{"role":"assistant","content":"","refusal":null}${tail}${head('chatcmpl-gw', 1, 'asked', 0)}{"content":"one"}${tail}`,
      );
      expect(encoder.encode({ type: 'block-delta', id: 'a', text: 'two "quoted"\n\u2028' })).toBe(`${head('chatcmpl-gw', 1, 'asked', 0)}{"content":${JSON.stringify('two "quoted"\n\u2028')}}${tail}`);
      // The upstream's id, model and created replace the request's in every later frame.
      encoder.encode({ type: 'response-start', id: 'chatcmpl-up"x', model: 'gpt/4', created: 7 });
      expect(encoder.encode({ type: 'block-delta', id: 'a', text: 'three' })).toBe(`${head('chatcmpl-up"x', 7, 'gpt/4', 0)}{"content":"three"}${tail}`);
      expect(encoder.encode({ type: 'block-delta', id: 'a' })).toBe(`${head('chatcmpl-up"x', 7, 'gpt/4', 0)}{"content":""}${tail}`);
      // Another choice: its own role frame, then its text.
      encoder.encode({ type: 'block-start', block: { id: 'b', kind: 'text' }, choice: 1 });
      expect(encoder.encode({ type: 'block-delta', id: 'b', text: 'x', choice: 1 })).toBe(
        `${head('chatcmpl-up"x', 7, 'gpt/4', 1)}{"role":"assistant","content":"","refusal":null}${tail}${head('chatcmpl-up"x', 7, 'gpt/4', 1)}{"content":"x"}${tail}`,
      );
      expect(encoder.encode({ type: 'finish', finish: { unified: 'stop', raw: 'stop' } })).toBe(`${head('chatcmpl-up"x', 7, 'gpt/4', 0)}{},"logprobs":null,"finish_reason":"stop"}]${usage}}\n\n`);
    }
  });
});
