/**
 * `GET /v1/responses/{id}/input_items` and `DELETE /v1/responses/{id}` on responses kept in the
 * request log (a gateway started as `switchyard serve` starts it), driven by the official
 * `openai` SDK (`responses.inputItems.list`, with its auto-pagination; `responses.delete`).
 * Input items come in OpenAI's list shape, with a continued response's whole context, paged by
 * limit / order / after; a deleted response is not found afterwards (GET, input items,
 * previous_response_id — not handed to OpenAI either) while its log row stays.
 */
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicFake, type ProviderFake as AnthropicFake } from '../../../fakes/anthropic-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../../../fakes/openai-fake.js';
import { startAppGateway } from '../../../app-gateway.js';
import type { RunningGateway } from '../../../../src/main/headless.js';

const ANTHROPIC_KEY = 'sk-ant-input-items-0123456789';
const OPENAI_KEY = 'sk-openai-input-items-0123456789';
const CLAUDE = 'claude-sonnet-4-5';

let anthropic: AnthropicFake;
let openai: OpenAIFake;
let gateway: RunningGateway;
let client: OpenAI;
let key: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-input-items-'));
  [anthropic, openai] = await Promise.all([startAnthropicFake({ apiKey: ANTHROPIC_KEY }), startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY })]);
  ({ gateway, key } = await startAppGateway({
    dataDir,
    environment: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url },
  }));
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([anthropic?.close(), openai?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

async function raw(method: string, path: string, apiKey = key): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gateway.origin}${path}`, { method, headers: { authorization: `Bearer ${apiKey}` } });
  return { status: response.status, body: await response.json() };
}

const textOf = (item: any): string => item.content.map((part: any) => part.text).join('');

describe('GET /v1/responses/{id}/input_items', () => {
  it('lists a response’s input in OpenAI’s list shape: ids, typed messages with content parts, newest first', async () => {
    const response = await client.responses.create({
      model: CLAUDE,
      input: [
        { role: 'developer', content: 'Answer in English.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] },
      ],
    });
    const page = await raw('GET', `/v1/responses/${response.id}/input_items`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ object: 'list', has_more: false });
    expect(page.body.data.map((item: any) => [item.type, item.role, textOf(item), item.status])).toEqual([
      ['message', 'user', 'Hello there', 'completed'],
      ['message', 'developer', 'Answer in English.', 'completed'],
    ]);
    expect(page.body.data[1].content).toEqual([{ type: 'input_text', text: 'Answer in English.' }]);
    expect(page.body.first_id).toBe(page.body.data[0].id);
    expect(page.body.last_id).toBe(page.body.data[1].id);
    expect(page.body.first_id).toMatch(/^msg_/);
    // The same ids on every call (cursors depend on it).
    expect((await raw('GET', `/v1/responses/${response.id}/input_items`)).body.data.map((item: any) => item.id)).toEqual(page.body.data.map((item: any) => item.id));
  });

  it('a continued response lists its whole context; the SDK pages through it with limit and after', async () => {
    const first = await client.responses.create({ model: CLAUDE, input: 'One' });
    const second = await client.responses.create({ model: CLAUDE, previous_response_id: first.id, input: 'Two' });
    const third = await client.responses.create({
      model: CLAUDE,
      previous_response_id: second.id,
      input: [{ type: 'message', role: 'user', content: 'Three' }],
    });
    const ascending = await client.responses.inputItems.list(third.id, { order: 'asc', limit: 100 });
    expect(ascending.data.map((item: any) => [item.role, textOf(item)])).toEqual([
      ['user', 'One'],
      ['assistant', first.output_text],
      ['user', 'Two'],
      ['assistant', second.output_text],
      ['user', 'Three'],
    ]);
    // The assistant's turn as it was output, with its own id.
    expect(ascending.data[1]!.id).toBe(first.output[0]!.id);
    const paged: string[] = [];
    for await (const item of client.responses.inputItems.list(third.id, { limit: 2 })) paged.push(item.id);
    expect(paged).toEqual(ascending.data.map((item) => item.id).reverse());
    const firstPage = await raw('GET', `/v1/responses/${third.id}/input_items?limit=2&order=asc`);
    expect(firstPage.body).toMatchObject({ has_more: true, first_id: ascending.data[0]!.id, last_id: ascending.data[1]!.id });
    const lastPage = await raw('GET', `/v1/responses/${third.id}/input_items?limit=2&order=asc&after=${ascending.data[3]!.id}`);
    expect(lastPage.body).toMatchObject({ has_more: false, first_id: ascending.data[4]!.id, last_id: ascending.data[4]!.id });
  });

  it('a bad limit, order or cursor is a 400 in OpenAI’s shape; an unknown response a 404', async () => {
    const response = await client.responses.create({ model: CLAUDE, input: 'Query me' });
    for (const [query, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=ten', 'limit'], ['order=sideways', 'order'], ['after=msg_nowhere', 'after']] as const) {
      const answer = await raw('GET', `/v1/responses/${response.id}/input_items?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const unknown = await client.responses.inputItems.list('resp_unknown').catch((caught: unknown) => caught);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('DELETE /v1/responses/{id}', () => {
  it('deletes: afterwards not found for GET, input items or previous_response_id; the log row stays', async () => {
    const { data: response, response: http } = await client.responses.create({ model: CLAUDE, input: 'Forget me' }).withResponse();
    const requestId = http.headers.get('x-switchyard-request-id')!;
    const deleted = await raw('DELETE', `/v1/responses/${response.id}`);
    expect(deleted).toEqual({ status: 200, body: { id: response.id, object: 'response', deleted: true } });
    expect(await client.responses.retrieve(response.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await client.responses.inputItems.list(response.id).catch((caught: unknown) => caught)).toBeInstanceOf(OpenAI.NotFoundError);
    const continued = await client.responses.create({ model: CLAUDE, previous_response_id: response.id, input: 'Remember?' }).catch((caught: unknown) => caught);
    expect(continued).toBeInstanceOf(OpenAI.BadRequestError);
    expect((continued as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
    // Deleting again: not found.
    expect((await raw('DELETE', `/v1/responses/${response.id}`)).status).toBe(404);
    // The request log still has the request, its usage and bodies.
    const logged = await gateway.application.services['requests.get']({ id: requestId });
    expect(logged).not.toBeNull();
    expect(logged!.status).toBe('success');
  });

  it('the SDK’s responses.delete; a deleted pass-through response is not handed to OpenAI for previous_response_id', async () => {
    const response = await client.responses.create({ model: 'gpt-4.1', input: 'At OpenAI, through the gateway' });
    await client.responses.delete(response.id);
    const before = openai.requests.length;
    const continued = await client.responses.create({ model: 'gpt-4.1', previous_response_id: response.id, input: 'Again' }).catch((caught: unknown) => caught);
    expect((continued as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect((continued as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'previous_response_not_found' });
    expect(openai.requests.length).toBe(before);
  });

  it('another gateway key cannot delete a response (404), which stays; an unknown id is a 404', async () => {
    const response = await client.responses.create({ model: CLAUDE, input: 'Mine to keep' });
    const other = (await gateway.application.services['gateway-keys.create']({ name: 'someone-else' })).key;
    const refused = await raw('DELETE', `/v1/responses/${response.id}`, other);
    expect(refused.status).toBe(404);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'response_not_found' });
    expect((await client.responses.retrieve(response.id)).id).toBe(response.id);
    expect((await raw('DELETE', '/v1/responses/resp_never_made')).status).toBe(404);
    // A client that sends a JSON content type with no body (curl -H 'Content-Type: application/json' -X DELETE) is served too.
    const typed = await fetch(`${gateway.origin}/v1/responses/${response.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    expect(typed.status).toBe(200);
    expect(await typed.json()).toEqual({ id: response.id, object: 'response', deleted: true });
  });
});
