/**
 * Same-format pass-through sends the client's own JSON text upstream when the body would go
 * unchanged (no model renamed, no parameter dropped or renamed, no message rewritten), instead
 * of serialising the parsed body again; whenever anything changes, or the client wrote a
 * top-level key twice (a reader that keeps the first `model` would call another model than the
 * one the gateway checked), the body is serialised as before. Checked on the bytes a raw
 * upstream receives, for OpenAI chat and Anthropic Messages clients, and on the answers.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { jsonKeyCount, jsonShape } from '../../src/main/gateway/json-body.js';
import { prepareChatRequest } from '../../src/main/gateway/providers/openai-compatible/request.js';
import { prepareResponsesRequest } from '../../src/main/gateway/providers/openai-compatible/responses-api.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../helpers.js';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-raw',
  object: 'chat.completion',
  created: 1760000000,
  model: 'gpt-4.1-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const CHUNK = (delta: string, finish: string): string =>
  `data: {"id":"chatcmpl-raw","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
const STREAM = `${CHUNK('{"role":"assistant","content":"hi"}', 'null')}${CHUNK('{}', '"stop"')}data: {"id":"chatcmpl-raw","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n`;
const MESSAGE = JSON.stringify({
  id: 'msg_raw',
  type: 'message',
  role: 'assistant',
  model: 'claude-haiku-4-5',
  content: [{ type: 'text', text: 'hi' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 3, output_tokens: 1 },
});

const RESPONSE = JSON.stringify({
  id: 'resp_raw',
  object: 'response',
  created_at: 1760000000,
  status: 'completed',
  model: 'gpt-4.1-mini',
  output: [{ type: 'message', id: 'msg_raw', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'hi', annotations: [] }] }],
  usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 },
});

/** An upstream that records each request body's bytes as received. */
let upstream: Server;
const received: string[] = [];
let gateway: TestGateway;

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.push(text);
      if (request.url?.endsWith('/responses')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(RESPONSE);
      } else if (request.url?.endsWith('/v1/messages')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(MESSAGE);
      } else if ((JSON.parse(text) as { stream?: boolean }).stream === true) {
        response.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAM);
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
      }
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address();
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  gateway = await startTestGateway({ environment: { OPENAI_API_KEY: 'sk-raw-openai-0123456789', OPENAI_BASE_URL: `${origin}/v1`, ANTHROPIC_API_KEY: 'sk-ant-raw-0123456789', ANTHROPIC_BASE_URL: origin } });
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => upstream?.close(resolve));
});

async function post(path: string, text: string): Promise<{ status: number; body: string; upstreamText: string }> {
  const before = received.length;
  const response = await fetch(`${gateway.origin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body: text });
  const body = await response.text();
  expect(received.length, body).toBe(before + 1);
  return { status: response.status, body, upstreamText: received[before]! };
}

describe('the client text forwarded when the pass-through changes nothing', () => {
  it('OpenAI chat: the odd spacing, escapes and number forms of the client reach the upstream as written; the answer is the upstream bytes', async () => {
    const text = `{ "model" : "gpt-4.1-mini",\n  "messages":[{"role":"user","content":"h\\u00e9llo \\"you\\""}], "temperature": 1.0, "seed": 12345678901234567890 }`;
    const { status, body, upstreamText } = await post('/v1/chat/completions', text);
    expect(status).toBe(200);
    expect(upstreamText).toBe(text);
    expect(body).toBe(COMPLETION);
  });

  it('OpenAI chat: a top-level key written twice is serialised once, with the value the gateway read (the last)', async () => {
    const text = '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"model":"gpt-4.1-mini"}';
    const { status, upstreamText } = await post('/v1/chat/completions', text);
    expect(status).toBe(200);
    expect(upstreamText).toBe(JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }));
  });

  it('OpenAI chat: a key repeated inside a nested object is serialised once too (a reader keeping the first would read another prompt or option)', async () => {
    const text = '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"a","content":"b"}]}';
    const { upstreamText } = await post('/v1/chat/completions', text);
    expect(upstreamText).toBe(JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'b' }] }));
    // The usage option the gateway reads as true, written false first: serialised with the value the gateway read.
    const options = '{"model":"gpt-4.1-mini","stream":true,"stream_options":{"include_usage":false,"include_usage":true},"messages":[{"role":"user","content":"hi"}]}';
    const streamed = await post('/v1/chat/completions', options);
    expect(JSON.parse(streamed.upstreamText)).toEqual({ model: 'gpt-4.1-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    expect(streamed.upstreamText).not.toContain('"include_usage":false');
  });

  it('OpenAI chat: a model named with its provider is renamed, so the body is serialised', async () => {
    const text = '{ "model": "openai/gpt-4.1-mini", "messages": [{"role":"user","content":"hi"}] }';
    const { status, upstreamText } = await post('/v1/chat/completions', text);
    expect(status).toBe(200);
    expect(upstreamText).toBe(JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }));
  });

  it('OpenAI chat streams: the usage option the gateway asks for is appended to the client text; a client that asked for it itself is forwarded as written', async () => {
    const added = await post('/v1/chat/completions', '{ "model": "gpt-4.1-mini", "stream": true, "messages": [{"role":"user","content":"hi"}] }\n');
    expect(added.status).toBe(200);
    expect(added.upstreamText).toBe('{ "model": "gpt-4.1-mini", "stream": true, "messages": [{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}');
    expect(JSON.parse(added.upstreamText)).toEqual({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } });
    const own = '{ "model": "gpt-4.1-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role":"user","content":"hi"}] }';
    const forwarded = await post('/v1/chat/completions', own);
    expect(forwarded.upstreamText).toBe(own);
    // The client that asked for usage gets it (`"usage":null` on each chunk, then the usage chunk); the other does not.
    expect(forwarded.body).toContain(',"usage":null}');
    expect(forwarded.body).toContain('"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}');
    expect(added.body).not.toContain('"usage"');
    expect(added.body).toContain('"delta":{"content":"hi"}');
  });

  it('Anthropic Messages: the client text reaches Anthropic as written; thinking blocks of another provider still make it serialised without them', async () => {
    const text = `{"model": "claude-haiku-4-5", "max_tokens": 50,\n "messages": [{"role": "user", "content": [{"type": "text", "text": "caf\\u00e9"}]}]}`;
    const forwarded = await post('/v1/messages', text);
    expect(forwarded.status).toBe(200);
    expect(forwarded.upstreamText).toBe(text);
    expect(forwarded.body).toBe(MESSAGE);

    const foreign = {
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 'sy1.other-provider' }, { type: 'text', text: 'hello' }] },
        { role: 'user', content: 'again' },
      ],
    };
    const stripped = await post('/v1/messages', ` ${JSON.stringify(foreign)}`);
    expect(stripped.status).toBe(200);
    expect(JSON.parse(stripped.upstreamText).messages[1].content).toEqual([{ type: 'text', text: 'hello' }]);
    expect(stripped.upstreamText.startsWith(' ')).toBe(false);
  });
});

describe('the client text forwarded to a Responses upstream', () => {
  it('a Responses request goes to OpenAI as written; the answer is its bytes', async () => {
    const text = `{"model": "gpt-4.1-mini",\n "input": "caf\\u00e9", "store": false}`;
    const { status, body, upstreamText } = await post('/v1/responses', text);
    expect(status, body).toBe(200);
    expect(upstreamText).toBe(text);
    expect(body).toBe(RESPONSE);
  });
});

describe('the pieces', () => {
  it('jsonShape counts the keys every object was written with, not colons inside strings; jsonKeyCount those a parsed value has', () => {
    expect(jsonShape('{"a":1,"b":{"c":2,"d":[{"e":3}]},"f":"g:h"}')).toEqual({ depth: 4, keys: 6 });
    expect(jsonShape('{"a":1,"a":2}').keys).toBe(2);
    expect(jsonShape('{"a\\":":1}').keys).toBe(1);
    expect(jsonShape('{}').keys).toBe(0);
    expect(jsonShape('[{"a":1}]').keys).toBe(1);
    for (const text of ['{"a":1,"b":{"c":2,"d":[{"e":3}]},"f":"g:h"}', '{}', '[{"a":1},{"b":{"c":null}}]', '{"x":[[],{}],"y":"{\\"z\\":1}"}']) {
      expect(jsonKeyCount(JSON.parse(text))).toBe(jsonShape(text).keys);
    }
    for (const text of ['{"a":1,"a":2}', '{"a":{"b":1,"b":1}}', '[{"a":[{"c":1,"c":2}]}]']) {
      expect(jsonKeyCount(JSON.parse(text))).toBeLessThan(jsonShape(text).keys);
    }
  });

  const providers = loadConfig({ environment: { OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', XAI_API_KEY: 'xai-x', XAI_BASE_URL: 'http://127.0.0.1:9/v1' } }).providers;
  const openai = providers.find((provider) => provider.id === 'openai')!;

  it('prepareChatRequest sends the text only when the body is unchanged', () => {
    const request = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
    const text = ' {"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}';
    expect(prepareChatRequest(request, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, text).request.body).toBe(text);
    expect(prepareChatRequest(request, { provider: openai, model: 'gpt-4.1', apiKey: 'k' }, text).request.body).toBe(JSON.stringify({ ...request, model: 'gpt-4.1' }));
    // A stream_options the upstream does not need on a non-streaming request is dropped.
    const withOptions = { ...request, stream_options: { include_usage: true } };
    expect(prepareChatRequest(withOptions, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, text).request.body).toBe(JSON.stringify(request));
    // An assistant message carrying another family's reasoning is rewritten.
    const rewritten = { model: 'gpt-4.1-mini', messages: [{ role: 'assistant' as const, content: 'a', thinking_blocks: [] }] };
    expect(prepareChatRequest(rewritten, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, 'TEXT').request.body).not.toBe('TEXT');
    // A stream: the usage option appended to the text when the request had none; other options are merged, so serialised.
    const stream = { ...request, stream: true };
    expect(prepareChatRequest(stream, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, '{"a":1 }\t').request.body).toBe('{"a":1,"stream_options":{"include_usage":true}}');
    for (const options of [null, { include_usage: false }, { include_usage: true, extra: 1 }]) {
      const withStreamOptions = { ...stream, stream_options: options } as typeof stream;
      expect(prepareChatRequest(withStreamOptions, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, 'TEXT').request.body).toBe(JSON.stringify({ ...stream, stream_options: { ...(options ?? {}), include_usage: true } }));
    }
    expect(prepareChatRequest({ ...stream, stream_options: { include_usage: true } }, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, 'TEXT').request.body).toBe('TEXT');
    // A text that is no object with members (never a validated request's) is not spliced.
    expect(prepareChatRequest(stream, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, '{ }').request.body).toBe(JSON.stringify({ ...stream, stream_options: { include_usage: true } }));
    // No text given: serialised.
    expect(prepareChatRequest(request, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }).request.body).toBe(JSON.stringify(request));
  });

  it('prepareResponsesRequest sends the text only when the model and input are unchanged', () => {
    const body = { model: 'gpt-4.1-mini', input: 'hi' };
    expect(prepareResponsesRequest(body, { provider: openai, model: 'gpt-4.1-mini', apiKey: 'k' }, 'TEXT').request.body).toBe('TEXT');
    expect(prepareResponsesRequest(body, { provider: openai, model: 'gpt-4.1', apiKey: 'k' }, 'TEXT').request.body).toBe(JSON.stringify({ ...body, model: 'gpt-4.1' }));
  });
});
