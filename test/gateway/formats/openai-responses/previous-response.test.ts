/**
 * Stored responses through a gateway started as `switchyard serve` starts it (the SQLite request
 * log with its writer thread): `previous_response_id` continues a response on any upstream (the
 * first turn to Anthropic, the next to Gemini), resolved recursively, instructions not carried
 * over; `GET /v1/responses/{id}` returns what the client got; unknown ids, another key's
 * responses and responses logged without bodies are refused in OpenAI's shape. Driven by the
 * official `openai` SDK (`responses.create`, `responses.stream`, `responses.retrieve`).
 */
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicFake, type ProviderFake as AnthropicFake } from '../../../fakes/anthropic-fake.js';
import { startFaultProxy } from '../../../fakes/fault-proxy.js';
import { startGeminiFake, type ProviderFake as GeminiFake } from '../../../fakes/gemini-fake.js';
import { startAppGateway } from '../../../app-gateway.js';
import type { RunningGateway } from '../../../../src/main/headless.js';

const ANTHROPIC_KEY = 'sk-ant-previous-0123456789';
const GEMINI_KEY = 'gem-key-previous-0123456789';
const CLAUDE = 'claude-sonnet-4-5';
const GEMINI = 'gemini/gemini-2.5-flash';

let anthropic: AnthropicFake;
let gemini: GeminiFake;
let gateway: RunningGateway;
let client: OpenAI;
let key: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-previous-'));
  [anthropic, gemini] = await Promise.all([startAnthropicFake({ apiKey: ANTHROPIC_KEY }), startGeminiFake({ apiKey: GEMINI_KEY })]);
  ({ gateway, key } = await startAppGateway({
    dataDir,
    environment: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.url },
  }));
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([anthropic?.close(), gemini?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

function lastGeminiBody(): any {
  return gemini.requests.filter((request) => request.method === 'POST').at(-1)!.body;
}

function geminiTexts(body: any): Array<[string, string]> {
  return body.contents.map((content: any) => [content.role, content.parts.map((part: any) => part.text ?? '').join('')]);
}

describe('previous_response_id', () => {
  it('continues a Claude answer on Gemini, right after it was given: history in order, instructions not carried over', async () => {
    const first = await client.responses.create({ model: CLAUDE, instructions: 'Be terse.', input: 'Hello' });
    expect(first.output_text).toBe('Hello from anthropic! You said: Hello');
    // No wait: the log's writer may not have committed the first answer yet.
    const second = await client.responses.create({ model: GEMINI, previous_response_id: first.id, input: 'And then?' });
    expect(second.status).toBe('completed');
    expect(second.id).not.toBe(first.id);
    const body = lastGeminiBody();
    expect(geminiTexts(body)).toEqual([
      ['user', 'Hello'],
      ['model', 'Hello from anthropic! You said: Hello'],
      ['user', 'And then?'],
    ]);
    // OpenAI: "the instructions from a previous response will not be carried over".
    expect(body.systemInstruction).toBeUndefined();
  });

  it('resolves a chain recursively, streamed turns included, with the new request’s own instructions only', async () => {
    const first = await client.responses.create({ model: CLAUDE, instructions: 'Old rules.', input: [{ role: 'user', content: [{ type: 'input_text', text: 'One' }] }] });
    const stream = client.responses.stream({ model: GEMINI, previous_response_id: first.id, input: 'Two' });
    for await (const _event of stream) {
      // drained
    }
    const second = await stream.finalResponse();
    const third = await client.responses.create({ model: CLAUDE, previous_response_id: second.id, instructions: 'New rules.', input: 'Three' });
    expect(third.status).toBe('completed');
    const upstream = anthropic.requests.at(-1)!.body;
    expect(upstream.system).toEqual([{ type: 'text', text: 'New rules.' }]);
    const texts = upstream.messages.map((message: any) => [message.role, typeof message.content === 'string' ? message.content : message.content.map((part: any) => part.text ?? '').join('')]);
    expect(texts).toEqual([
      ['user', 'One'],
      ['assistant', 'Hello from anthropic! You said: One'],
      ['user', 'Two'],
      ['assistant', second.output_text],
      ['user', 'Three'],
    ]);
    expect(second.output_text.length).toBeGreaterThan(0);
  });

  it('a function call round trip across turns: the call from the stored output, its result in the new input', async () => {
    const weather: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
    const first = await client.responses.create({ model: CLAUDE, tools: [weather], input: 'Weather? [tools]' });
    const calls = first.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(calls.length).toBeGreaterThan(0);
    const second = await client.responses.create({
      model: CLAUDE,
      tools: [weather],
      previous_response_id: first.id,
      input: calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: 'sunny' })),
    });
    expect(second.status).toBe('completed');
    const messages = anthropic.requests.at(-1)!.body.messages;
    expect(messages.at(-2).content.filter((part: any) => part.type === 'tool_use').map((part: any) => part.id)).toEqual(calls.map((call) => call.call_id));
    expect(messages.at(-1).content.every((part: any) => part.type === 'tool_result')).toBe(true);
  });

  it('store: false responses are still continued (the local log keeps them)', async () => {
    const first = await client.responses.create({ model: CLAUDE, input: 'Private', store: false });
    const second = await client.responses.create({ model: CLAUDE, previous_response_id: first.id, input: 'More' });
    expect(second.status).toBe('completed');
    expect(anthropic.requests.at(-1)!.body.messages[0]).toMatchObject({ role: 'user' });
  });

  it('an unknown id is a 400 in OpenAI’s shape naming previous_response_id', async () => {
    const before = anthropic.requests.length;
    const error = await client.responses.create({ model: CLAUDE, previous_response_id: 'resp_doesnotexist', input: 'Hi' }).catch((caught: unknown) => caught);
    // A translated upstream is not asked (only OpenAI, by pass-through, could know an id the log does not).
    expect(anthropic.requests.length).toBe(before);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
      message: "Previous response with id 'resp_doesnotexist' not found.",
    });
  });

  it('another gateway key’s response is not found', async () => {
    const first = await client.responses.create({ model: CLAUDE, input: 'Mine' });
    const other = (await gateway.application.services['gateway-keys.create']({ name: 'other-client' })).key;
    const otherClient = new OpenAI({ apiKey: other, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
    const error = await otherClient.responses.create({ model: CLAUDE, previous_response_id: first.id, input: 'Yours?' }).catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect(await otherClient.responses.retrieve(first.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('GET /v1/responses/{id}', () => {
  it('returns the response the client got, JSON or streamed', async () => {
    const created = await client.responses.create({ model: CLAUDE, instructions: 'Be terse.', input: 'Retrieve me' });
    expect(await client.responses.retrieve(created.id)).toEqual(created);
    const stream = client.responses.stream({ model: GEMINI, input: 'Streamed' });
    const ids = new Set<string>();
    for await (const event of stream) if ('response' in event) ids.add(event.response.id);
    const streamed = await stream.finalResponse();
    expect([...ids]).toEqual([streamed.id]);
    const retrieved = await client.responses.retrieve(streamed.id);
    expect(retrieved).toMatchObject({ id: streamed.id, status: 'completed', output_text: streamed.output_text, usage: streamed.usage });
  });

  it.each([
    { kind: 'Anthropic overloaded', model: CLAUDE },
    { kind: 'a Gemini internal error', model: GEMINI },
  ])('a stream that failed ($kind mid-stream) stays retrievable: status failed, its error as the stream reported it', async ({ model }) => {
    const stream = await client.responses.create({ model, input: 'Break [error:midstream]', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
    expect(failed.type).toBe('response.failed');
    // A code the Responses API has (openai SDK's ResponseError), the upstream's words in the message.
    expect(failed.response.error).toEqual({ code: 'server_error', message: expect.any(String) });
    // The SDK adds output_text to what it retrieves.
    const { output_text: _added, ...retrieved } = await client.responses.retrieve(failed.response.id);
    // The very object the stream ended with: same id, status, error, output so far and usage.
    expect(retrieved).toEqual(failed.response);
    expect(retrieved.status).toBe('failed');
    // A failed response continues nothing (as at OpenAI, which keeps no usable conversation for it).
    const error = await client.responses.create({ model: CLAUDE, previous_response_id: failed.response.id, input: 'Go on' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    // Its input items and deletion work as for any response.
    const items = await client.responses.inputItems.list(failed.response.id);
    expect(items.data.map((item) => (item as { type: string }).type)).toEqual(['message']);
    await client.responses.delete(failed.response.id);
    expect(await client.responses.retrieve(failed.response.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('an unknown id is a 404 in OpenAI’s shape', async () => {
    const error = await client.responses.retrieve('resp_unknown').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ type: 'invalid_request_error', message: "Response with id 'resp_unknown' not found." });
  });

  it('needs the gateway key like every endpoint', async () => {
    const response = await fetch(`${gateway.origin}/v1/responses/resp_unknown`);
    expect(response.status).toBe(401);
  });
});

describe('the gateway’s own failure mid-stream', () => {
  it('an upstream that stalls past the idle timeout: the failed response is retrievable as the stream ended it', async () => {
    const proxy = await startFaultProxy(anthropic.url);
    const stallingDir = mkdtempSync(join(tmpdir(), 'switchyard-previous-stall-'));
    const stalling = await startAppGateway({
      dataDir: stallingDir,
      config: { providers: { anthropic: { timeouts: { idleSeconds: 0.3 } } } },
      environment: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: proxy.url },
    });
    try {
      proxy.fail({ stallAfterBytes: 700 });
      const stallingClient = new OpenAI({ apiKey: stalling.key, baseURL: `${stalling.gateway.origin}/v1`, maxRetries: 0 });
      const stream = await stallingClient.responses.create({ model: CLAUDE, input: 'A long enough reply to pass seven hundred bytes', stream: true });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
      expect(failed.type).toBe('response.failed');
      expect(failed.response.error).toEqual({ code: 'server_error', message: expect.stringMatching(/\S/) });
      const { output_text: _added, ...retrieved } = await stallingClient.responses.retrieve(failed.response.id);
      expect(retrieved).toEqual(failed.response);
    } finally {
      await stalling.gateway.close();
      await proxy.close();
      rmSync(stallingDir, { recursive: true, force: true });
    }
  });
});

describe('with bodies not stored', () => {
  it('a response logged without bodies cannot be continued: a 400 saying why', async () => {
    gateway.application.context.requestLog.setStoreBodies(false);
    try {
      const first = await client.responses.create({ model: CLAUDE, input: 'Not kept' });
      const error = await client.responses.create({ model: CLAUDE, previous_response_id: first.id, input: 'Go on' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      const body = (error as InstanceType<typeof OpenAI.BadRequestError>).error as { param: string; code: string; message: string };
      expect(body).toMatchObject({ param: 'previous_response_id', code: 'previous_response_without_bodies' });
      expect(body.message).toContain('without its request and response bodies');
      expect(await client.responses.retrieve(first.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      gateway.application.context.requestLog.setStoreBodies(true);
    }
  });
});
