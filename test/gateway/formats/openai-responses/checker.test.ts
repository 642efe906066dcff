/**
 * Issue 13's independent check: the official `openai` SDK (`responses.create`,
 * `responses.stream`) through a gateway started as `switchyard serve` starts it (SQLite log),
 * to every upstream kind (OpenAI pass-through, Anthropic, Gemini, xAI, Ollama), with a request
 * built from the captured Codex 0.169 request (developer messages, function + namespace + hosted
 * tools, reasoning summary, store:false, include, prompt_cache_key, client_metadata) plus a
 * custom tool (apply_patch). Checked: the SSE event sequence and its sequence numbers, usage
 * (cached and reasoning tokens), the log row (endpoint, both request forms, cost against the
 * price catalogue computed here by hand), a custom tool round trip, previous_response_id across
 * upstreams, GET /v1/responses/{id}, upstream errors (before and during a stream) and bad input.
 */
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAnthropicFake, type ProviderFake as AnthropicFake } from '../../../fakes/anthropic-fake.js';
import { startGeminiFake, type ProviderFake as GeminiFake } from '../../../fakes/gemini-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../../../fakes/openai-fake.js';
import { startAppGateway } from '../../../app-gateway.js';
import { CODEX_CAPTURE, readCaptured, withSchemasRepaired } from '../../../helpers/captured.js';
import { lookupPrice } from '../../../../src/main/pricing/catalog.js';
import { UPSTREAM_SAME_AS_REQUEST } from '../../../../src/main/storage/content-addressing.js';
import { getRequest } from '../../../../src/main/storage/request-log-queries.js';
import { responsesFormat } from '../../../../src/main/gateway/formats/openai-responses/index.js';
import type { RunningGateway } from '../../../../src/main/headless.js';

const ANTHROPIC_KEY = 'sk-ant-checker-0123456789';
const GEMINI_KEY = 'gem-key-checker-0123456789';
const OPENAI_KEY = 'sk-openai-checker-0123456789';
const XAI_KEY = 'xai-checker-0123456789';

let anthropic: AnthropicFake;
let gemini: GeminiFake;
let openai: OpenAIFake;
let xai: OpenAIFake;
let ollama: OpenAIFake;
let gateway: RunningGateway;
let client: OpenAI;
let key: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-checker-'));
  [anthropic, gemini, openai, xai, ollama] = await Promise.all([
    startAnthropicFake({ apiKey: ANTHROPIC_KEY }),
    startGeminiFake({ apiKey: GEMINI_KEY }),
    startOpenAIFake({ flavor: 'openai' }),
    startOpenAIFake({ flavor: 'xai' }),
    startOpenAIFake({ flavor: 'ollama' }),
  ]);
  ({ gateway, key } = await startAppGateway({
    dataDir,
    environment: {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: gemini.url,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      XAI_API_KEY: XAI_KEY,
      XAI_BASE_URL: xai.url,
      OLLAMA_BASE_URL: ollama.url,
    },
  }));
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([anthropic?.close(), gemini?.close(), openai?.close(), xai?.close(), ollama?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const CAPTURED = readCaptured(CODEX_CAPTURE);
const APPLY_PATCH = { type: 'custom', name: 'apply_patch', description: 'Apply a patch to files.' };

/** The captured Codex body with its placeholder texts filled in, a custom tool added, and this prompt. */
function codexBody(model: string, prompt: string, session = '01a2494b-d06f-7aa0-99d4-3683b2ce0bd7'): Record<string, any> {
  const body = structuredClone(CAPTURED.body);
  body.model = model;
  body.prompt_cache_key = session;
  body.input = body.input.map((item: any, index: number) => ({
    ...item,
    content: item.content.map((part: any) => ({ ...part, text: index === body.input.length - 1 ? prompt : part.text.startsWith('<text') ? `Context ${index}.` : part.text })),
  }));
  body.tools = [...withSchemasRepaired(body.tools), APPLY_PATCH];
  return body;
}

interface LogRow {
  id: string;
  endpoint: string;
  provider: string;
  resolved_model: string;
  status: string;
  http_status: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_nano_usd: number;
  priced: number;
  conversation_id: string | null;
  warnings_json: string | null;
  upstream_request_json: string | null;
  /** The stored bodies as the log reads them back (content-addressed values restored). */
  request: any;
  upstream: any;
  response: any;
}

async function lastRow(): Promise<LogRow> {
  await gateway.application.context.requestLog.committed();
  const database = gateway.application.context.database!;
  const row = database.prepare('SELECT r.*, b.upstream_request_json FROM requests r LEFT JOIN bodies b ON b.request_seq = r.seq ORDER BY r.seq DESC LIMIT 1').get() as LogRow;
  const stored = getRequest(database, row.id);
  return { ...row, request: stored?.requestBody ?? null, upstream: stored?.upstreamRequestBody ?? null, response: stored?.responseBody ?? null };
}

/** Cost in nano-USD from the catalogue's $/1M rates, computed here (integers: rate × 1000 per token). */
function expectedCost(row: LogRow): number {
  const price = lookupPrice({ provider: row.provider, model: row.resolved_model });
  // A local server (Ollama) has no list price: its cost is unknown, logged as 0 and unpriced.
  if (!price) return 0;
  const uncached = row.input_tokens - row.cached_input_tokens - row.cache_write_input_tokens;
  const usd = uncached * price!.input + row.cached_input_tokens * (price!.cachedInput ?? price!.input) + row.cache_write_input_tokens * (price!.cacheWrite ?? price!.input) + row.output_tokens * price!.output;
  return Math.round(usd * 1000);
}

const EXPECTED_TEXT_SEQUENCE = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  'response.output_text.delta',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

/** Before the text: a reasoning item with its summary (Claude thinks when a summary is asked for). */
const REASONING_SEQUENCE = [
  'response.output_item.added',
  'response.reasoning_summary_part.added',
  'response.reasoning_summary_text.delta',
  'response.reasoning_summary_text.done',
  'response.reasoning_summary_part.done',
  'response.output_item.done',
];

const UPSTREAMS = [
  { kind: 'openai (pass-through)', model: 'gpt-4.1', provider: 'openai', reply: 'Hello from openai!' },
  { kind: 'anthropic', model: 'claude-sonnet-4-5', provider: 'anthropic', reply: 'Hello from anthropic!' },
  { kind: 'gemini', model: 'gemini/gemini-2.5-flash', provider: 'gemini', reply: 'Hello from gemini!' },
  { kind: 'xai', model: 'xai/grok-3', provider: 'xai', reply: 'Hello from xai!' },
  { kind: 'ollama', model: 'ollama/llama3.2:latest', provider: 'ollama', reply: 'Hello from ollama!' },
] as const;

describe.each(UPSTREAMS)('a Codex-shaped request to $kind', ({ model, provider, reply }) => {
  it('streams the exact event sequence, numbered from 0, and is logged with both request forms and its exact cost', async () => {
    const stream = client.responses.stream(codexBody(model, 'Say hi') as OpenAI.Responses.ResponseCreateParamsStreaming);
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const collapsed = events.map((event) => event.type).filter((type, index, all) => type !== all[index - 1]);
    const thinks = provider === 'anthropic';
    expect(collapsed).toEqual(thinks ? [...EXPECTED_TEXT_SEQUENCE.slice(0, 2), ...REASONING_SEQUENCE, ...EXPECTED_TEXT_SEQUENCE.slice(2)] : EXPECTED_TEXT_SEQUENCE);
    if (thinks) {
      // include: ['reasoning.encrypted_content'] → the reasoning item carries Claude's signature for the next turn.
      expect(final.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^switchyard\.v1:/) });
    }
    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent;
    expect(created.response.status).toBe('in_progress');
    expect(created.response.id).toBe(final.id);
    const deltas = events.filter((event): event is OpenAI.Responses.ResponseTextDeltaEvent => event.type === 'response.output_text.delta');
    const done = events.find((event): event is OpenAI.Responses.ResponseTextDoneEvent => event.type === 'response.output_text.done')!;
    expect(deltas.map((event) => event.delta).join('')).toBe(done.text);
    expect(done.text.startsWith(reply)).toBe(true);
    for (const event of deltas) expect([event.item_id, event.output_index]).toEqual([done.item_id, done.output_index]);
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe(done.text);
    const usage = final.usage!;
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);

    // What the stream ended with is what GET /v1/responses/{id} returns.
    await gateway.application.context.requestLog.committed();
    // (finalResponse() adds the SDK's own `parsed` / `output_parsed`.)
    const unparsed = JSON.parse(JSON.stringify(final, (name, value) => (name === 'parsed' || name === 'output_parsed' ? undefined : value)));
    expect(await client.responses.retrieve(final.id)).toEqual(unparsed);

    const row = await lastRow();
    expect(row).toMatchObject({ endpoint: '/v1/responses', provider, status: 'success', http_status: 200 });
    expect(row.id).toBeTruthy();
    expect([row.input_tokens, row.cached_input_tokens, row.output_tokens, row.reasoning_tokens]).toEqual([usage.input_tokens, usage.input_tokens_details.cached_tokens, usage.output_tokens, usage.output_tokens_details.reasoning_tokens]);
    expect(row.priced).toBe(provider === 'ollama' ? 0 : 1);
    expect(row.cost_nano_usd).toBe(expectedCost(row));
    if (provider !== 'ollama') expect(row.cost_nano_usd).toBeGreaterThan(0);
    const request = row.request;
    expect(request).toMatchObject({ model, store: false, include: ['reasoning.encrypted_content'] });
    // An upstream body equal to the client's is stored once (the marker reads back as the request's).
    const upstream = row.upstream;
    if (provider === 'openai') {
      // Pass-through: the client's body as it is, but for the model name.
      expect(upstream).toEqual({ ...request, model: 'gpt-4.1' });
    } else {
      expect(upstream).not.toHaveProperty('input');
      expect(upstream).not.toHaveProperty('store');
    }
  });

  it('answers the same request as JSON with create(), and GET /v1/responses/{id} returns it', async () => {
    const body = { ...codexBody(model, 'Say hi'), stream: false };
    const response = await client.responses.create(body as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.output_text.startsWith(reply)).toBe(true);
    const fetched = await client.responses.retrieve(response.id);
    expect(fetched).toEqual(response);
  });
});

describe('the translated Codex request, as the upstream got it', () => {
  it('Anthropic: developer messages as system, every function tool and apply_patch as a one-string tool, web_search dropped with a warning', async () => {
    await client.responses.create({ ...codexBody('claude-sonnet-4-5', 'Say hi'), stream: false } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const body = anthropic.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    const systemText = JSON.stringify(body.system);
    expect(systemText).toContain('Context 0.');
    expect(systemText).toContain('Context 1.');
    const names = body.tools.map((tool: any) => tool.name);
    for (const name of ['exec_command', 'write_stdin', 'request_user_input', 'view_image', 'get_goal', 'create_goal', 'update_goal', 'apply_patch']) expect(names).toContain(name);
    // The multi_agent_v1 namespace's tools are Codex's own (sub-agents), not hosted ones: they reach the model.
    const namespace = CAPTURED.body.tools.find((tool: any) => tool.type === 'namespace');
    for (const inner of namespace.tools) expect(names).toContain(inner.name);
    expect(names).toHaveLength(new Set(names).size);
    expect(body.tools.find((tool: any) => tool.name === 'apply_patch').input_schema).toMatchObject({ type: 'object', properties: { input: { type: 'string' } }, required: ['input'] });
    const row = await lastRow();
    // The tool lists are stored once each, apart from the bodies (content-addressing): read back whole.
    const stored = getRequest(gateway.application.context.database!, row.id);
    expect(JSON.stringify(stored?.requestBody)).toContain('web_search');
    expect(JSON.stringify(stored?.upstreamRequestBody)).not.toContain('web_search');
    expect(JSON.stringify(stored?.upstreamRequestBody)).toContain('apply_patch');
  });
});

describe('a namespace tool (Codex multi_agent_v1) on a translated upstream', () => {
  const NAMESPACE = {
    type: 'namespace',
    name: 'multi_agent_v1',
    description: 'Sub-agents.',
    tools: [
      { type: 'function', name: 'spawn_agent', description: 'Spawn an agent.', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { type: 'function', name: 'close_agent', description: 'Close an agent.', strict: false, parameters: { type: 'object', properties: { target: { type: 'string' } } } },
    ],
  };

  it('a call comes back as a function_call with its namespace, streamed and not, and its history goes back to the same tool', async () => {
    const body = { model: 'claude-sonnet-4-5', tools: [NAMESPACE], input: 'Spawn [tools]' } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming;
    const stream = client.responses.stream(body);
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const first = await stream.finalResponse();
    const upstream = anthropic.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    expect(upstream.tools.map((tool: any) => tool.name)).toEqual(['spawn_agent', 'close_agent']);
    const calls = first.output.filter((item) => item.type === 'function_call') as any[];
    expect(calls.map((call) => [call.namespace, call.name, JSON.parse(call.arguments)])).toEqual([
      ['multi_agent_v1', 'spawn_agent', { city: 'Lisbon' }],
      ['multi_agent_v1', 'spawn_agent', { city: 'Porto' }],
    ]);
    expect(events.filter((event) => event.type === 'response.output_item.added' && event.item.type === 'function_call').map((event) => event.item.namespace)).toEqual(['multi_agent_v1', 'multi_agent_v1']);
    expect(events.filter((event) => event.type === 'response.function_call_arguments.done').map((event) => event.name)).toEqual(['spawn_agent', 'spawn_agent']);
    const row = await lastRow();
    expect(JSON.parse(row.warnings_json ?? '[]')).toEqual([]);

    const second = await client.responses.create({
      model: 'claude-sonnet-4-5',
      tools: [NAMESPACE],
      input: [{ role: 'user', content: 'Spawn [tools]' }, ...first.output.filter((item) => item.type !== 'reasoning'), ...calls.map((call) => ({ type: 'function_call_output', call_id: call.call_id, output: 'spawned' }))],
    } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(second.output_text).toBe('Tool results: spawned; spawned');
    const replayed = anthropic.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    expect(replayed.messages[1].content.filter((block: any) => block.type === 'tool_use').map((block: any) => block.name)).toEqual(['spawn_agent', 'spawn_agent']);
  });

  it('a namespace tool whose name a top-level tool has is sent as <namespace>__<name>, and answered by its own name', async () => {
    const closeAgent = { type: 'function', name: 'close_agent', description: 'Top-level.', strict: false, parameters: { type: 'object', properties: {} } };
    const response = await client.responses.create({
      model: 'claude-sonnet-4-5',
      tools: [{ ...NAMESPACE, tools: [NAMESPACE.tools[1]] }, closeAgent],
      tool_choice: { type: 'function', name: 'multi_agent_v1__close_agent' },
      input: 'Close [tools]',
    } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const upstream = anthropic.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    expect(upstream.tools.map((tool: any) => tool.name)).toEqual(['multi_agent_v1__close_agent', 'close_agent']);
    const calls = response.output.filter((item) => item.type === 'function_call') as any[];
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.map((call) => [call.namespace, call.name])).toEqual(calls.map(() => ['multi_agent_v1', 'close_agent']));
  });
});

describe('a Codex tool turn with reasoning on Anthropic', () => {
  it('reasoning + function calls, replayed whole (encrypted_content included) with the outputs: Claude gets its signed thinking back', async () => {
    const body = codexBody('claude-sonnet-4-5', 'Run it [tools]');
    body.tools = [...body.tools.filter((tool: any) => tool.name !== 'exec_command'), body.tools.find((tool: any) => tool.name === 'exec_command')];
    body.tool_choice = { type: 'function', name: 'exec_command' };
    const stream = client.responses.stream(body as OpenAI.Responses.ResponseCreateParamsStreaming);
    for await (const _event of stream) void _event;
    const first = await stream.finalResponse();
    expect(first.output.map((item) => item.type)).toContain('reasoning');
    const calls = first.output.flatMap((item) => (item.type === 'function_call' ? [item] : []));
    expect(calls.length).toBeGreaterThan(0);
    const second = codexBody('claude-sonnet-4-5', 'Run it [tools]');
    second.input = [...second.input, ...first.output, ...calls.map((call) => ({ type: 'function_call_output', call_id: call.call_id, output: 'ok' }))];
    const stream2 = client.responses.stream(second as OpenAI.Responses.ResponseCreateParamsStreaming);
    for await (const _event of stream2) void _event;
    const final = await stream2.finalResponse();
    expect(final.output_text).toBe(calls.map(() => 'ok').join('; ').replace(/^/, 'Tool results: '));
    const upstream = anthropic.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    const assistant = upstream.messages.find((message: any) => message.role === 'assistant');
    expect(assistant.content[0]).toMatchObject({ type: 'thinking', signature: expect.any(String) });
    expect(anthropic.rejected ?? []).toEqual([]);
  });
});

describe('streamed function calls: one item at a time, as OpenAI streams them', () => {
  it.each([
    { kind: 'anthropic', model: 'claude-sonnet-4-5' },
    { kind: 'gemini', model: 'gemini/gemini-2.5-flash' },
    { kind: 'xai', model: 'xai/grok-3' },
    { kind: 'ollama', model: 'ollama/llama3.2:latest' },
    { kind: 'openai (pass-through)', model: 'gpt-4.1' },
  ])('$kind', async ({ model }) => {
    const stream = client.responses.stream({ model, tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }], input: 'Weather? [tools]' });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    // Every item's events lie between its output_item.added and output_item.done, and items do not overlap.
    let open: number | null = null;
    const seen: number[] = [];
    for (const event of events) {
      if (event.type === 'response.output_item.added') {
        expect(open).toBeNull();
        open = event.output_index;
        seen.push(event.output_index);
      } else if (event.type === 'response.output_item.done') {
        expect(event.output_index).toBe(open);
        open = null;
      } else if ('output_index' in event) expect(event.output_index).toBe(open);
    }
    expect(seen).toEqual(final.output.map((_, index) => index));
    const calls = final.output.flatMap((item) => (item.type === 'function_call' ? [item] : []));
    expect(calls.map((call) => JSON.parse(call.arguments))).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
    for (const call of calls) {
      const deltas = events.filter((event) => event.type === 'response.function_call_arguments.delta' && event.item_id === call.id).map((event) => event.delta).join('');
      expect(deltas).toBe(call.arguments);
    }
  });
});

describe('a function-call round trip on Gemini 2.5 (its calls carry thought signatures)', () => {
  it.each([false, true])('stream: %s — the signature comes back to Gemini with the replayed call', async (streamed) => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    let first: OpenAI.Responses.Response;
    if (streamed) {
      const stream = client.responses.stream({ model: 'gemini/gemini-2.5-flash', tools, input: 'Weather? [tools]', include: ['reasoning.encrypted_content'], store: false });
      for await (const _event of stream) void _event;
      first = await stream.finalResponse();
    } else first = await client.responses.create({ model: 'gemini/gemini-2.5-flash', tools, input: 'Weather? [tools]', include: ['reasoning.encrypted_content'], store: false });
    const calls = first.output.flatMap((item) => (item.type === 'function_call' ? [item] : []));
    expect(calls).toHaveLength(2);
    const second = await client.responses.create({
      model: 'gemini/gemini-2.5-flash',
      tools,
      store: false,
      input: [{ role: 'user', content: 'Weather? [tools]' }, ...first.output, ...calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: 'sunny' }))] as OpenAI.Responses.ResponseInput,
    });
    expect(second.output_text).toContain('Tool results:');
    expect(gemini.rejected ?? []).toEqual([]);
  });
});

describe('Responses fields on translated upstreams', () => {
  const SCHEMA = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
  const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

  it('Anthropic: effort → thinking, parallel_tool_calls:false → one call, max_output_tokens → max_tokens, input_image → an image block', async () => {
    const response = await client.responses.create({
      model: 'claude-sonnet-4-5',
      reasoning: { effort: 'high', summary: 'auto' },
      parallel_tool_calls: false,
      max_output_tokens: 20000,
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Weather? [tools]' }, { type: 'input_image', image_url: PNG, detail: 'auto' }] }],
    });
    const body = anthropic.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    expect(body.max_tokens).toBe(20000);
    expect(body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive').toBe(true);
    expect(body.tool_choice).toMatchObject({ disable_parallel_tool_use: true });
    expect(body.messages[0].content.map((block: any) => block.type)).toEqual(['text', 'image']);
    expect(response.output.filter((item) => item.type === 'function_call')).toHaveLength(1);
    expect(response.output[0]!.type).toBe('reasoning');
  });

  it('Gemini: text.format json_schema → a response schema; xAI: → response_format', async () => {
    await client.responses.create({ model: 'gemini/gemini-2.5-flash', input: 'JSON please', text: { format: { type: 'json_schema', name: 'answer', schema: SCHEMA, strict: true } } });
    const gem = gemini.requests.filter((request) => request.method === 'POST').at(-1)!.body as any;
    expect(gem.generationConfig.responseMimeType).toBe('application/json');
    expect(gem.generationConfig.responseJsonSchema ?? gem.generationConfig.responseSchema).toBeTruthy();
    await client.responses.create({ model: 'xai/grok-3', input: 'JSON please', text: { format: { type: 'json_schema', name: 'answer', schema: SCHEMA, strict: true } } });
    const x = xai.requests.at(-1)!.body as any;
    expect(x.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'answer', schema: SCHEMA } });
    expect(gemini.rejected ?? []).toEqual([]);
  });

  it('[length]: response.incomplete with incomplete_details max_output_tokens', async () => {
    const stream = client.responses.stream({ model: 'claude-sonnet-4-5', input: 'Long [length]', max_output_tokens: 16 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.incomplete');
    const row = await lastRow();
    const logged = row.response;
    expect(logged).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });
});

describe('usage', () => {
  it('streamed: cached tokens from Anthropic, Gemini and xAI reach response.completed and the log', async () => {
    for (const [model, input] of [
      ['claude-sonnet-4-5', 'Cached stream [cache]'],
      ['gemini/gemini-2.5-flash', 'Cached stream [cache]'],
      ['xai/grok-3', 'Cached stream'],
    ] as const) {
      const stream = client.responses.stream({ model, input, prompt_cache_key: 'checker-cache' });
      for await (const _event of stream) void _event;
      const usage = (await stream.finalResponse()).usage!;
      expect(usage.input_tokens_details.cached_tokens, model).toBeGreaterThan(0);
      const row = await lastRow();
      expect([row.input_tokens, row.cached_input_tokens, row.output_tokens], model).toEqual([usage.input_tokens, usage.input_tokens_details.cached_tokens, usage.output_tokens]);
      expect(row.cost_nano_usd, model).toBe(expectedCost(row));
    }
  });

  it('Anthropic cache reads: input_tokens counts the whole prompt and cached_tokens the read part; the cost uses the cache rates', async () => {
    const response = await client.responses.create({ model: 'claude-sonnet-4-5', input: 'Cached please [cache]' });
    const usage = response.usage!;
    expect(usage.input_tokens_details.cached_tokens).toBe(100);
    const row = await lastRow();
    expect(row.cache_write_input_tokens).toBe(50);
    // Anthropic's input_tokens is the uncached part; the Responses API's is the whole prompt.
    expect(usage.input_tokens).toBe(row.input_tokens);
    expect(usage.input_tokens).toBeGreaterThan(150);
    expect(row.cost_nano_usd).toBe(expectedCost(row));
  });

  it('Gemini thinking: reasoning_tokens reported and counted in output_tokens', async () => {
    const stream = client.responses.stream({ model: 'gemini/gemini-2.5-flash', input: 'Think [thinking]', reasoning: { effort: 'low', summary: 'auto' } });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    expect(final.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(final.usage!.output_tokens).toBeGreaterThan(final.usage!.output_tokens_details.reasoning_tokens);
    expect(types).toContain('response.reasoning_summary_text.delta');
    expect(final.output[0]!.type).toBe('reasoning');
  });

  it('xAI reasoning (excluded from its completion_tokens) is added into output_tokens', async () => {
    const response = await client.responses.create({ model: 'xai/grok-3-mini', input: 'Think [reasoning]', reasoning: { effort: 'low' } });
    const usage = response.usage!;
    expect(usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    const text = response.output_text.split(/\s+/).length;
    expect(usage.output_tokens).toBe(text + usage.output_tokens_details.reasoning_tokens);
  });
});

describe('a custom tool round trip (apply_patch) on a translated upstream', () => {
  it.each([
    { kind: 'anthropic', model: 'claude-sonnet-4-5' },
    { kind: 'ollama', model: 'ollama/llama3.2:latest' },
  ])('$kind: custom_tool_call out, custom_tool_call_output back as a tool result', async ({ model }) => {
    const stream = client.responses.stream({ model, tools: [APPLY_PATCH as OpenAI.Responses.CustomTool], tool_choice: { type: 'custom', name: 'apply_patch' }, input: 'Patch it [tools]' });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const first = await stream.finalResponse();
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const calls = first.output.filter((item): item is OpenAI.Responses.ResponseCustomToolCall => item.type === 'custom_tool_call');
    expect(calls.length).toBeGreaterThan(0);
    // OpenAI's prefix for a custom tool call's item id (it checks the prefix of replayed items).
    for (const call of calls) expect(call.id).toMatch(/^ctc_/);
    expect(calls[0]!.name).toBe('apply_patch');
    expect(events.some((event) => event.type === 'response.function_call_arguments.delta')).toBe(false);
    const inputDone = events.filter((event) => event.type === 'response.custom_tool_call_input.done') as Array<{ input: string }>;
    expect(inputDone.map((event) => event.input)).toEqual(calls.map((call) => call.input));
    const row = await lastRow();
    expect(row.conversation_id).toBeTruthy();
    expect(row.response.output.filter((item: any) => item.type === 'custom_tool_call')).toHaveLength(calls.length);

    const second = await client.responses.create({
      model,
      tools: [APPLY_PATCH as OpenAI.Responses.CustomTool],
      input: [
        { role: 'user', content: 'Patch it [tools]' },
        ...first.output.filter((item) => item.type !== 'reasoning'),
        ...calls.map((call) => ({ type: 'custom_tool_call_output' as const, call_id: call.call_id, output: 'Done!' })),
      ] as OpenAI.Responses.ResponseInput,
    });
    expect(second.output_text).toBe(calls.map(() => 'Done!').join('; ').replace(/^/, 'Tool results: '));
    const json = await client.responses.create({ model, tools: [APPLY_PATCH as OpenAI.Responses.CustomTool], tool_choice: { type: 'custom', name: 'apply_patch' }, input: 'Patch it [tools]' });
    for (const item of json.output) if (item.type === 'custom_tool_call') expect(item.id).toMatch(/^ctc_/);
  });
});

describe('previous_response_id across upstreams', () => {
  it('Gemini → xAI → OpenAI (pass-through): each turn sees the earlier ones; one conversation', async () => {
    const first = await client.responses.create({ model: 'gemini/gemini-2.5-flash', input: 'First turn' });
    const second = await client.responses.create({ model: 'xai/grok-3', previous_response_id: first.id, input: 'Second turn' });
    expect(second.output_text).toBe('Hello from xai! You said: Second turn');
    const xaiBody = xai.requests.at(-1)!.body as any;
    expect(xaiBody.messages.map((message: any) => [message.role, typeof message.content === 'string' ? message.content : message.content.map((part: any) => part.text).join('')])).toEqual([
      ['user', 'First turn'],
      ['assistant', 'Hello from gemini! You said: First turn'],
      ['user', 'Second turn'],
    ]);
    const third = await client.responses.create({ model: 'gpt-4.1', previous_response_id: second.id, input: 'Third turn' });
    expect(third.output_text).toBe('Hello from openai! You said: Third turn');
    const openaiBody = openai.requests.at(-1)!.body as any;
    expect(openaiBody.previous_response_id).toBeUndefined();
    expect(JSON.stringify(openaiBody.input)).toContain('Hello from xai! You said: Second turn');
    await gateway.application.context.requestLog.committed();
    const conversations = gateway.application.context
      .database!.prepare('SELECT conversation_id FROM requests ORDER BY seq DESC LIMIT 3')
      .all() as Array<{ conversation_id: string }>;
    expect(new Set(conversations.map((row) => row.conversation_id)).size).toBe(1);
  });

  it('an unknown id is a 400 in OpenAI shape naming previous_response_id', async () => {
    const error = await client.responses.create({ model: 'claude-sonnet-4-5', previous_response_id: 'resp_doesnotexist', input: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe('previous_response_id');
  });
});

describe('switching upstream mid-session with replayed reasoning', () => {
  it.each([
    { from: 'gpt-4.1', input: 'Think [reasoning]', to: 'claude-sonnet-4-5' },
    { from: 'claude-sonnet-4-5', input: 'Think [thinking]', to: 'gemini/gemini-2.5-flash' },
    { from: 'claude-sonnet-4-5', input: 'Think [thinking]', to: 'gpt-4.1' },
    { from: 'gemini/gemini-2.5-flash', input: 'Think [thinking]', to: 'claude-sonnet-4-5' },
  ])('$from reasoning items (encrypted_content included) replayed to $to', async ({ from, input, to }) => {
    const first = await client.responses.create({ model: from, input, reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'], store: false });
    expect(first.output[0]!.type).toBe('reasoning');
    const second = await client.responses.create({
      model: to,
      include: ['reasoning.encrypted_content'],
      store: false,
      input: [{ role: 'user', content: input }, ...first.output, { role: 'user', content: 'And now?' }] as OpenAI.Responses.ResponseInput,
    });
    expect(second.status).toBe('completed');
    expect(second.output_text).toContain('And now?');
    expect(anthropic.rejected ?? []).toEqual([]);
    expect(gemini.rejected ?? []).toEqual([]);
  });
});

describe('a Codex session', () => {
  it('turns with one session-id header are one conversation', async () => {
    const session = '01a2494b-aaaa-7000-8000-00000000c0de';
    const headers = { 'session-id': session, 'thread-id': session, originator: 'codex_exec' };
    await client.responses.create({ ...codexBody('claude-sonnet-4-5', 'Turn one', session), stream: false } as OpenAI.Responses.ResponseCreateParamsNonStreaming, { headers });
    const one = await lastRow();
    await client.responses.create({ ...codexBody('gemini/gemini-2.5-flash', 'Turn two', session), stream: false } as OpenAI.Responses.ResponseCreateParamsNonStreaming, { headers });
    const two = await lastRow();
    expect(one.conversation_id).toBe(session);
    expect(two.conversation_id).toBe(session);
  });
});

describe('errors', () => {
  it.each([
    { kind: 'anthropic', model: 'claude-sonnet-4-5', status: 429 },
    { kind: 'gemini', model: 'gemini/gemini-2.5-flash', status: 429 },
    { kind: 'xai', model: 'xai/grok-3', status: 429 },
    { kind: 'openai', model: 'gpt-4.1', status: 429 },
  ])('a $status from $kind is a $status in OpenAI shape', async ({ model, status }) => {
    const error = await client.responses.create({ model, input: 'Fail [error:429]' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
    const row = await lastRow();
    expect(row).toMatchObject({ endpoint: '/v1/responses', status: 'error', http_status: status });
    expect(row.request).toMatchObject({ model, input: 'Fail [error:429]' });
    expect(row.upstream_request_json).not.toBeNull();
  });

  it('an overloaded Anthropic (529) is answered in OpenAI shape with a status the SDK knows to retry', async () => {
    const error = await client.responses.create({ model: 'claude-sonnet-4-5', input: 'Busy [error:529]' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: expect.stringContaining('verloaded') });
  });

  it.each([
    { kind: 'openai (pass-through)', model: 'gpt-4.1' },
    { kind: 'anthropic', model: 'claude-sonnet-4-5' },
    { kind: 'gemini', model: 'gemini/gemini-2.5-flash' },
    { kind: 'xai', model: 'xai/grok-3' },
  ])('an error mid-stream from $kind: response.failed continuing the numbering, and the SDK stream fails', async ({ model }) => {
    const response = await fetch(`${gateway.origin}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'Fail [error:midstream]', stream: true }),
    });
    expect(response.status).toBe(200);
    const frames = (await response.text())
      .split('\n\n')
      .filter((frame) => frame.trim() !== '')
      .map((frame) => ({ event: /^event: (.*)$/m.exec(frame)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) }));
    expect(frames.map((frame) => frame.data.sequence_number)).toEqual(frames.map((_, index) => index));
    for (const frame of frames) expect(frame.event).toBe(frame.data.type);
    const last = frames.at(-1)!;
    expect(last.event).toBe('response.failed');
    expect(last.data.response.status).toBe('failed');
    expect(last.data.response.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(frames.filter((frame) => frame.event === 'response.completed')).toHaveLength(0);
    expect(new Set(frames.filter((frame) => frame.data.response).map((frame) => frame.data.response.id)).size).toBe(1);

    const stream = client.responses.stream({ model, input: 'Fail [error:midstream]' });
    const failed = await (async () => {
      for await (const event of stream) if (event.type === 'response.failed') return event;
      return null;
    })();
    expect(failed?.response.status).toBe('failed');
    const row = await lastRow();
    expect(row).toMatchObject({ endpoint: '/v1/responses', status: 'error' });
  });
});

describe('bad input: a 400 in OpenAI shape naming the parameter', () => {
  async function post(body: unknown): Promise<{ status: number; error: any }> {
    const response = await fetch(`${gateway.origin}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, error: ((await response.json()) as { error: unknown }).error };
  }

  it('missing model', async () => {
    const { status, error } = await post({ input: 'hi' });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
  });

  it('input of the wrong type', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5', input: 42 });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
  });

  it('missing input', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5' });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
  });

  it('a tool of an unknown type', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5', input: 'hi', tools: [{ type: 'teleport', name: 'beam' }] });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'tools[0].type' });
  });

  it('an input item that is not an object', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5', input: ['hi', 42] });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'input[0]' });
  });

  it('a message of an unknown role', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5', input: [{ role: 'user', content: 'a' }, { type: 'message', role: 'wizard', content: 'b' }] });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'input[1].role' });
  });

  it('a function tool without a name', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5', input: 'hi', tools: [{ type: 'function', parameters: { type: 'object' } }] });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'tools[0].name' });
  });

  it('a tools list that is not an array', async () => {
    const { status, error } = await post({ model: 'claude-sonnet-4-5', input: 'hi', tools: { type: 'function', name: 'x' } });
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'tools' });
  });

  it('through the SDK: a BadRequestError', async () => {
    const error = await client.responses.create({ model: 'claude-sonnet-4-5', input: 42 } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe('input');
  });
});

describe('the logged response of a stream', () => {
  it('has the created_at of the stream it was, though a second ticked over while it streamed', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-12-06T20:00:00.900Z'));
      const format = responsesFormat();
      const core = format.decode({ model: 'claude-sonnet-4-5', input: 'hi', stream: true });
      const encoder = format.streamEncoder({ requestId: 'r1', model: 'claude-sonnet-4-5', core });
      const created = JSON.parse(/^data: (.*)$/m.exec(encoder.encode({ type: 'response-start', id: null, model: 'claude-sonnet-4-5' }))![1]!);
      vi.setSystemTime(new Date('2026-12-06T20:00:02.100Z'));
      const logged = format.encodeStreamed!({ id: null, model: 'claude-sonnet-4-5', created: 0, choices: [], usage: null }) as { id: string; created_at: number };
      expect(logged.id).toBe(created.response.id);
      expect(logged.created_at).toBe(created.response.created_at);
    } finally {
      vi.useRealTimers();
    }
  });
});
