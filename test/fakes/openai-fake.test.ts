/**
 * Proves the OpenAI-compatible fakes are faithful by driving them with the official `openai` SDK (v6) and with
 * raw fetch for byte-level SSE checks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import {
  DEFAULT_MODELS,
  countWords,
  fakeEmbedding,
  fakeUsageFor,
  startOpenAIFake,
  type OpenAIFake,
  type OpenAIFlavor,
} from './openai-fake.js';

interface FlavorCfg {
  apiKey?: string;
  models?: string[];
  chatModel: string;
  reasoningModel: string;
  embedModel: string;
  /** Does the flavor return base64 when asked (so the SDK's default base64 decode works)? */
  base64: boolean;
}

const CFG: Record<OpenAIFlavor, FlavorCfg> = {
  openai: { apiKey: 'sk-test-abcdef123456', chatModel: 'gpt-4.1-mini', reasoningModel: 'o4-mini', embedModel: 'text-embedding-3-small', base64: true },
  xai: {
    apiKey: 'xai-test-key-987654',
    models: [...DEFAULT_MODELS.xai, 'grok-embed-fake'],
    chatModel: 'grok-3',
    reasoningModel: 'grok-3-mini',
    embedModel: 'grok-embed-fake',
    base64: true,
  },
  ollama: { chatModel: 'llama3.2:latest', reasoningModel: 'qwen3:8b', embedModel: 'nomic-embed-text:latest', base64: false },
  lmstudio: { chatModel: 'qwen2.5-7b-instruct', reasoningModel: 'qwen2.5-7b-instruct', embedModel: 'text-embedding-nomic-embed-text-v1.5', base64: false },
};

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parse an SSE body into the list of `data:` payloads, accepting \n\n, \r\n\r\n and mixed separators. */
function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((f) => f.trim())
    .filter((f) => f.length > 0)
    .map((f) => {
      expect(f.startsWith('data: ')).toBe(true);
      return f.slice('data: '.length);
    });
}

async function rawPost(fake: OpenAIFake, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const reads: string[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    reads.push(dec.decode(value, { stream: true }));
  }
  return { res, text: reads.join(''), reads };
}

describe.each(['openai', 'xai', 'ollama', 'lmstudio'] as const)('%s fake via the openai SDK', (flavor) => {
  const cfg = CFG[flavor];
  let fake: OpenAIFake;
  let client: OpenAI;
  const auth: Record<string, string> = cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {};

  beforeAll(async () => {
    fake = await startOpenAIFake({ flavor, apiKey: cfg.apiKey, models: cfg.models });
    client = new OpenAI({ apiKey: cfg.apiKey ?? 'ignored', baseURL: fake.url, maxRetries: 0, timeout: 5000 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('non-streaming chat: reply text, finish reason and exact usage', async () => {
    const body = {
      model: cfg.chatModel,
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: 'hi there' },
      ],
    };
    const { data, response } = await client.chat.completions.create(body).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe(cfg.chatModel);
    expect(data.choices[0]!.message.role).toBe('assistant');
    expect(data.choices[0]!.message.content).toBe(`Hello from ${flavor}! You said: hi there`);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    // P = (2+1) + (2+1) = 6 ; C = 7 words
    expect(data.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 7, total_tokens: 13 });
    expect(data.usage).toEqual(fakeUsageFor(flavor, body));
    if (flavor === 'openai') {
      expect(data.id).toMatch(/^chatcmpl-/);
      expect(response.headers.get('x-request-id')).toMatch(/^req_/);
      expect(data.usage!.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    }
    if (flavor === 'xai') expect(data.id).toMatch(UUID_RE);
    if (flavor === 'ollama') {
      expect(data.id).toMatch(/^chatcmpl-\d{1,3}$/);
      expect(data.system_fingerprint).toBe('fp_ollama');
      expect(Object.keys(data.usage!).sort()).toEqual(['completion_tokens', 'prompt_tokens', 'total_tokens']);
    }
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body });
  });

  it('prompt_cache_key yields cached_tokens = floor(prompt/2) (openai/xai)', async () => {
    const body = { model: cfg.chatModel, messages: [{ role: 'user' as const, content: 'one two three four' }], prompt_cache_key: 'k1' };
    const r = await client.chat.completions.create(body);
    expect(r.usage!.prompt_tokens).toBe(5);
    if (flavor === 'openai' || flavor === 'xai') expect(r.usage!.prompt_tokens_details!.cached_tokens).toBe(2);
    expect(r.usage).toEqual(fakeUsageFor(flavor, body));
  });

  it('streaming chat with include_usage: many chunks, text, finish reason, usage chunk', async () => {
    const body = { model: cfg.chatModel, messages: [{ role: 'user' as const, content: 'stream please' }], stream_options: { include_usage: true } };
    const stream = await client.chat.completions.create({ ...body, stream: true });
    let text = '';
    let contentChunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    const ids = new Set<string>();
    for await (const chunk of stream) {
      ids.add(chunk.id);
      const c = chunk.choices[0];
      if (c?.delta.content) {
        text += c.delta.content;
        contentChunks++;
      }
      if (c?.finish_reason) finish = c.finish_reason;
      if (chunk.usage) {
        expect(chunk.choices).toEqual([]);
        usage = chunk.usage;
      }
    }
    expect(text).toBe(`Hello from ${flavor}! You said: stream please`);
    expect(contentChunks).toBeGreaterThanOrEqual(10);
    expect(finish).toBe('stop');
    expect(ids.size).toBe(1);
    expect(usage).toEqual(fakeUsageFor(flavor, body));
  });

  it('streaming without include_usage sends no usage', async () => {
    const stream = await client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'x' }], stream: true });
    for await (const chunk of stream) expect(chunk.usage ?? null).toBeNull();
  });

  it('parallel tool calls assembled by the SDK stream helper, then the tool-result turn', async () => {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'weather in two cities [tools]' }];
    const runner = client.chat.completions.stream({ model: cfg.chatModel, messages, tools: TOOLS, stream_options: { include_usage: true } });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const calls = choice.message.tool_calls!;
    expect(calls).toHaveLength(2);
    const fnCalls = calls.map((c) => (c.type === 'function' ? c : undefined)).filter((c) => c !== undefined);
    expect(fnCalls.map((c) => c.function.name)).toEqual(['get_weather', 'get_weather']);
    expect(fnCalls.map((c) => JSON.parse(c.function.arguments))).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
    if (flavor === 'ollama') {
      for (const c of fnCalls) expect(c.id).toMatch(/^call_[a-z0-9]{8}$/);
      expect(fnCalls[0]!.id).not.toBe(fnCalls[1]!.id);
    } else {
      expect(fnCalls.map((c) => c.id)).toEqual(['call_1', 'call_2']);
    }
    // completion = 0 words + 5 per call
    expect(final.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 10, total_tokens: 16 });

    // non-streaming tool calls too
    const ns = await client.chat.completions.create({ model: cfg.chatModel, messages, tools: TOOLS, tool_choice: 'auto' });
    expect(ns.choices[0]!.finish_reason).toBe('tool_calls');
    expect(ns.choices[0]!.message.tool_calls).toHaveLength(2);

    const turn2: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      ...messages,
      { role: 'assistant', content: null, tool_calls: fnCalls.map((c) => ({ id: c.id, type: 'function', function: c.function })) },
      { role: 'tool', tool_call_id: fnCalls[0]!.id, content: '21C' },
      { role: 'tool', tool_call_id: fnCalls[1]!.id, content: '18C' },
    ];
    const r2 = await client.chat.completions.create({ model: cfg.chatModel, messages: turn2, tools: TOOLS });
    expect(r2.choices[0]!.message.content).toBe('Tool results: 21C; 18C');
    expect(r2.choices[0]!.finish_reason).toBe('stop');
  });

  it('reasoning marker: flavor-specific reasoning field and usage accounting', async () => {
    const body = { model: cfg.reasoningModel, messages: [{ role: 'user' as const, content: 'think [reasoning]' }] };
    const r = await client.chat.completions.create(body);
    const msg = r.choices[0]!.message as any;
    const reasoning = 'Let me think. The user said: think [reasoning]';
    const R = countWords(reasoning);
    const C = countWords(`Hello from ${flavor}! You said: think [reasoning]`);
    const P = 3;
    expect(r.usage).toEqual(fakeUsageFor(flavor, body));
    if (flavor === 'xai') {
      expect(msg.reasoning_content).toBe(reasoning);
      expect(r.usage).toMatchObject({ prompt_tokens: P, completion_tokens: C, total_tokens: P + C + R });
      expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBe(R);
    } else if (flavor === 'openai') {
      expect(msg.reasoning_content).toBeUndefined();
      expect(msg.reasoning).toBeUndefined();
      expect(r.usage).toMatchObject({ prompt_tokens: P, completion_tokens: C + R, total_tokens: P + C + R });
      expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBe(R);
    } else {
      expect(msg.reasoning).toBe(reasoning);
      expect(msg.reasoning_content).toBeUndefined();
      expect(r.usage).toEqual({ prompt_tokens: P, completion_tokens: C + R, total_tokens: P + C + R });
    }

    // streamed: reasoning deltas come first
    const stream = await client.chat.completions.create({ ...body, stream: true });
    const field = flavor === 'xai' ? 'reasoning_content' : 'reasoning';
    let streamedReasoning = '';
    let text = '';
    const chunks: any[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      const d = chunk.choices[0]?.delta as any;
      if (d?.[field]) {
        expect(text).toBe(''); // no content before reasoning ends
        streamedReasoning += d[field];
      }
      if (d?.content) text += d.content;
    }
    expect(text).toBe(`Hello from ${flavor}! You said: think [reasoning]`);
    if (flavor === 'openai') expect(streamedReasoning).toBe('');
    else expect(streamedReasoning).toBe(reasoning);
    if (flavor === 'xai') {
      // role rides on the first reasoning chunk; no role-only chunk
      expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', reasoning_content: 'Let' });
    }
  });

  it('[length] gives finish_reason length', async () => {
    const r = await client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'long [length]' }] });
    expect(r.choices[0]!.finish_reason).toBe('length');
  });

  it('embeddings: SDK default (base64) and float', async () => {
    const input = ['hello world', 'second input'];
    const floats = await client.embeddings.create({ model: cfg.embedModel, input, encoding_format: 'float' });
    expect(floats.object).toBe('list');
    expect(floats.data.map((d) => d.embedding)).toEqual(input.map((s) => fakeEmbedding(s)));
    expect(floats.data[0]!.embedding).toHaveLength(8);
    expect(floats.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const sent = fake.requests.at(-1)!;
    expect(sent.body.encoding_format).toBe('float');

    if (cfg.base64) {
      const def = await client.embeddings.create({ model: cfg.embedModel, input: 'hello world' });
      expect(fake.requests.at(-1)!.body.encoding_format).toBe('base64');
      expect(def.data[0]!.embedding).toEqual(fakeEmbedding('hello world'));
    } else {
      // ollama / lmstudio ignore encoding_format and return floats; the gateway must convert
      const { text } = await rawPost(fake, '/embeddings', { model: cfg.embedModel, input: 'hello world', encoding_format: 'base64' }, auth);
      expect(JSON.parse(text).data[0].embedding).toEqual(fakeEmbedding('hello world'));
    }

    await expect(client.embeddings.create({ model: cfg.embedModel, input: '' })).rejects.toBeInstanceOf(BadRequestError);
    const tokens = client.embeddings.create({ model: cfg.embedModel, input: [1, 2, 3], encoding_format: 'float' });
    if (flavor === 'ollama') await expect(tokens).rejects.toBeInstanceOf(BadRequestError);
    else expect((await tokens).data[0]!.embedding).toEqual(fakeEmbedding([1, 2, 3]));
    if (flavor === 'openai') {
      const d = await client.embeddings.create({ model: cfg.embedModel, input: 'x', dimensions: 4, encoding_format: 'float' });
      expect(d.data[0]!.embedding).toHaveLength(4);
    }
  });

  it('models list and retrieve', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) {
      ids.push(m.id);
      expect(m.object).toBe('model');
    }
    expect(ids).toEqual(cfg.models ?? DEFAULT_MODELS[flavor]);
    const one = await client.models.retrieve(ids[0]!);
    expect(one.id).toBe(ids[0]);
    await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('errors: 429 with retry-after, 500, unknown model 404', async () => {
    const e429 = await client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'x [error:429]' }] }).catch((e) => e);
    expect(e429).toBeInstanceOf(RateLimitError);
    expect(e429.status).toBe(429);
    expect(e429.headers.get('retry-after')).toBe('1');
    if (flavor === 'openai') {
      expect(e429.code).toBe('rate_limit_exceeded');
      expect(e429.type).toBe('tokens');
    }
    if (flavor === 'xai') expect(typeof e429.error).toBe('string');

    const e500 = await client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'x [error:500]' }] }).catch((e) => e);
    expect(e500).toBeInstanceOf(InternalServerError);
    if (flavor === 'openai') expect(e500.type).toBe('server_error');

    const e404 = await client.chat.completions.create({ model: 'nope-model', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(e404).toBeInstanceOf(NotFoundError);
    if (flavor === 'openai') expect(e404.code).toBe('model_not_found');
    if (flavor === 'ollama') expect(e404.type).toBe('not_found_error');
  });

  it('mid-stream error frame raises an APIError in the SDK iterator', async () => {
    const stream = await client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'x [error:midstream]' }], stream: true });
    let got = 0;
    const err = await (async () => {
      for await (const _ of stream) got++;
    })().catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(String(err.message)).toContain('The server had an error while processing your request.');
    expect(got).toBeGreaterThan(0);
    // non-stream: 500
    await expect(client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'x [error:midstream]' }] })).rejects.toBeInstanceOf(InternalServerError);
  });

  it('[drop] destroys the socket mid-stream: the SDK iterator rejects', async () => {
    const stream = await client.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'x [drop]' }], stream: true });
    let finish: string | null = null;
    const err = await (async () => {
      for await (const c of stream) finish = c.choices[0]?.finish_reason ?? finish;
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(finish).toBeNull();
    expect(fake.abortedStreams).toBe(0); // self-inflicted drops are not client aborts
  });

  it('strict validation rejections', async () => {
    const expect400 = async (body: any) => {
      const e = await client.chat.completions.create(body).catch((x) => x);
      expect(e, JSON.stringify(body)).toBeInstanceOf(BadRequestError);
      expect(e.status).toBe(400);
      if (flavor === 'xai') expect(typeof e.error).toBe('string');
      else expect(e.type).toBe('invalid_request_error');
      return e;
    };
    const m = cfg.chatModel;
    const call = { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
    // tool message answering an unknown id
    const e1 = await expect400({
      model: m,
      messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'call_zzz', content: 'r' }],
    });
    if (flavor === 'openai') expect(e1.param).toBe('messages.[2].tool_call_id');
    // tool message without any preceding tool_calls
    await expect400({ model: m, messages: [{ role: 'user', content: 'q' }, { role: 'tool', tool_call_id: 'call_a', content: 'r' }] });
    // tool_calls without responses before the next user message
    await expect400({ model: m, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'user', content: 'again' }] });
    await expect400({ model: m, messages: [] });
    await expect400({ model: m });
    await expect400({ messages: [{ role: 'user', content: 'q' }] });
    await expect400({ model: 42, messages: [{ role: 'user', content: 'q' }] });
    await expect400({ model: m, messages: [{ role: 'wizard', content: 'q' }] });
    await expect400({ model: m, messages: [{ role: 'user', content: 'q' }], stream_options: { include_usage: true } });
    if (flavor === 'openai') {
      const e = await expect400({ model: 'o3', messages: [{ role: 'user', content: 'q' }], max_tokens: 10 });
      expect(e.code).toBe('unsupported_parameter');
      // fine for non-o-series and with max_completion_tokens
      await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'q' }], max_tokens: 10 });
      await client.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'q' }], max_completion_tokens: 10 });
    }
    if (flavor === 'xai') {
      const e = await expect400({ model: 'grok-3-mini', messages: [{ role: 'user', content: 'q' }], presence_penalty: 0.5 });
      expect(e.error).toBe('Argument not supported on this model: presencePenalty');
      await expect400({ model: 'grok-3-mini', messages: [{ role: 'user', content: 'q' }], stop: ['x'] });
      await expect400({ model: 'grok-3-mini', messages: [{ role: 'user', content: 'q' }], frequency_penalty: 0.1 });
      await client.chat.completions.create({ model: 'grok-3', messages: [{ role: 'user', content: 'q' }], presence_penalty: 0.5, stop: ['x'] });
    }
    if (flavor === 'ollama') {
      // tool_choice is ignored, not rejected
      await client.chat.completions.create({ model: m, messages: [{ role: 'user', content: 'q' }], tool_choice: 'required', tools: TOOLS });
    }
    // body that is not JSON
    const raw = await rawPost(fake, '/chat/completions', '{not json', auth);
    expect(raw.res.status).toBe(400);
    // unknown path
    const nf = await rawPost(fake, '/nothing/here', {}, auth);
    expect(nf.res.status).toBe(404);
    const nfBody = JSON.parse(nf.text);
    if (flavor === 'xai') expect(typeof nfBody.error).toBe('string');
    else expect(nfBody.error).toMatchObject({ type: expect.any(String), param: null });
  });

  it('authentication', async () => {
    const bad = new OpenAI({ apiKey: 'wrong-key-000000', baseURL: fake.url, maxRetries: 0 });
    const p = bad.chat.completions.create({ model: cfg.chatModel, messages: [{ role: 'user', content: 'q' }] });
    if (flavor === 'openai') {
      const e = await p.catch((x) => x);
      expect(e).toBeInstanceOf(AuthenticationError);
      expect(e.code).toBe('invalid_api_key');
      expect(e.message).toContain('Incorrect API key provided');
    } else if (flavor === 'xai') {
      const e = await p.catch((x) => x);
      expect(e).toBeInstanceOf(BadRequestError);
      expect(e.error).toBe('Incorrect API key provided: wr***00. You can obtain an API key from https://console.x.ai.');
      expect(e.message).toContain('400 "Incorrect API key provided');
    } else {
      expect((await p).choices[0]!.message.content).toContain('Hello');
    }
  });

  it('[slow] stream: client abort is recorded and waitForAbort resolves', async () => {
    const before = fake.abortedStreams;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: cfg.chatModel, messages: [{ role: 'user', content: 'x [slow]' }], stream: true },
      { signal: controller.signal },
    );
    let n = 0;
    const started = Date.now();
    const done = (async () => {
      for await (const _ of stream) {
        if (++n === 4) controller.abort();
      }
    })().catch(() => undefined);
    await fake.waitForAbort();
    await done;
    expect(fake.abortedStreams).toBe(before + 1);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('raw SSE byte streams', () => {
  it('openai: exact chunk order with include_usage, obfuscation, mixed line endings, split frames', async () => {
    const fake = await startOpenAIFake({ flavor: 'openai' });
    try {
      const { res, text, reads } = await rawPost(fake, '/chat/completions', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(text).toContain('\r\n\r\n'); // some frames use CRLF
      expect(text).toMatch(/[^\r]\n\n/); // and some LF
      expect(reads.some((r) => !/\n\n$|\r\n\r\n$/.test(r))).toBe(true); // at least one frame split across writes
      const data = sseData(text);
      expect(data.at(-1)).toBe('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      const reply = 'Hello from openai! You said: Hi';
      const pieces = Math.ceil(reply.length / 3);
      expect(chunks).toHaveLength(1 + pieces + 1 + 1);
      for (const c of chunks) {
        expect(c.id).toBe(chunks[0].id);
        expect(c.created).toBe(chunks[0].created);
        expect(c.object).toBe('chat.completion.chunk');
        expect(typeof c.obfuscation).toBe('string');
      }
      expect(chunks[0].choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
      expect(chunks[0].usage).toBeNull();
      const content = chunks.slice(1, 1 + pieces);
      for (const c of content) {
        expect(Object.keys(c.choices[0].delta)).toEqual(['content']);
        expect(c.choices[0].finish_reason).toBeNull();
        expect(c.usage).toBeNull();
      }
      expect(content.map((c) => c.choices[0].delta.content).join('')).toBe(reply);
      expect(content[0].choices[0].delta.content).toBe('Hel');
      const fin = chunks[1 + pieces];
      expect(fin.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
      expect(fin.usage).toBeNull();
      const usage = chunks.at(-1);
      expect(usage.choices).toEqual([]);
      expect(usage.usage).toEqual({
        prompt_tokens: 2,
        completion_tokens: 6,
        total_tokens: 8,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      });

      // without include_usage: no usage key at all; include_obfuscation:false removes obfuscation
      const plain = await rawPost(fake, '/chat/completions', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_obfuscation: false },
      });
      const pchunks = sseData(plain.text).slice(0, -1).map((d) => JSON.parse(d));
      expect(pchunks).toHaveLength(1 + pieces + 1);
      for (const c of pchunks) {
        expect('usage' in c).toBe(false);
        expect('obfuscation' in c).toBe(false);
      }
    } finally {
      await fake.close();
    }
  });

  it('openai: tool-call fragments exactly like reference 1.4', async () => {
    const fake = await startOpenAIFake({ flavor: 'openai' });
    try {
      const { text } = await rawPost(fake, '/chat/completions', {
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'go [tools]' }],
        tools: TOOLS,
        stream: true,
      });
      const deltas = sseData(text)
        .slice(0, -1)
        .map((d) => JSON.parse(d).choices[0]);
      expect(deltas.map((c) => c.delta)).toEqual([
        { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '"Lisbon"}' } }] },
        { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        { tool_calls: [{ index: 1, function: { arguments: '{"city":"Porto"}' } }] },
        {},
      ]);
      expect(deltas.at(-1).finish_reason).toBe('tool_calls');
    } finally {
      await fake.close();
    }
  });

  it('xai: UUID ids, intermediate chunks omit finish_reason/logprobs, fingerprint present', async () => {
    const fake = await startOpenAIFake({ flavor: 'xai' });
    try {
      const { text } = await rawPost(fake, '/chat/completions', { model: 'grok-3', messages: [{ role: 'user', content: 'Hi' }], stream: true });
      const chunks = sseData(text).slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks[0].id).toMatch(UUID_RE);
      expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: 'Hel' });
      for (const c of chunks.slice(0, -1)) {
        expect(Object.keys(c.choices[0]).sort()).toEqual(['delta', 'index']);
        expect(c.system_fingerprint).toMatch(/^fp_/);
      }
      expect(chunks.at(-1).choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    } finally {
      await fake.close();
    }
  });

  it('ollama: chatcmpl-<n>, fp_ollama, role on every delta, whole tool calls; lmstudio: CRLF everywhere', async () => {
    const ollama = await startOpenAIFake({ flavor: 'ollama' });
    const lm = await startOpenAIFake({ flavor: 'lmstudio' });
    try {
      const { text } = await rawPost(ollama, '/chat/completions', {
        model: 'qwen3:8b',
        messages: [{ role: 'user', content: 'go [tools]' }],
        tools: TOOLS,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = sseData(text).slice(0, -1).map((d) => JSON.parse(d));
      for (const c of chunks) {
        expect(c.id).toMatch(/^chatcmpl-\d{1,3}$/);
        expect(c.system_fingerprint).toBe('fp_ollama');
      }
      const toolChunks = chunks.filter((c) => c.choices[0]?.delta.tool_calls);
      expect(toolChunks).toHaveLength(2);
      expect(toolChunks[0].choices[0].delta.tool_calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } });
      expect(toolChunks[1].choices[0].delta.tool_calls[0]).toMatchObject({ index: 1, function: { arguments: '{"city":"Porto"}' } });
      expect(chunks.at(-2).choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'tool_calls' });
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 10, total_tokens: 13 } });
      expect(Object.keys(chunks.at(-1).usage)).toHaveLength(3);

      const lmRes = await rawPost(lm, '/chat/completions', { model: 'qwen2.5-7b-instruct', messages: [{ role: 'user', content: 'Hi' }], stream: true });
      expect(lmRes.text.replace(/\r\n/g, '')).not.toContain('\n');
      expect(lmRes.text.endsWith('data: [DONE]\r\n\r\n')).toBe(true);
      expect(lmRes.reads.some((r) => r.endsWith('\r'))).toBe(true); // a frame split between \r and \n
      const lmChunks = sseData(lmRes.text).slice(0, -1).map((d) => JSON.parse(d));
      expect(lmChunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('Hello from lmstudio! You said: Hi');
    } finally {
      await ollama.close();
      await lm.close();
    }
  });

  it('[hang] with stream: client abort counts, and close() ends hung requests', async () => {
    const fake = await startOpenAIFake({ flavor: 'openai' });
    try {
      const controller = new AbortController();
      const p = fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: '[hang]' }], stream: true }),
        signal: controller.signal,
      }).catch((e) => e);
      // Aborted once the fake holds the request (a fixed delay could abort it before it arrived, and no abort would be counted).
      await vi.waitFor(() => expect(fake.requests.length).toBe(1), { timeout: 10_000 });
      controller.abort();
      await fake.waitForAbort();
      expect(fake.abortedStreams).toBe(1);
      expect(await p).toBeInstanceOf(Error);
      // a second hung request is ended by close()
      const p2 = fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: '[hang]' }] }),
      }).catch((e) => e);
      await new Promise((r) => setTimeout(r, 50));
      await fake.close();
      expect(await p2).toBeInstanceOf(Error);
      expect(fake.abortedStreams).toBe(1);
    } finally {
      await fake.close().catch(() => undefined);
    }
  });
});
