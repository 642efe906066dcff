/**
 * Proves the OpenAI fake's /v1/responses is faithful by driving it with the official `openai`
 * SDK: `responses.create` (JSON and streamed), `responses.stream` (whose accumulator checks the
 * event order), function and custom tool round trips, encrypted reasoning replayed, errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { startOpenAIFake, type OpenAIFake } from './openai-fake.js';
import { CUSTOM_TOOL_INPUT, ENCRYPTED_PREFIX } from './openai-fake-responses.js';

let fake: OpenAIFake;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAIFake({ flavor: 'openai', apiKey: 'sk-test-responses-1234' });
  client = new OpenAI({ apiKey: 'sk-test-responses-1234', baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());

const weather: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const applyPatch: OpenAI.Responses.CustomTool = { type: 'custom', name: 'apply_patch', description: 'Apply a patch' };

describe('OpenAI fake /v1/responses', () => {
  it('answers responses.create with a message, output_text and usage', async () => {
    const response = await client.responses.create({ model: 'gpt-4.1-mini', input: 'Say hi', instructions: 'Be brief.', prompt_cache_key: 'k' });
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('Hello from openai! You said: Say hi');
    // P = (2 words + 1) + 2 instruction words
    expect(response.usage).toEqual({ input_tokens: 5, input_tokens_details: { cached_tokens: 2 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 12 });
  });

  it('streams the exact event sequence with increasing sequence numbers (responses.stream accumulates it)', async () => {
    const stream = client.responses.stream({ model: 'gpt-4.1-mini', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Stream me [reasoning]' }] }], reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'] });
    const types: string[] = [];
    const sequence: number[] = [];
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
    }
    const final = await stream.finalResponse();
    expect(sequence).toEqual(sequence.map((_, index) => index));
    expect(types[0]).toBe('response.created');
    expect(types[1]).toBe('response.in_progress');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.reasoning_summary_text.delta');
    expect(types.filter((type) => type === 'response.output_item.done')).toHaveLength(2);
    expect(final.output[0]!.type).toBe('reasoning');
    const reasoning = final.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.encrypted_content?.startsWith(ENCRYPTED_PREFIX)).toBe(true);
    expect(reasoning.summary[0]!.text).toBe('Let me think. The user said: Stream me [reasoning]');
    expect(final.output_text).toBe('Hello from openai! You said: Stream me [reasoning]');
    expect(final.usage!.output_tokens_details.reasoning_tokens).toBe(9);
    expect(fake.responsesStreams.at(-1)).toMatch(/^event: response\.created\ndata: /);
  });

  it('makes function calls and takes their outputs back, with the encrypted reasoning replayed', async () => {
    const first = await client.responses.create({ model: 'gpt-4.1-mini', input: 'Weather? [tools] [reasoning]', tools: [weather], include: ['reasoning.encrypted_content'], store: false });
    const calls = first.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(calls.map((call) => [call.call_id, call.name, call.arguments])).toEqual([
      ['call_1', 'get_weather', '{"city":"Lisbon"}'],
      ['call_2', 'get_weather', '{"city":"Porto"}'],
    ]);
    const second = await client.responses.create({
      model: 'gpt-4.1-mini',
      tools: [weather],
      input: [{ role: 'user', content: 'Weather? [tools] [reasoning]' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: 'call_1', output: 'sunny' }, { type: 'function_call_output', call_id: 'call_2', output: 'rainy' }],
    });
    expect(second.output_text).toBe('Tool results: sunny; rainy');
  });

  it('rejects encrypted reasoning it did not issue and outputs for unknown calls', async () => {
    const forged = client.responses.create({ model: 'gpt-4.1-mini', input: [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'forged' }, { role: 'user', content: 'hi' }] });
    await expect(forged).rejects.toBeInstanceOf(BadRequestError);
    const orphan = client.responses.create({ model: 'gpt-4.1-mini', input: [{ type: 'function_call_output', call_id: 'nope', output: 'x' }] });
    await expect(orphan).rejects.toThrow(/No tool call found/);
  });

  it('streams a custom tool call with custom_tool_call_input events', async () => {
    const stream = client.responses.stream({ model: 'gpt-4.1-mini', input: 'Patch it [custom]', tools: [applyPatch] });
    const types = new Set<string>();
    for await (const event of stream) types.add(event.type);
    const final = await stream.finalResponse();
    expect(types.has('response.custom_tool_call_input.delta')).toBe(true);
    expect(types.has('response.custom_tool_call_input.done')).toBe(true);
    const call = final.output[0] as OpenAI.Responses.ResponseCustomToolCall;
    expect([call.type, call.name, call.input, call.call_id]).toEqual(['custom_tool_call', 'apply_patch', CUSTOM_TOOL_INPUT, 'call_c1']);
  });

  it('keeps stored responses for previous_response_id and GET, and refuses an unknown id', async () => {
    const first = await client.responses.create({ model: 'gpt-4.1-mini', input: 'Remember me' });
    const again = await client.responses.retrieve(first.id);
    expect(again.output_text).toBe(first.output_text);
    const next = await client.responses.create({ model: 'gpt-4.1-mini', previous_response_id: first.id, input: 'And now' });
    expect(next.previous_response_id).toBe(first.id);
    // P: the stored turn (2+1, reply 7+1) and the new input (2+1)
    expect(next.usage!.input_tokens).toBe(14);
    const unknown = client.responses.create({ model: 'gpt-4.1-mini', previous_response_id: 'resp_unknown', input: 'x' });
    await expect(unknown).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
  });

  it('answers errors in OpenAI shape, and a stream that fails with response.failed', async () => {
    await expect(client.responses.create({ model: 'gpt-4.1-mini', input: '[error:429]' })).rejects.toBeInstanceOf(RateLimitError);
    await expect(client.responses.create({ model: 'gpt-4.1-mini', input: '[error:500]' })).rejects.toBeInstanceOf(InternalServerError);
    await expect(client.responses.create({ model: 'gpt-4.1-mini', input: 'x', max_output_tokens: 3 })).rejects.toMatchObject({ status: 400, param: 'max_output_tokens' });
    const stream = await client.responses.create({ model: 'gpt-4.1-mini', input: '[error:midstream]', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.failed');
  });
});
