import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicUsageFor, countWords, startAnthropicFake, THINKING_TEXT, TOOL_PREAMBLE, type ProviderFake } from './anthropic-fake';

const KEY = 'sk-ant-test-key';
const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const weatherTool = {
  name: 'get_weather',
  description: 'Current weather',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

/** Parse a raw Anthropic SSE body into [event, data] pairs. */
function parseSse(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((f) => f.trim())
    .map((f) => {
      const event = /^event: (.*)$/m.exec(f)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(f)![1]!);
      return { event, data };
    });
}

describe('anthropic fake driven by @anthropic-ai/sdk', () => {
  let fake: ProviderFake;
  let client: Anthropic;
  beforeAll(async () => {
    fake = await startAnthropicFake({ apiKey: KEY });
    client = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(async () => {
    expect(fake.rejected).toEqual([]);
    await fake.close();
  });

  it('messages.create: text reply, usage formula, headers the SDK sends', async () => {
    const body = { model: 'claude-haiku-4-5', max_tokens: 200, system: 'You are terse.', messages: [{ role: 'user' as const, content: 'Hi there friend' }] };
    const msg = await client.messages.create(body);
    expect(msg.type).toBe('message');
    expect(msg.id).toMatch(/^msg_01/);
    expect(msg.model).toBe('claude-haiku-4-5-20251001');
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from anthropic! You said: Hi there friend' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.stop_sequence).toBeNull();
    // input: system 3 words + message 3 words + 3; output: 8 words
    expect(msg.usage.input_tokens).toBe(3 + 3 + 3);
    expect(msg.usage.output_tokens).toBe(countWords('Hello from anthropic! You said: Hi there friend'));
    expect(msg.usage.cache_read_input_tokens).toBe(0);
    expect(anthropicUsageFor(body)).toMatchObject({ input_tokens: 9, output_tokens: 8 });
    const rec = fake.requests.at(-1)!;
    expect(rec.path).toBe('/v1/messages');
    expect(rec.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(rec.headers['anthropic-version']).toBe('2026-10-21');
  });

  it('messages.stream: 3-char text deltas, ping, message_delta usage, finalMessage()', async () => {
    const stream = client.messages.stream({ model: 'claude-haiku-4-5-20251001', max_tokens: 100, messages: [{ role: 'user', content: 'Stream please [ping]' }] });
    const types: string[] = [];
    const texts: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    const expected = 'Hello from anthropic! You said: Stream please [ping]';
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: 'text', text: expected });
    expect(texts.join('')).toBe(expected);
    expect(texts.every((t) => t.length <= 3)).toBe(true);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types.at(-2)).toBe('message_delta');
    expect(final.usage.output_tokens).toBe(countWords(expected));
    expect(final.stop_reason).toBe('end_turn');
  });

  it('raw SSE: exact event sequence, ping early, cumulative usage in message_delta, cache fields', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-opus-4-8', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Cache me [cache]' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    const events = parseSse(text);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events.map((e) => e.event).slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
    expect(events.map((e) => e.event).slice(-4)).toEqual(['content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const start = events[0]!.data.message;
    expect(start).toMatchObject({ content: [], stop_reason: null, stop_sequence: null });
    expect(start.usage).toMatchObject({ input_tokens: 3 + 3, cache_read_input_tokens: 100, cache_creation_input_tokens: 50, output_tokens: 1 });
    const md = events.at(-2)!.data;
    expect(md.delta).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
    expect(md.usage).toEqual({ input_tokens: 6, cache_creation_input_tokens: 50, cache_read_input_tokens: 100, output_tokens: countWords('Hello from anthropic! You said: Cache me [cache]') });
  });

  it('tool use: text + two tool_use blocks, streamed input_json_delta starts with "" and spans ≥2 deltas; tool_result turn', async () => {
    const stream = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 300, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Lisbon and Porto? [tools]' }] });
    const raw: any[] = [];
    stream.on('streamEvent', (e) => raw.push(e));
    const msg = await stream.finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect((msg.content[0] as any).text).toBe(TOOL_PREAMBLE);
    const uses = msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses.map((u) => u.input)).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
    for (const u of uses) expect(u.id).toMatch(/^toolu_01[A-Za-z0-9]+$/);
    const jsonDeltas = raw.filter((e) => e.type === 'content_block_delta' && e.index === 1).map((e) => e.delta.partial_json);
    expect(jsonDeltas[0]).toBe('');
    expect(jsonDeltas.length).toBeGreaterThanOrEqual(3);
    expect(msg.usage.output_tokens).toBe(countWords(TOOL_PREAMBLE) + 10);

    const followUp = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Lisbon and Porto? [tools]' },
        { role: 'assistant', content: msg.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: uses[0]!.id, content: '21C sunny' },
            { type: 'tool_result', tool_use_id: uses[1]!.id, content: [{ type: 'text', text: '18C cloudy' }] },
            { type: 'text', text: 'Summarise please' },
          ],
        },
      ],
    });
    expect(followUp.content).toEqual([{ type: 'text', text: 'Tool results: 21C sunny; 18C cloudy' }]);
    expect(followUp.stop_reason).toBe('end_turn');
  });

  it('[tools-noargs]: a tool_use with input {} streamed as a single "" input_json_delta', async () => {
    const stream = client.messages.stream({
      model: 'claude-haiku-4-5-20251001',
      max_tokens: 100,
      tools: [weatherTool, { name: 'get_time', description: 'Now', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: 'What time is it? [tools-noargs]' }],
    });
    const raw: any[] = [];
    stream.on('streamEvent', (e) => raw.push(e));
    const msg = await stream.finalMessage();
    expect(msg.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'get_time', input: {} })]);
    const deltas = raw.filter((e) => e.type === 'content_block_delta');
    expect(deltas.map((d) => d.delta)).toEqual([{ type: 'input_json_delta', partial_json: '' }]);
    expect(msg.usage.output_tokens).toBe(5);
  });

  it('thinking round trip with signatures (stream + non-stream), tool loop, and signature checks', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 4096,
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      tools: [weatherTool],
    };
    const stream = client.messages.stream({ ...params, messages: [{ role: 'user', content: 'Weather? [tools]' }] });
    const deltaTypes: string[] = [];
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta') deltaTypes.push(e.delta.type);
    });
    const first = await stream.finalMessage();
    expect(first.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
    const th = first.content[0] as Anthropic.ThinkingBlock;
    expect(th.thinking).toBe(THINKING_TEXT);
    expect(th.signature.length).toBeGreaterThan(20);
    expect(deltaTypes.filter((t) => t === 'signature_delta')).toHaveLength(1);
    expect(deltaTypes.indexOf('signature_delta')).toBe(deltaTypes.lastIndexOf('thinking_delta') + 1);
    expect(first.usage.output_tokens).toBe(countWords(THINKING_TEXT) + countWords(TOOL_PREAMBLE) + 10);

    const ids = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use').map((b) => b.id);
    const results = ids.map((id) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'ok' }));
    const second = await client.messages.create({
      ...params,
      messages: [
        { role: 'user', content: 'Weather? [tools]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: results },
      ],
    });
    expect(second.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect((second.content[1] as Anthropic.TextBlock).text).toBe('Tool results: ok; ok');

    // an edited signature is refused
    const edited = [{ ...th, signature: th.signature.slice(0, -4) + 'AAAA' }, ...first.content.slice(1)];
    const bad = client.messages.create({ ...params, messages: [{ role: 'user', content: 'Weather? [tools]' }, { role: 'assistant', content: edited }, { role: 'user', content: results }] });
    await expect(bad).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Invalid `signature` in `thinking` block') });
    // dropping the thinking block in the tool loop is refused
    const dropped = client.messages.create({ ...params, messages: [{ role: 'user', content: 'Weather? [tools]' }, { role: 'assistant', content: first.content.slice(1) }, { role: 'user', content: results }] });
    await expect(dropped).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(dropped).rejects.toMatchObject({ message: expect.stringContaining('Expected `thinking` or `redacted_thinking`, but found `text`') });
    fake.rejected.length = 0; // the two rejections above were intentional
  });

  it('[thinking] marker without thinking param, and adaptive thinking with display omitted', async () => {
    const a = await client.messages.create({ model: 'claude-opus-4-8', max_tokens: 100, messages: [{ role: 'user', content: 'Think [thinking]' }] });
    expect(a.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const b = await client.messages.create({ model: 'claude-opus-4-8', max_tokens: 100, thinking: { type: 'adaptive', display: 'omitted' } as any, messages: [{ role: 'user', content: 'Think' }] });
    expect(b.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
    expect(b.usage.output_tokens).toBe(countWords(THINKING_TEXT) + countWords('Hello from anthropic! You said: Think'));
  });

  it('stop reasons: [length], [refusal], [stop-seq]', async () => {
    const base = { model: 'claude-haiku-4-5-20251001', max_tokens: 50 };
    const l = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x [length]' }] });
    expect(l.stop_reason).toBe('max_tokens');
    const r = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x [refusal]' }] });
    expect(r.stop_reason).toBe('refusal');
    expect(r.content).toEqual([]);
    const s = await client.messages.create({ ...base, stop_sequences: ['END', 'STOP'], messages: [{ role: 'user', content: 'x [stop-seq]' }] });
    expect(s.stop_reason).toBe('stop_sequence');
    expect(s.stop_sequence).toBe('END');
  });

  it('models.list auto-paginates over all 5 default models (page size 2); models.retrieve', async () => {
    const before = fake.requests.length;
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(['claude-opus-4-8', 'claude-sonnet-4-6', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'claude-3-5-haiku-20241022']);
    const pages = fake.requests.slice(before);
    expect(pages).toHaveLength(3);
    expect(pages[1]!.query.after_id).toBe('claude-sonnet-4-6');
    const info = await client.models.retrieve('claude-haiku-4-5-20251001');
    expect(info).toMatchObject({ type: 'model', id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5' });
  });

  it('errors: 529 → OverloadedError (APIError 529), 429 → RateLimitError with retry-after', async () => {
    const e529 = await client.messages.create({ model: 'claude-opus-4-8', max_tokens: 10, messages: [{ role: 'user', content: 'x [error:529]' }] }).catch((e) => e);
    expect(e529).toBeInstanceOf(Anthropic.APIError);
    expect(e529.status).toBe(529);
    expect(e529.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(e529.headers.get('retry-after')).toBe('1');
    expect(e529.requestID).toMatch(/^req_/);
    const e429 = await client.messages.create({ model: 'claude-opus-4-8', max_tokens: 10, messages: [{ role: 'user', content: 'x [error:429]' }] }).catch((e) => e);
    expect(e429).toBeInstanceOf(Anthropic.RateLimitError);
    expect(e429.headers.get('retry-after')).toBe('1');
  });

  it('mid-stream error event is thrown by the SDK stream', async () => {
    const stream = client.messages.stream({ model: 'claude-opus-4-8', max_tokens: 10, messages: [{ role: 'user', content: 'x [error:midstream]' }] });
    const err = await stream.finalMessage().catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).toContain('Overloaded');
  });

  it('[slow] stream aborted by the client counts in abortedStreams', async () => {
    const stream = client.messages.stream({ model: 'claude-opus-4-8', max_tokens: 10, messages: [{ role: 'user', content: 'x [slow]' }] });
    const settled = stream.finalMessage().catch((e) => e);
    await new Promise<void>((resolve) => stream.on('text', () => resolve()));
    stream.abort();
    expect(await settled).toBeInstanceOf(Anthropic.APIUserAbortError);
    await fake.waitForAbort();
    expect(fake.abortedStreams).toBe(1);
  });

  it('count_tokens and image input', async () => {
    const r = await client.messages.countTokens({
      model: 'claude-sonnet-4-6',
      system: 'Be brief',
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_1x1 } }, { type: 'text', text: 'What is this?' }] }],
    });
    expect(r.input_tokens).toBe(2 + 3 + 3);
    const m = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'Describe' }] }],
    });
    expect(m.content[0]).toMatchObject({ text: 'Hello from anthropic! You said: Describe' });
  });
});

describe('anthropic fake: auth and strict validation (raw fetch)', () => {
  let fake: ProviderFake;
  beforeAll(async () => {
    fake = await startAnthropicFake({ apiKey: KEY });
  });
  afterAll(() => fake.close());

  async function post(body: unknown, headers: Record<string, string> = {}, path = '/v1/messages') {
    const res = await fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  }

  const u = (content: unknown) => ({ role: 'user', content });
  const a = (content: unknown) => ({ role: 'assistant', content });
  const ok = { model: 'claude-sonnet-4-5-20250929', max_tokens: 100 };
  const toolUse = (id: string) => ({ type: 'tool_use', id, name: 'get_weather', input: { city: 'Lisbon' } });

  it('accepts the older client form (x-api-key + 2023-06-01)', async () => {
    const r = await post({ ...ok, messages: [u('Hello')] });
    expect(r.status).toBe(200);
    expect(r.json.content[0].text).toBe('Hello from anthropic! You said: Hello');
    expect(r.headers.get('request-id')).toMatch(/^req_/);
  });

  it('auth: 401 authentication_error for a missing / wrong key; 400 for a missing / bad anthropic-version', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'anthropic-version': '2023-06-01' }, body: '{}' });
    expect(res.status).toBe(401);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(body.request_id).toMatch(/^req_/);
    expect(res.headers.get('request-id')).toBe(body.request_id);
    expect((await post({ ...ok, messages: [u('x')] }, { 'x-api-key': 'nope' })).status).toBe(401);
    expect((await post({ ...ok, messages: [u('x')] }, { 'x-api-key': '', authorization: `Bearer ${KEY}` })).status).toBe(200);
    const noVer = await fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': KEY }, body: JSON.stringify({ ...ok, messages: [u('x')] }) });
    expect(noVer.status).toBe(400);
    expect((await post({ ...ok, messages: [u('x')] }, { 'anthropic-version': '2024-01-01' })).status).toBe(400);
  });

  const cases: Array<[string, unknown, number, string]> = [
    ['model required', { max_tokens: 10, messages: [u('x')] }, 400, 'model: Field required'],
    ['unknown model → 404', { model: 'claude-nope', max_tokens: 10, messages: [u('x')] }, 404, 'model: claude-nope'],
    ['max_tokens required', { model: ok.model, messages: [u('x')] }, 400, 'max_tokens: Field required'],
    ['max_tokens positive int', { ...ok, max_tokens: 0, messages: [u('x')] }, 400, 'max_tokens: Input should be greater than or equal to 1'],
    ['max_tokens int', { ...ok, max_tokens: 1.5, messages: [u('x')] }, 400, 'max_tokens: Input should be a valid integer'],
    ['max_tokens over model limit', { ...ok, model: 'claude-3-5-haiku-20241022', max_tokens: 9000, messages: [u('x')] }, 400, 'maximum allowed number of output tokens'],
    ['messages non-empty', { ...ok, messages: [] }, 400, 'messages: at least one message is required'],
    ['system role in messages', { ...ok, messages: [{ role: 'system', content: 'x' }, u('y')] }, 400, 'Unexpected role "system"'],
    ['unknown role', { ...ok, messages: [{ role: 'tool', content: 'x' }] }, 400, "Input should be 'user' or 'assistant'"],
    ['first message user', { ...ok, messages: [a('hi'), u('x')] }, 400, 'first message must use the "user" role'],
    ['roles alternate', { ...ok, messages: [u('a'), u('b')] }, 400, 'messages: roles must alternate between user and assistant'],
    ['final assistant trailing whitespace', { ...ok, messages: [u('a'), a('The answer is ')] }, 400, 'final assistant content cannot end with trailing whitespace'],
    ['empty text block', { ...ok, messages: [u([{ type: 'text', text: '' }])] }, 400, 'messages: text content blocks must be non-empty'],
    ['whitespace text block', { ...ok, messages: [u([{ type: 'text', text: '  ' }])] }, 400, 'text content blocks must contain non-whitespace text'],
    ['empty string content', { ...ok, messages: [u('')] }, 400, 'all messages must have non-empty content'],
    ['empty content list', { ...ok, messages: [u([])] }, 400, 'all messages must have non-empty content'],
    ['system must be string or text blocks', { ...ok, system: [{ type: 'image' }], messages: [u('x')] }, 400, "system.0.type: Input should be 'text'"],
    ['system number', { ...ok, system: 5, messages: [u('x')] }, 400, 'system: Input should be a valid string or list'],
    ['extra top-level field', { ...ok, messages: [u('x')], user: 'bob' }, 400, 'user: Extra inputs are not permitted'],
    ['extra field on a block', { ...ok, messages: [u([{ type: 'text', text: 'x', index: 0 }])] }, 400, 'messages.0.content.0.index: Extra inputs are not permitted'],
    ['unknown block type', { ...ok, messages: [u([{ type: 'image_url', image_url: { url: 'x' } }])] }, 400, "Input tag 'image_url'"],
    ['tool_use id pattern', { ...ok, messages: [u('a'), a([{ ...toolUse('call.1') }]), u([{ type: 'tool_result', tool_use_id: 'call.1', content: 'r' }])] }, 400, "id: String should match pattern '^[a-zA-Z0-9_-]+$'"],
    ['tool_result without matching tool_use', { ...ok, messages: [u('a'), a('b'), u([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }])] }, 400, 'unexpected `tool_use_id` found in `tool_result` blocks: toolu_1'],
    ['tool_result must come first', { ...ok, messages: [u('a'), a([toolUse('toolu_1')]), u([{ type: 'text', text: 'here' }, { type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }])] }, 400, '`tool_result` blocks must come FIRST'],
    ['tool_use not answered', { ...ok, messages: [u('a'), a([toolUse('toolu_1'), toolUse('toolu_2')]), u([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }])] }, 400, '`tool_use` ids were found without `tool_result` blocks immediately after: toolu_2'],
    ['tool_use answered by text only', { ...ok, messages: [u('a'), a([toolUse('toolu_1')]), u('what?')] }, 400, 'without `tool_result` blocks immediately after: toolu_1'],
    ['tool name pattern', { ...ok, tools: [{ name: 'get weather', input_schema: { type: 'object' } }], messages: [u('x')] }, 400, "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"],
    ['input_schema.type object', { ...ok, tools: [{ name: 'f', input_schema: { type: 'OBJECT' } }], messages: [u('x')] }, 400, "tools.0.custom.input_schema.type: Input should be 'object'"],
    ['input_schema must be valid JSON schema', { ...ok, tools: [{ name: 'f', input_schema: { type: 'object', properties: { a: { type: 'STRING' } } } }], messages: [u('x')] }, 400, 'JSON schema is invalid'],
    ['OpenAI-style tool', { ...ok, tools: [{ type: 'function', function: { name: 'f' } }], messages: [u('x')] }, 400, "Input tag 'function'"],
    ['tool_choice shape', { ...ok, tools: [weatherTool], tool_choice: 'auto', messages: [u('x')] }, 400, 'tool_choice: Input should be a valid dictionary'],
    ['tool_choice type', { ...ok, tools: [weatherTool], tool_choice: { type: 'required' }, messages: [u('x')] }, 400, "Input tag 'required'"],
    ['tool_choice tool name required', { ...ok, tools: [weatherTool], tool_choice: { type: 'tool' }, messages: [u('x')] }, 400, 'tool_choice.tool.name: Field required'],
    ['tool_choice without tools', { ...ok, tool_choice: { type: 'auto' }, messages: [u('x')] }, 400, 'may only be specified while providing tools'],
    ['temperature > 1', { ...ok, temperature: 1.5, messages: [u('x')] }, 400, 'temperature: Input should be less than or equal to 1'],
    ['temperature and top_p on opus-4-8', { ...ok, model: 'claude-opus-4-8', temperature: 0.5, top_p: 0.9, messages: [u('x')] }, 400, 'temperature and top_p cannot both be specified for this model'],
    ['temperature and top_p on sonnet-4-6', { ...ok, model: 'claude-sonnet-4-6', temperature: 0.5, top_p: 0.9, messages: [u('x')] }, 400, 'temperature and top_p cannot both be specified for this model'],
    ['budget_tokens ≥ 1024', { ...ok, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 500 }, messages: [u('x')] }, 400, 'budget_tokens: Input should be greater than or equal to 1024'],
    ['budget_tokens < max_tokens', { ...ok, max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [u('x')] }, 400, '`max_tokens` must be greater than `thinking.budget_tokens`'],
    ['thinking + temperature ≠ 1', { ...ok, max_tokens: 4000, temperature: 0.7, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [u('x')] }, 400, '`temperature` may only be set to 1 when thinking is enabled'],
    ['thinking + forced tool_choice', { ...ok, max_tokens: 4000, tools: [weatherTool], tool_choice: { type: 'any' }, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [u('x')] }, 400, 'Thinking may not be enabled when tool_choice forces tool use'],
    ['thinking on and a tool loop without a thinking block', { ...ok, max_tokens: 4000, tools: [weatherTool], thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [u('a'), a([toolUse('toolu_1')]), u([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }])] }, 400, 'Expected `thinking` or `redacted_thinking`, but found `tool_use`'],
    ['thinking block with a signature the fake never issued', { ...ok, messages: [u('a'), a([{ type: 'thinking', thinking: 'hmm', signature: 'Zm9v' }, { type: 'text', text: 'b' }]), u('c')] }, 400, 'Invalid `signature` in `thinking` block'],
    ['thinking block without signature', { ...ok, messages: [u('a'), a([{ type: 'thinking', thinking: 'hmm' }, { type: 'text', text: 'b' }]), u('c')] }, 400, 'signature: Field required'],
    ['image media_type', { ...ok, messages: [u([{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: PNG_1x1 } }])] }, 400, "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"],
    ['image invalid base64', { ...ok, messages: [u([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'not base64!!' } }])] }, 400, 'Invalid base64 data'],
    ['image data URL instead of base64', { ...ok, messages: [u([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: `data:image/png;base64,${PNG_1x1}` } }])] }, 400, 'Invalid base64 data'],
    ['image media_type mismatch', { ...ok, messages: [u([{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG_1x1 } }])] }, 400, 'appears to be a image/png image'],
    ['image url source must be a URL', { ...ok, messages: [u([{ type: 'image', source: { type: 'url', url: 'file:///etc/passwd' } }])] }, 400, 'Input should be a valid URL'],
    ['count_tokens rejects max_tokens', { model: ok.model, max_tokens: 5, messages: [u('x')] }, 400, 'max_tokens: Extra inputs are not permitted'],
  ];

  it.each(cases)('rejects: %s', async (name, body, status, message) => {
    const before = fake.rejected.length;
    const r = await post(body, {}, name.startsWith('count_tokens') ? '/v1/messages/count_tokens' : '/v1/messages');
    expect(r.status).toBe(status);
    expect(r.json.type).toBe('error');
    expect(r.json.error.type).toBe(status === 404 ? 'not_found_error' : 'invalid_request_error');
    expect(r.json.error.message).toContain(message);
    expect(fake.rejected.length).toBe(before + 1);
    expect(fake.rejected.at(-1)).toMatchObject({ status, path: expect.stringMatching(/^\/v1\/messages/) });
  });

  it('accepts what the real API accepts: alias models, redundant headers, final assistant prefill, stop_sequences', async () => {
    const before = fake.rejected.length;
    const r = await post({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
      system: [{ type: 'text', text: 'Be brief', cache_control: { type: 'ephemeral' } }],
      messages: [u([{ type: 'text', text: 'Say hi', cache_control: { type: 'ephemeral', ttl: '1h' } }]), a('Hi')],
    });
    expect(r.status).toBe(200);
    expect(r.json.model).toBe('claude-haiku-4-5-20251001');
    expect(fake.rejected.length).toBe(before);
  });
});
