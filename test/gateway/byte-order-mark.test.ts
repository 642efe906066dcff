/**
 * A JSON body that starts with a UTF-8 byte-order mark (EF BB BF), as some Windows tools send
 * it, is read as the JSON after the mark on every JSON endpoint; what goes upstream (the
 * client's text, on a pass-through) carries no mark. Only one leading mark is dropped: a second
 * one, or a mark anywhere else, is still not JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppGateway } from '../app-gateway.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { startTestGateway, type TestGateway } from '../helpers.js';
import { expectOpenAIError, post } from './support.js';

const OPENAI_KEY = 'sk-bom-openai-0123456789';
const ANTHROPIC_KEY = 'sk-ant-bom-0123456789';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

let openai: OpenAIFake;
let anthropic: AnthropicFake;
let gateway: TestGateway;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY }), startAnthropicFake({ apiKey: ANTHROPIC_KEY })]);
  gateway = await startTestGateway({ environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url, ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url } });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

/** The JSON text of `body` with `marks` byte-order marks before it. */
function withMarks(body: unknown, marks = 1): Buffer {
  return Buffer.concat([...Array.from({ length: marks }, () => BOM), Buffer.from(JSON.stringify(body))]);
}

describe('a body starting with a UTF-8 byte-order mark', () => {
  it('is accepted on /v1/chat/completions', async () => {
    const response = await post(gateway, '/v1/chat/completions', withMarks({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'from notepad' }] }));
    expect(response.status).toBe(200);
    expect(response.json.choices[0].message.content).toBe('Hello from openai! You said: from notepad');
  });

  it('is accepted on /v1/responses, and the body passed through to OpenAI has no mark', async () => {
    const before = openai.requests.length;
    const response = await post(gateway, '/v1/responses', withMarks({ model: 'gpt-4o-mini', input: 'from powershell' }));
    expect(response.status).toBe(200);
    expect(response.json.status).toBe('completed');
    const forwarded = openai.requests.slice(before).find((request) => request.path === '/v1/responses');
    // The fake parses what it receives: a body it could not parse would be undefined.
    expect(forwarded?.body?.input).toBe('from powershell');
  });

  it('is accepted on /v1/messages (Anthropic pass-through), and the body passed through has no mark', async () => {
    const before = anthropic.requests.length;
    const response = await post(gateway, '/v1/messages', withMarks({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'from a script' }] }), {
      'anthropic-version': '2023-06-01',
    });
    expect(response.status).toBe(200);
    expect(response.json.type).toBe('message');
    const forwarded = anthropic.requests.slice(before).find((request) => request.path === '/v1/messages');
    // The fake keeps the text itself when it cannot parse it (a mark left in would be a string here).
    expect(forwarded?.body).toMatchObject({ messages: [{ role: 'user', content: 'from a script' }] });
  });

  it('is accepted on /v1/embeddings', async () => {
    const response = await post(gateway, '/v1/embeddings', withMarks({ model: 'text-embedding-3-small', input: 'some words here' }));
    expect(response.status).toBe(200);
    expect(response.json.data).toHaveLength(1);
  });

  it('is logged as the JSON after the mark: the stored row read back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bom-'));
    const { gateway: app, key } = await startAppGateway({ dataDir, environment: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url } });
    try {
      const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'logged' }] };
      const response = await fetch(`${app.origin}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: withMarks(body) });
      expect(response.status).toBe(200);
      await app.application.context.requestLog.committed();
      const [listed] = (await app.application.services['requests.list']({ limit: 1 })).items;
      // requests.get reads the stored row once the log holds it (the live record only before).
      const stored = await app.application.services['requests.get']({ id: listed!.id });
      expect(stored?.bodiesAvailable).toBe(true);
      expect(stored?.requestBody).toEqual(body);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('only one mark is dropped: two are still not JSON', async () => {
    const response = await post(gateway, '/v1/chat/completions', withMarks({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'twice' }] }, 2));
    expectOpenAIError(response, 400, { code: 'invalid_json' });
  });

  it('a mark alone is an empty body', async () => {
    const response = await post(gateway, '/v1/chat/completions', BOM);
    expectOpenAIError(response, 400, { code: 'invalid_json', message: /empty/ });
  });
});
