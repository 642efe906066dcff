/**
 * `previous_response_id` naming a response the request log does not hold (one made at OpenAI
 * directly): to OpenAI (pass-through) it goes unchanged, for OpenAI to resolve — its own error
 * when it does not know the id either; a translated upstream (xAI through chat completions)
 * answers a 400 without being called. An id the log holds for another gateway key is a 400
 * whatever the upstream. Driven by the official `openai` SDK, against the OpenAI fake, which
 * keeps its responses and resolves previous_response_id as OpenAI does.
 */
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake, type OpenAIFake } from '../../../fakes/openai-fake.js';
import { startAppGateway } from '../../../app-gateway.js';
import { GATEWAY_KEY, startTestGateway } from '../../../helpers.js';
import type { RunningGateway } from '../../../../src/main/headless.js';

const OPENAI_KEY = 'sk-openai-previous-0123456789';

let openai: OpenAIFake;
let xai: OpenAIFake;
let gateway: RunningGateway;
let client: OpenAI;
/** A client of OpenAI itself (the fake), not through the gateway. */
let direct: OpenAI;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-previous-passthrough-'));
  [openai, xai] = await Promise.all([startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY }), startOpenAIFake({ flavor: 'xai' })]);
  let key: string;
  ({ gateway, key } = await startAppGateway({
    dataDir,
    environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url, XAI_API_KEY: 'xai-key-0123456789', XAI_BASE_URL: xai.url },
  }));
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
  direct = new OpenAI({ apiKey: OPENAI_KEY, baseURL: openai.url, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), xai?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const weather: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Weather of a city', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

const responsesCalls = (): number => openai.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/responses')).length;

describe('a previous_response_id the log does not hold', () => {
  it('goes to OpenAI unchanged, which continues its own response: a tool round trip begun at OpenAI directly', async () => {
    const first = await direct.responses.create({ model: 'gpt-4.1', input: 'Weather in two cities? [tools]', tools: [weather] });
    const calls = first.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(calls.map((call) => call.call_id)).toEqual(['call_1', 'call_2']);
    const second = await client.responses.create({
      model: 'gpt-4.1',
      previous_response_id: first.id,
      tools: [weather],
      input: calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: `sunny in ${call.call_id}` })),
    });
    const sent = openai.requests.at(-1)!.body;
    expect(sent.previous_response_id).toBe(first.id);
    expect(sent.input).toHaveLength(2);
    // OpenAI found the calls in its own stored response: the outputs were accepted and answered.
    expect(second.output_text).toBe('Tool results: sunny in call_1; sunny in call_2');
    expect(second.previous_response_id).toBe(first.id);
  });

  it('continuing a gateway response whose chain starts at OpenAI: the newest id goes to OpenAI, streamed too', async () => {
    const first = await direct.responses.create({ model: 'gpt-4.1', input: 'Begun at OpenAI' });
    const second = await client.responses.create({ model: 'gpt-4.1', previous_response_id: first.id, input: 'Through the gateway' });
    const stream = client.responses.stream({ model: 'gpt-4.1', previous_response_id: second.id, input: 'Third' });
    const third = await stream.finalResponse();
    const sent = openai.requests.at(-1)!.body;
    // The log holds `second` but not what it continued, so it cannot write the history out: OpenAI resolves it.
    expect(sent.previous_response_id).toBe(second.id);
    expect(sent.input).toBe('Third');
    expect(third.output_text).toBe('Hello from openai! You said: Third');
  });

  it('an id OpenAI does not know either: OpenAI’s own 400 comes back', async () => {
    const before = responsesCalls();
    const error = await client.responses.create({ model: 'gpt-4.1', previous_response_id: 'resp_unknown_everywhere', input: 'Hi' }).catch((caught: unknown) => caught);
    expect(responsesCalls()).toBe(before + 1);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' });
  });

  it('to a translated upstream it is a 400 in OpenAI’s shape, and the upstream is not called', async () => {
    const first = await direct.responses.create({ model: 'gpt-4.1', input: 'Made at OpenAI' });
    const before = xai.requests.length;
    const error = await client.responses.create({ model: 'grok-4', previous_response_id: first.id, input: 'Continue on Grok' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
      message: `Previous response with id '${first.id}' not found.`,
    });
    expect(xai.requests.length).toBe(before);
  });

  it('another gateway key’s response, which the log holds, is not handed to OpenAI', async () => {
    const mine = await client.responses.create({ model: 'gpt-4.1', input: 'Mine' });
    const other = (await gateway.application.services['gateway-keys.create']({ name: 'other-client' })).key;
    const otherClient = new OpenAI({ apiKey: other, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
    const before = responsesCalls();
    const error = await otherClient.responses.create({ model: 'gpt-4.1', previous_response_id: mine.id, input: 'Yours?' }).catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'previous_response_not_found' });
    expect(responsesCalls()).toBe(before);
  });

  it('a failed response: its own key is told it failed, another key or after deletion it is not found, and none is handed to OpenAI', async () => {
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'Break [error:midstream]', stream: true });
    let failedId = '';
    for await (const event of stream) if (event.type === 'response.failed') failedId = event.response.id;
    expect(failedId).toMatch(/^resp_/);
    const other = (await gateway.application.services['gateway-keys.create']({ name: 'other-client-failed' })).key;
    const otherClient = new OpenAI({ apiKey: other, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
    const before = responsesCalls();
    const continueWith = (caller: OpenAI) => caller.responses.create({ model: 'gpt-4.1', previous_response_id: failedId, input: 'Go on' }).catch((caught: unknown) => caught as InstanceType<typeof OpenAI.BadRequestError>);
    const own = await continueWith(client);
    expect(own.status).toBe(400);
    expect(own.error).toEqual({ type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found', message: `Previous response with id '${failedId}' failed and cannot be continued. Send the conversation in input instead.` });
    const othersTry = await continueWith(otherClient);
    expect(othersTry.status).toBe(400);
    expect(othersTry.error).toMatchObject({ code: 'previous_response_not_found', message: `Previous response with id '${failedId}' not found.` });
    await client.responses.delete(failedId);
    const afterDeletion = await continueWith(client);
    expect(afterDeletion.status).toBe(400);
    expect(afterDeletion.error).toMatchObject({ code: 'previous_response_not_found', message: `Previous response with id '${failedId}' not found.` });
    expect(responsesCalls()).toBe(before);
  });
});

describe('a gateway without a request log', () => {
  it('hands every previous_response_id to OpenAI; another upstream is a 400 saying no responses are kept; nothing to list or delete', async () => {
    const bare = await startTestGateway({ environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url, XAI_API_KEY: 'xai-key-0123456789', XAI_BASE_URL: xai.url } });
    try {
      const bareClient = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${bare.origin}/v1`, maxRetries: 0 });
      const first = await direct.responses.create({ model: 'gpt-4.1', input: 'Kept at OpenAI' });
      const second = await bareClient.responses.create({ model: 'gpt-4.1', previous_response_id: first.id, input: 'Go on' });
      expect(openai.requests.at(-1)!.body.previous_response_id).toBe(first.id);
      expect(second.previous_response_id).toBe(first.id);
      const before = xai.requests.length;
      const error = await bareClient.responses.create({ model: 'grok-4', previous_response_id: first.id, input: 'Go on' }).catch((caught: unknown) => caught);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('keeps no responses');
      expect(xai.requests.length).toBe(before);
      expect(await bareClient.responses.inputItems.list(second.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
      expect(await bareClient.responses.delete(second.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      await bare.close();
    }
  });
});
