/**
 * `POST /v1/responses` to OpenAI passes through: OpenAI's own /v1/responses (the OpenAI fake's,
 * which validates what reaches it) gets the client's body as it came but for the model name —
 * hosted tools, include, store, encrypted reasoning untouched, no warnings — and the client gets
 * OpenAI's bytes back, JSON and SSE. Usage (cached and reasoning tokens), cost and the logged
 * response are exact. An OpenAI-compatible server without the Responses API (xAI) still gets the
 * translation through chat completions. Driven by the official `openai` SDK.
 */
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake, type OpenAIFake } from '../../../fakes/openai-fake.js';
import { CUSTOM_TOOL_INPUT, ENCRYPTED_PREFIX } from '../../../fakes/openai-fake-responses.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../../helpers.js';
import { startAppGateway } from '../../../app-gateway.js';
import type { RunningGateway } from '../../../../src/main/headless.js';
import { createPriceBook } from '../../../../src/main/pricing/catalog.js';
import { costOfRecord } from '../../../../src/main/storage/record-cost.js';
import type { StoredRequestRecord } from '../../../../src/main/storage/stored-record.js';

const OPENAI_KEY = 'sk-openai-passthrough-0123456789';

let openai: OpenAIFake;
let xai: OpenAIFake;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  [openai, xai] = await Promise.all([startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY }), startOpenAIFake({ flavor: 'xai' })]);
  gateway = await startTestGateway({ environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url, XAI_API_KEY: 'xai-key-0123456789', XAI_BASE_URL: xai.url } });
  client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), xai?.close()]);
});

/** A Codex-like body: developer message, function + custom + hosted tools, reasoning, include, store, cache key, client metadata. */
function codexBody(text: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    model: 'openai/gpt-4.1',
    instructions: 'You are a coding agent.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Sandbox: read-only.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    ],
    tools: [
      { type: 'function', name: 'exec_command', description: 'Run a command', strict: false, parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } },
      { type: 'custom', name: 'apply_patch', description: 'Apply a patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } },
      { type: 'web_search', search_context_size: 'low' },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: { effort: 'low', summary: 'auto' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: 'session-1234',
    client_metadata: { session_id: 'session-1234' },
    ...extra,
  };
}

function lastOpenAIRequest() {
  return openai.requests.at(-1)!;
}

function expectedCost(usage: OpenAI.Responses.ResponseUsage): number {
  // gpt-4.1 in the bundled catalog: $2 / $0.50 cached / $8 per million tokens = 2000 / 500 / 8000 nano-dollars a token.
  const cached = usage.input_tokens_details.cached_tokens;
  return (usage.input_tokens - cached) * 2000 + cached * 500 + usage.output_tokens * 8000;
}

describe('to OpenAI: pass-through', () => {
  it('JSON: the body reaches /v1/responses untouched but for the model, the answer comes back as OpenAI gave it', async () => {
    const body = codexBody('Think first [reasoning]');
    const recorded = gateway.nextRecord();
    const response = await fetch(`${gateway.origin}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchyard-provider')).toBe('openai');
    expect(response.headers.get('x-switchyard-warnings')).toBeNull();
    const text = await response.text();
    const upstream = lastOpenAIRequest();
    expect(upstream.path).toBe('/v1/responses');
    expect(upstream.body).toEqual({ ...body, model: 'gpt-4.1' });
    const answer = JSON.parse(text) as OpenAI.Responses.Response;
    expect(answer.model).toBe('gpt-4.1-2025-04-14');
    const reasoning = answer.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.type).toBe('reasoning');
    expect(reasoning.encrypted_content!.startsWith(ENCRYPTED_PREFIX)).toBe(true);
    // OpenAI's fields the translation would not write come back as they were.
    expect(answer).toMatchObject({ store: false, service_tier: 'default', truncation: 'disabled', prompt_cache_key: 'session-1234' });

    const record = await recorded;
    expect(record.warnings).toEqual([]);
    expect(record.responseBody).toEqual(answer);
    expect(record.responseId).toBe(answer.id);
    expect(record.upstreamRequestBody).toEqual({ ...body, model: 'gpt-4.1' });
    const usage = answer.usage!;
    expect(usage.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(record.usage).toMatchObject({ inputTokens: usage.input_tokens, cachedInputTokens: usage.input_tokens_details.cached_tokens, outputTokens: usage.output_tokens, reasoningTokens: usage.output_tokens_details.reasoning_tokens });
    const cost = costOfRecord(record as StoredRequestRecord, createPriceBook({}));
    expect(cost.priced).toBe(true);
    expect(cost.costNanoUsd).toBe(expectedCost(usage));
    expect(record.finishReason).toBe('stop');
  });

  it('SSE: OpenAI’s events reach the client byte for byte; the log holds OpenAI’s final response and its usage', async () => {
    const body = codexBody('Patch it [custom] [reasoning]', { stream: true });
    const recorded = gateway.nextRecord();
    const response = await fetch(`${gateway.origin}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text).toBe(openai.responsesStreams.at(-1));
    expect(lastOpenAIRequest().body).toEqual({ ...body, model: 'gpt-4.1' });
    const completed = text
      .split('\n\n')
      .filter((frame) => frame.startsWith('event: response.completed'))
      .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as { response: OpenAI.Responses.Response })[0]!.response;
    expect(completed.output.map((item) => item.type)).toEqual(['reasoning', 'custom_tool_call']);
    expect((completed.output[1] as OpenAI.Responses.ResponseCustomToolCall).input).toBe(CUSTOM_TOOL_INPUT);

    const record = await recorded;
    expect(record.responseBody).toEqual(completed);
    expect(record.responseId).toBe(completed.id);
    expect(record.finishReason).toBe('tool_calls');
    expect(record.usage).toMatchObject({ inputTokens: completed.usage!.input_tokens, cachedInputTokens: completed.usage!.input_tokens_details.cached_tokens, outputTokens: completed.usage!.output_tokens, reasoningTokens: completed.usage!.output_tokens_details.reasoning_tokens });
    expect(costOfRecord(record as StoredRequestRecord, createPriceBook({})).costNanoUsd).toBe(expectedCost(completed.usage!));
  });

  it('the SDK’s responses.stream reads the passed-through stream; encrypted reasoning replays on the next turn', async () => {
    const stream = client.responses.stream({ ...(codexBody('Weather? [tools] [reasoning]') as OpenAI.Responses.ResponseCreateParamsStreaming) });
    const types = new Set<string>();
    for await (const event of stream) types.add(event.type);
    const final = await stream.finalResponse();
    expect(types).toContain('response.reasoning_summary_text.delta');
    expect(types).toContain('response.function_call_arguments.delta');
    const calls = final.output.filter((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall[];
    expect(calls.map((call) => call.call_id)).toEqual(['call_1', 'call_2']);
    // Codex's store: false habit: the whole history (reasoning with its encrypted content) goes back in input.
    const next = await client.responses.create({
      ...(codexBody('unused') as OpenAI.Responses.ResponseCreateParamsNonStreaming),
      input: [...final.output, ...calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: `sunny in ${call.call_id}` }))] as OpenAI.Responses.ResponseInput,
    });
    expect(next.output_text).toBe('Tool results: sunny in call_1; sunny in call_2');
  });

  it('an OpenAI error comes back with its status in OpenAI’s shape; a failure mid-stream ends in response.failed', async () => {
    const error = await client.responses.create({ model: 'gpt-4.1', input: 'Busy [error:429]' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).error).toMatchObject({ code: 'rate_limit_exceeded' });
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'Break [error:midstream]', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    // OpenAI's events as they came, then the failure continuing the same stream: one beginning, one id, numbers in order.
    expect(events.filter((event) => event.type === 'response.created')).toHaveLength(1);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_event, index) => index));
    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent;
    const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
    expect(failed.type).toBe('response.failed');
    expect(failed.response.id).toBe(created.response.id);
    expect(failed.response.error).toMatchObject({ code: 'server_error' });
  });

  it('OpenAI’s own failure code reaches the client unchanged (Codex reads context_length_exceeded as "too long", not as retryable)', async () => {
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'Too long [error:context]', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
    expect(failed.type).toBe('response.failed');
    expect(failed.response.error).toEqual({ code: 'context_length_exceeded', message: expect.stringContaining('exceeds the context window') });
  });
});

describe('to an OpenAI-compatible server without the Responses API', () => {
  it('xAI gets a chat completion, with hosted tools left out and said so', async () => {
    const recorded = gateway.nextRecord();
    const response = await client.responses.create({ ...(codexBody('Hello') as OpenAI.Responses.ResponseCreateParamsNonStreaming), model: 'grok-4', reasoning: null });
    expect(response.output_text).toBe('Hello from xai! You said: Hello');
    const upstream = xai.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.body.tools.map((tool: any) => tool.function.name)).toEqual(['exec_command', 'apply_patch']);
    expect((await recorded).warnings.map((warning) => warning.message).join('\n')).toContain('web_search');
  });
});

describe('stored pass-through responses', () => {
  let dataDir: string;
  let app: RunningGateway;
  let appClient: OpenAI;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchyard-passthrough-'));
    const started = await startAppGateway({ dataDir, environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url } });
    app = started.gateway;
    appClient = new OpenAI({ apiKey: started.key, baseURL: `${app.origin}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('GET returns OpenAI’s response; previous_response_id continues it (the history written out, store: false or not)', async () => {
    const first = await appClient.responses.create({ model: 'gpt-4.1', input: 'First', store: false });
    expect(await appClient.responses.retrieve(first.id)).toEqual(first);
    const stream = appClient.responses.stream({ model: 'gpt-4.1', previous_response_id: first.id, input: 'Second' });
    let completed: OpenAI.Responses.Response | null = null;
    for await (const event of stream) if (event.type === 'response.completed') completed = event.response;
    const second = await stream.finalResponse();
    const sent = lastOpenAIRequest().body;
    expect(sent.previous_response_id).toBeUndefined();
    expect(sent.input).toEqual([{ type: 'message', role: 'user', content: 'First' }, ...first.output, { type: 'message', role: 'user', content: 'Second' }]);
    expect(second.output_text).toBe('Hello from openai! You said: Second');
    // What OpenAI's response.completed said, as it said it.
    const { output_text: _added, ...retrieved } = await appClient.responses.retrieve(second.id);
    expect(retrieved).toEqual(completed);
  });

  it('a stream OpenAI failed mid-way: GET returns the failed response the client got, under OpenAI’s id', async () => {
    const stream = await appClient.responses.create({ model: 'gpt-4.1', input: 'Break [error:midstream]', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent;
    const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
    expect(failed.type).toBe('response.failed');
    expect(failed.response.id).toBe(created.response.id);
    const { output_text: _added, ...retrieved } = await appClient.responses.retrieve(created.response.id);
    expect(retrieved).toEqual(failed.response);
    expect(retrieved).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
  });
});
