/**
 * The OpenAI-compatible stream translator reads a plain content chunk (the stream's own
 * leading fields, then one content delta) without JSON.parse. Every chunk must come out
 * exactly as JSON.parse would have read it: each variant below is pushed after the same first
 * chunk to two translators, once as sent and once with a leading space (which JSON.parse
 * ignores and the fast path never takes), and both must give the same events and state.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { OpenAICompatibleStreamTranslator } from '../../src/main/gateway/providers/openai-compatible/stream.js';
import type { UpstreamTarget } from '../../src/main/gateway/providers/types.js';
import type { SseEvent } from '../../src/main/gateway/sse/decoder.js';

const config = loadConfig({ environment: {} });
const provider = config.providers.find((candidate) => candidate.id === 'openai')!;
const target: UpstreamTarget = { provider, model: 'gpt-4.1-mini', apiKey: null };

const HEAD = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_1"';
const FIRST = `${HEAD},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}`;
const content = (literal: string, rest = ',"logprobs":null,"finish_reason":null}]}'): string => `${HEAD},"choices":[{"index":0,"delta":{"content":${literal}}${rest}`;

function event(data: string, name: string | null = null): SseEvent {
  return { event: name, data, id: null, retry: null };
}

function translate(first: string, chunks: Array<{ data: string; event?: string | null }>, pad: string) {
  const translator = new OpenAICompatibleStreamTranslator(target);
  const events = [...translator.push(event(first))];
  // [DONE] is not JSON: never padded.
  for (const chunk of chunks) events.push(...translator.push(event(chunk.data === '[DONE]' ? chunk.data : pad + chunk.data, chunk.event ?? null)));
  events.push(...translator.end());
  return { events, done: translator.done };
}

const variants: Record<string, Array<{ data: string; event?: string | null }>> = {
  'plain text': [{ data: content('"Hello"') }, { data: content('" world"') }],
  'an empty delta': [{ data: content('""') }],
  'escaped quotes, newlines and unicode escapes': [{ data: content('"say \\"hi\\"\\n\\u00e9\\ud83d\\ude00"') }],
  'a backslash escape alone': [{ data: content('"line\\nnext \\u0041"') }],
  'raw non-ASCII text': [{ data: content('"héllo 😀 世界"') }],
  'without logprobs': [{ data: content('"x"', ',"finish_reason":null}]}') }],
  'usage null and an obfuscation string': [{ data: content('"x"', ',"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"a1B2c3"}') }],
  'only an obfuscation string': [{ data: content('"x"', ',"logprobs":null,"finish_reason":null}],"obfuscation":"zz"}') }],
  'an obfuscation string with an escape': [{ data: content('"x"', ',"logprobs":null,"finish_reason":null}],"obfuscation":"a\\"b"}') }],
  'usage after the choices': [{ data: content('"x"', ',"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}') }],
  'a finish reason on the content chunk': [{ data: content('"x"', ',"logprobs":null,"finish_reason":"stop"}]}') }],
  'logprobs on the chunk': [{ data: content('"x"', ',"logprobs":{"content":[]},"finish_reason":null}]}') }],
  'a second choice': [{ data: content('"x"', ',"logprobs":null,"finish_reason":null},{"index":1,"delta":{"content":"y"},"finish_reason":null}]}') }],
  'another field in the delta': [{ data: content('"x","reasoning_content":"r"') }],
  'an error field after the choices': [{ data: content('"x"', ',"logprobs":null,"finish_reason":null}],"error":{"message":"boom","type":"server_error"}}') }],
  'an event named error': [{ data: content('"x"'), event: 'error' }],
  'trailing text after the chunk': [{ data: `${content('"x"')} ` }, { data: `${content('"y"')}}` }],
  'a raw control character (not JSON)': [{ data: content('"a\tb"') }],
  'a cut-off chunk (not JSON)': [{ data: content('"x"').slice(0, -2) }],
  'an unterminated text (not JSON)': [{ data: `${HEAD},"choices":[{"index":0,"delta":{"content":"abc` }],
  'a different id on a later chunk': [{ data: content('"x"').replace('chatcmpl-1', 'chatcmpl-2') }],
  'then finish, usage and [DONE]': [
    { data: content('"x"') },
    { data: `${HEAD},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` },
    { data: `${HEAD},"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` },
    { data: '[DONE]' },
  ],
};

afterEach(() => vi.restoreAllMocks());

describe('plain content chunks read without JSON.parse', () => {
  for (const [name, chunks] of Object.entries(variants)) {
    it(`${name}: the same events as JSON.parse gives`, () => {
      expect(translate(FIRST, chunks, '')).toEqual(translate(FIRST, chunks, ' '));
    });
  }

  it('padding really takes the parsing path, so the comparison above means something', () => {
    const parse = vi.spyOn(JSON, 'parse');
    translate(FIRST, variants['plain text']!, ' ');
    const padded = parse.mock.calls.length;
    parse.mockClear();
    translate(FIRST, variants['plain text']!, '');
    // The first chunk is parsed either way; the two content chunks only when padded.
    expect(padded).toBe(3);
    expect(parse.mock.calls.length).toBe(1);
  });

  it('a first chunk laid out otherwise (a field the translator does not know before choices) turns the fast path off', () => {
    const first = FIRST.replace('"system_fingerprint":"fp_1"', '"x_extra":{"a":1}');
    const parse = vi.spyOn(JSON, 'parse');
    const { events } = translate(first, [{ data: first.replace('{"role":"assistant","content":"","refusal":null}', '{"content":"hi"}') }], '');
    expect(parse.mock.calls.length).toBe(2);
    expect(events.filter((one) => one.type === 'block-delta')).toEqual([{ type: 'block-delta', id: 'blk_0', text: 'hi' }]);
  });

  it('the text of a plain chunk is taken as the upstream wrote it', () => {
    const { events } = translate(FIRST, [{ data: content('"word1 "') }, { data: content('"word2"') }], '');
    expect(events.filter((one) => one.type === 'block-delta').map((one) => (one as { text: string }).text)).toEqual(['word1 ', 'word2']);
  });
});
