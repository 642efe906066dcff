/** The playground: the request body it builds, the streamed reply it assembles, stop, and the cost from the gateway's event. */
import { describe, expect, it } from 'vitest';
import { addChunk, emptyReply, streamChat } from '../../src/renderer/src/playground/chat-stream.js';
import { buildChatBody, createPlaygroundStore, type ChatEntry } from '../../src/renderer/src/stores/playground-store.js';
import { FakeClient } from './fake-client.js';
import { summary } from './request-summary-fixture.js';

function sseResponse(chunks: string[], headers: Record<string, string> = {}): Response {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(new TextEncoder().encode(chunk));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', ...headers } });
}

const frame = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;

describe('addChunk', () => {
  it('assembles text, reasoning, tool calls, finish reason and usage', () => {
    const reply = emptyReply();
    addChunk(reply, { model: 'm', choices: [{ delta: { reasoning_content: 'think ' } }] });
    addChunk(reply, { choices: [{ delta: { content: 'Hi' } }] });
    addChunk(reply, { choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'weather', arguments: '{"ci' } }] } }] });
    addChunk(reply, { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Lisbon"}' } }] }, finish_reason: 'tool_calls' }] });
    addChunk(reply, { choices: [], usage: { prompt_tokens: 3, completion_tokens: 9, completion_tokens_details: { reasoning_tokens: 2 } } });
    expect(reply).toMatchObject({ content: 'Hi', reasoning: 'think ', finishReason: 'tool_calls', model: 'm', usage: { promptTokens: 3, completionTokens: 9, reasoningTokens: 2 } });
    expect(reply.toolCalls).toEqual([{ index: 0, id: 'call_1', name: 'weather', arguments: '{"city":"Lisbon"}' }]);
    addChunk(reply, { error: { message: 'upstream broke' } });
    expect(reply.error).toBe('upstream broke');
  });
});

describe('streamChat', () => {
  it('sends the playground tag and key, and measures the first token', async () => {
    let sent: RequestInit | undefined;
    let now = 0;
    const fetchStub = (async (_url: string, init: RequestInit) => {
      sent = init;
      now = 40;
      return sseResponse([frame({ choices: [{ delta: { content: 'Hel' } }] }), frame({ choices: [{ delta: { content: 'lo' }, finish_reason: 'stop' }] }), 'data: [DONE]\n\n'], { 'x-switchyard-request-id': 'req-1' });
    }) as unknown as typeof fetch;
    const result = await streamChat({ baseUrl: 'http://gw/v1', key: 'sy-play', tags: 'source:playground', body: { model: 'm', messages: [] }, signal: new AbortController().signal, onUpdate: () => undefined, fetch: fetchStub, now: () => now });
    expect(result).toMatchObject({ requestId: 'req-1', firstTokenMs: 40, aborted: false, reply: { content: 'Hello', finishReason: 'stop' } });
    const headers = sent?.headers as Record<string, string>;
    expect(headers.authorization).toBe('Bearer sy-play');
    expect(headers['x-tags']).toBe('source:playground');
    expect(JSON.parse(sent?.body as string)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('reports the gateway\'s error message', async () => {
    const fetchStub = (async () => new Response(JSON.stringify({ error: { message: 'The model does not exist' } }), { status: 404 })) as unknown as typeof fetch;
    const result = await streamChat({ baseUrl: '', key: 'k', tags: '', body: {}, signal: new AbortController().signal, onUpdate: () => undefined, fetch: fetchStub });
    expect(result.reply.error).toBe('The model does not exist');
  });
});

describe('buildChatBody', () => {
  it('sends the system prompt, the turns, and only the settings the user set', () => {
    const entries: ChatEntry[] = [
      { id: '1', role: 'user', content: 'hi', reply: null, meta: null, streaming: false, stopped: false },
      { id: '2', role: 'assistant', content: '', reply: { ...emptyReply(), content: 'hello' }, meta: null, streaming: false, stopped: false },
      { id: '3', role: 'user', content: 'again', reply: null, meta: null, streaming: false, stopped: false },
    ];
    const body = buildChatBody({ model: 'gpt-4.1-mini', system: 'Be brief.', temperature: 0.2, maxTokens: null, reasoningEffort: 'low', tools: '' }, entries);
    expect(body).toEqual({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'again' },
      ],
      temperature: 0.2,
      reasoning_effort: 'low',
    });
  });
});

describe('the playground store', () => {
  it('loads models grouped with prices, streams a reply, and takes its cost from request.finished', async () => {
    const client = new FakeClient({
      'playground.connection': () => ({ baseUrl: 'http://gw/v1', key: 'sy-play', tags: 'source:playground' }),
      'models.prices': ({ models }) => models.map((model) => ({ ...model, inputPerMillion: 0.4, outputPerMillion: 1.6 })),
    });
    const fetchStub = (async (url: string) => {
      if (url.endsWith('/models')) return new Response(JSON.stringify({ data: [{ id: 'gpt-4.1-mini', owned_by: 'openai' }, { id: 'ollama/llama3.2', owned_by: 'ollama' }] }));
      return sseResponse([frame({ model: 'gpt-4.1-mini', choices: [{ delta: { content: 'Hi there' } }] }), frame({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } }), 'data: [DONE]\n\n'], { 'x-switchyard-request-id': 'req-9' });
    }) as unknown as typeof fetch;
    const store = createPlaygroundStore(client, fetchStub);
    await store.getState().loadModels();
    expect(store.getState().models.map((model) => [model.id, model.provider, model.inputPerMillion])).toEqual([
      ['gpt-4.1-mini', 'openai', 0.4],
      ['ollama/llama3.2', 'ollama', 0.4],
    ]);
    expect(store.getState().settings.model).toBe('gpt-4.1-mini');
    await store.getState().send('hello');
    const reply = store.getState().entries[1]!;
    expect(reply.reply?.content).toBe('Hi there');
    expect(reply.meta).toMatchObject({ requestId: 'req-9', inputTokens: 4, outputTokens: 2, costKnown: false });
    client.emit('request.finished', summary({ id: 'req-9', costNanoUsd: 4800 }));
    expect(store.getState().entries[1]!.meta).toMatchObject({ costKnown: true, costNanoUsd: 4800, priced: true });
    expect(store.getState().draft).toBe('');
  });

  it('refuses to send without a model or with invalid tools JSON', async () => {
    const client = new FakeClient({});
    const store = createPlaygroundStore(client, (async () => new Response('{}')) as unknown as typeof fetch);
    store.setState({ connection: { baseUrl: 'http://gw/v1', key: 'k', tags: '' } });
    await store.getState().send('hi');
    expect(store.getState().error).toBe('Choose a model first.');
    store.getState().updateSettings({ model: 'm', tools: '[not json' });
    await store.getState().send('hi');
    expect(store.getState().error).toContain('not valid JSON');
    expect(store.getState().entries).toHaveLength(0);
  });

  it('fills the chat from an inspector request, leaving the last user message in the composer', () => {
    const store = createPlaygroundStore(new FakeClient({}));
    store.getState().seed({ model: 'claude-sonnet-4-6', system: 'S', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }], temperature: 0.5, maxTokens: 100, reasoningEffort: 'high' });
    expect(store.getState().entries.map((entry) => entry.role)).toEqual(['user', 'assistant']);
    expect(store.getState().draft).toBe('c');
    expect(store.getState().settings).toMatchObject({ model: 'claude-sonnet-4-6', system: 'S', temperature: 0.5, maxTokens: 100, reasoningEffort: 'high' });
  });
});
