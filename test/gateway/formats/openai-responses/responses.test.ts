/**
 * `POST /v1/responses` driven by the official `openai` SDK (`client.responses.create` and
 * `client.responses.stream`), translated through the core to an Anthropic upstream (the strict
 * Anthropic fake) and to an OpenAI-compatible chat upstream (the OpenAI fake with its Responses API
 * switched off, as Ollama, LM Studio or xAI are served; OpenAI's own pass-through is in
 * passthrough.test.ts): text, a function-call round
 * trip, custom tools (Codex's apply_patch) as custom_tool_call, hosted tools dropped with a
 * recorded warning, a Codex-shaped request, and errors in OpenAI's shape.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THINKING_TEXT, startAnthropicFake, type ProviderFake as AnthropicFake } from '../../../fakes/anthropic-fake.js';
import { FUNCTION_ARGS, startGeminiFake, type ProviderFake as GeminiFake } from '../../../fakes/gemini-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../../../fakes/openai-fake.js';
import { GATEWAY_KEY, startTestGateway, type TestGateway } from '../../../helpers.js';
import { CODEX_CAPTURE, readCaptured, withSchemasRepaired } from '../../../helpers/captured.js';

const ANTHROPIC_KEY = 'sk-ant-responses-0123456789';
const WEATHER: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
const APPLY_PATCH: OpenAI.Responses.CustomTool = { type: 'custom', name: 'apply_patch', description: 'Apply a patch' };

let anthropic: AnthropicFake;
let openai: OpenAIFake;
let gemini: GeminiFake;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  [anthropic, openai, gemini] = await Promise.all([startAnthropicFake({ apiKey: ANTHROPIC_KEY }), startOpenAIFake({ flavor: 'openai' }), startGeminiFake({ apiKey: 'gem-key-0123456789' })]);
  gateway = await startTestGateway({
    environment: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url, OPENAI_API_KEY: 'sk-openai-test-0123456789', OPENAI_BASE_URL: openai.url, GEMINI_API_KEY: 'gem-key-0123456789', GEMINI_BASE_URL: gemini.url },
    // A chat-completions upstream: the translation every OpenAI-compatible server without the Responses API gets.
    file: { providers: { openai: { quirks: { responsesApi: false } } } },
  });
  client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([anthropic?.close(), openai?.close(), gemini?.close()]);
});

const UPSTREAMS = [
  { name: 'anthropic', model: 'claude-sonnet-4-5' },
  { name: 'openai', model: 'gpt-4.1' },
] as const;

function lastBody(name: string): any {
  const requests = name === 'anthropic' ? anthropic.requests : openai.requests;
  return requests[requests.length - 1]!.body;
}

describe.each(UPSTREAMS)('to $name', ({ name, model }) => {
  it('text: a completed response with output_text and usage', async () => {
    const recorded = gateway.nextRecord();
    const response = await client.responses.create({ model, instructions: 'Be terse.', input: 'Hello', max_output_tokens: 100 });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe(`Hello from ${name}! You said: Hello`);
    expect(response.output.at(-1)).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `Hello from ${name}! You said: Hello` }] });
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    expect(response.usage!.output_tokens).toBeGreaterThan(0);
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    expect(response.usage!.input_tokens_details.cached_tokens).toBe(0);
    const upstream = lastBody(name);
    if (name === 'anthropic') expect(upstream.system).toEqual([{ type: 'text', text: 'Be terse.' }]);
    else expect(upstream.messages[0]).toEqual({ role: 'system', content: 'Be terse.' });
    const record = await recorded;
    expect(record.endpoint).toBe('/v1/responses');
    expect(record.provider).toBe(name);
    expect(record.finishReason).toBe('stop');
  });

  it('a function-call round trip', async () => {
    const first = await client.responses.create({ model, tools: [WEATHER], input: [{ role: 'user', content: [{ type: 'input_text', text: 'Weather? [tools]' }] }] });
    const calls = first.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(calls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['get_weather', { city: 'Lisbon' }],
      ['get_weather', { city: 'Porto' }],
    ]);
    const second = await client.responses.create({
      model,
      tools: [WEATHER],
      input: [
        { role: 'user', content: 'Weather? [tools]' },
        ...first.output.filter((item) => item.type !== 'reasoning'),
        ...calls.map((call, index) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: index === 0 ? '21°C' : '18°C' })),
      ] as OpenAI.Responses.ResponseInput,
    });
    expect(second.output_text).toBe('Tool results: 21°C; 18°C');
    const upstream = lastBody(name);
    if (name === 'anthropic') {
      expect(upstream.messages.at(-2).content.filter((block: any) => block.type === 'tool_use').map((block: any) => block.input)).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
      expect(upstream.messages.at(-1).content.map((block: any) => block.tool_use_id)).toEqual(calls.map((call) => call.call_id));
    } else {
      expect(upstream.messages.slice(-2).map((message: any) => [message.role, message.tool_call_id])).toEqual(calls.map((call) => ['tool', call.call_id]));
    }
  });

  it('streams: the event sequence with sequence numbers, and finalResponse()', async () => {
    const stream = client.responses.stream({ model, input: 'Stream please' });
    const events: Array<{ type: string; sequence_number: number }> = [];
    let text = '';
    for await (const event of stream) {
      events.push(event);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(text).toBe(`Hello from ${name}! You said: Stream please`);
    expect(final.output_text).toBe(text);
    expect(final.status).toBe('completed');
    expect(final.usage!.output_tokens).toBeGreaterThan(0);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const kinds = events.map((event) => event.type).filter((type, index, all) => type !== all[index - 1]);
    expect(kinds).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  it('streams a function call: arguments deltas and done', async () => {
    const stream = client.responses.stream({ model, tools: [WEATHER], input: 'Weather? [tools]' });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    const calls = final.output.flatMap((item) => (item.type === 'function_call' ? [item.arguments] : []));
    expect(calls.map((args) => JSON.parse(args))).toEqual([{ city: 'Lisbon' }, { city: 'Porto' }]);
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types.filter((type) => type === 'response.function_call_arguments.done')).toHaveLength(2);
    expect(types.at(-1)).toBe('response.completed');
  });

  it('streams a custom tool call: custom_tool_call_input events, the request tools echoed', async () => {
    const stream = client.responses.stream({ model, tools: [APPLY_PATCH], input: 'Patch it [tools]' });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    expect(final.output.filter((item) => item.type === 'custom_tool_call').map((item) => (item as OpenAI.Responses.ResponseCustomToolCall).name)).toEqual(['apply_patch', 'apply_patch']);
    expect(types.filter((type) => type === 'response.custom_tool_call_input.done')).toHaveLength(2);
    expect(types).not.toContain('response.function_call_arguments.delta');
    expect(final.tools).toEqual([APPLY_PATCH]);
  });

  it('a custom tool (apply_patch) is called as custom_tool_call and replayed as a one-argument function', async () => {
    const first = await client.responses.create({ model, tools: [APPLY_PATCH], input: 'Patch it [tools]' });
    const sent = lastBody(name).tools[0];
    const parameters = name === 'anthropic' ? sent.input_schema : sent.function.parameters;
    expect(parameters.properties.input.type).toBe('string');
    const call = first.output.find((item) => item.type === 'custom_tool_call') as OpenAI.Responses.ResponseCustomToolCall;
    expect(call.name).toBe('apply_patch');
    expect(typeof call.input).toBe('string');
    await client.responses.create({
      model,
      tools: [APPLY_PATCH],
      input: [
        { role: 'user', content: 'Patch it' },
        { type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
        { type: 'custom_tool_call_output', call_id: 'call_patch', output: 'Done!' },
      ],
    });
    const upstream = lastBody(name);
    if (name === 'anthropic') {
      expect(upstream.messages[1].content[0]).toMatchObject({ type: 'tool_use', id: 'call_patch', name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch' } });
      expect(upstream.messages[2].content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'call_patch', content: 'Done!' });
    } else {
      expect(JSON.parse(upstream.messages[1].tool_calls[0].function.arguments)).toEqual({ input: '*** Begin Patch\n*** End Patch' });
      expect(upstream.messages[2]).toMatchObject({ role: 'tool', tool_call_id: 'call_patch', content: 'Done!' });
    }
  });
});

describe('to Gemini', () => {
  it.each([false, true])('text and a function call (stream: %s)', async (streamed) => {
    const text = { model: 'gemini/gemini-2.5-flash', instructions: 'Be terse.', input: 'Hello' };
    const answer = streamed ? await client.responses.stream(text).finalResponse() : await client.responses.create(text);
    expect(answer.status).toBe('completed');
    expect(answer.output_text).toBe('Hello from gemini! You said: Hello');
    expect(answer.usage!.input_tokens).toBeGreaterThan(0);
    const tools = { model: 'gemini/gemini-2.5-flash', tools: [WEATHER], input: 'Weather? [tools]' };
    const called = streamed ? await client.responses.stream(tools).finalResponse() : await client.responses.create(tools);
    const calls = called.output.flatMap((item) => (item.type === 'function_call' ? [JSON.parse(item.arguments)] : []));
    expect(calls).toEqual(FUNCTION_ARGS);
  });
});

describe('reasoning round trip to Anthropic', () => {
  it.each([false, true])('thinking comes back as a reasoning item whose encrypted_content replays the signature (stream: %s)', async (streamed) => {
    const params = { model: 'claude-sonnet-4-5', tools: [WEATHER], reasoning: { effort: 'medium' as const, summary: 'auto' as const }, include: ['reasoning.encrypted_content' as const], input: 'Weather? [tools] [thinking]' };
    const first = streamed ? await client.responses.stream(params).finalResponse() : await client.responses.create(params);
    const reasoning = first.output.find((item) => item.type === 'reasoning') as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: THINKING_TEXT }]);
    expect(reasoning.encrypted_content).toMatch(/^switchyard\.v1:/);
    const calls = first.output.filter((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall[];
    expect(calls).toHaveLength(2);
    const second = await client.responses.create({
      ...params,
      input: [
        { role: 'user', content: params.input },
        ...first.output,
        ...calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: 'sunny' })),
      ] as OpenAI.Responses.ResponseInput,
    });
    expect(second.output_text).toBe('Tool results: sunny; sunny');
    // The strict fake checks the replayed thinking block's signature and text.
    expect(anthropic.rejected.splice(0)).toEqual([]);
    const thinking = lastBody('anthropic').messages[1].content[0];
    expect(thinking).toMatchObject({ type: 'thinking', thinking: THINKING_TEXT });
  });
});

describe('errors and Codex', () => {
  it('bad input is a 400 in OpenAI shape naming the field', async () => {
    const error = await client.responses.create({ model: 'gpt-4.1', input: 42 as unknown as string }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const body = (error as InstanceType<typeof OpenAI.BadRequestError>).error as { type: string; param: string };
    expect(body.type).toBe('invalid_request_error');
    expect(body.param).toBe('input');
  });

  it('unknown fields are tolerated; text.format json_schema and max_output_tokens reach the upstream', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const response = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Hello',
      max_output_tokens: 50,
      text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } },
      truncation: 'auto',
      service_tier: 'auto',
      store: false,
    });
    expect(response.status).toBe('completed');
    const upstream = lastBody('openai');
    expect(upstream.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } });
    expect(upstream.max_completion_tokens ?? upstream.max_tokens).toBe(50);
    expect(upstream.truncation).toBeUndefined();
  });

  it('max_output_tokens reached: status incomplete with the reason', async () => {
    const response = await client.responses.create({ model: 'claude-sonnet-4-5', input: 'Long [length]', max_output_tokens: 5 });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('a request without input is a 400 naming it', async () => {
    const response = await fetch(`${gateway.origin}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4.1', input: [] }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ type: 'invalid_request_error', param: 'input', code: 'missing_required_parameter' });
  });

  it('previous_response_id on a gateway without a request log is a 400 naming it', async () => {
    const error = await client.responses.create({ model: 'claude-sonnet-4-5', input: 'Go on', previous_response_id: 'resp_123' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const body = (error as InstanceType<typeof OpenAI.BadRequestError>).error as { param: string; code: string; message: string };
    expect(body).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
    expect(body.message).toContain('keeps no responses');
  });

  it('a Codex-shaped request (captured) to Anthropic: hosted tools dropped with warnings, answered in text', async () => {
    const captured = withSchemasRepaired(readCaptured(CODEX_CAPTURE).body) as Record<string, unknown>;
    const recorded = gateway.nextRecord();
    const stream = client.responses.stream({ ...captured, model: 'claude-sonnet-4-5' });
    for await (const _event of stream) {
      // drained
    }
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toMatch(/^Hello from anthropic! You said: /);
    const upstream = lastBody('anthropic');
    expect(upstream.system.length).toBeGreaterThan(0);
    expect(upstream.tools.map((tool: any) => tool.name)).toContain('exec_command');
    const record = await recorded;
    expect(record.warnings.map((warning) => warning.message).join('\n')).toContain('web_search');
  });

  it('the Codex-shaped request to an OpenAI chat upstream: hosted tools left out, functions and the namespace\'s functions sent', async () => {
    const captured = withSchemasRepaired(readCaptured(CODEX_CAPTURE).body) as Record<string, unknown>;
    const recorded = gateway.nextRecord();
    const response = await client.responses.create({ ...captured, model: 'gpt-4.1', stream: false } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const warnings = (await recorded).warnings.map((warning) => warning.message).join('\n');
    expect(warnings).toContain('web_search');
    expect(warnings).not.toContain('multi_agent_v1');
    expect(response.status).toBe('completed');
    const upstream = lastBody('openai');
    expect(upstream.tools.every((tool: any) => tool.type === 'function')).toBe(true);
    expect(upstream.tools.map((tool: any) => tool.function.name)).toContain('exec_command');
    expect(upstream.tools.map((tool: any) => tool.function.name)).toContain('spawn_agent');
  });

  it('an upstream error mid-stream ends the stream with response.failed', async () => {
    const response = await fetch(`${gateway.origin}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', input: 'Break [error:midstream]', stream: true }),
    });
    const text = await response.text();
    const events = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
    expect(events[0]).toBe('response.created');
    expect(events.at(-1)).toBe('response.failed');
    expect(events).not.toContain('response.completed');
    const failed = JSON.parse(text.trim().split('\n').at(-1)!.slice('data: '.length));
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error.message.length).toBeGreaterThan(0);
  });
});
