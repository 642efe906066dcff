/** The pipeline's policy seam: a policy sees the decoded call before any attempt, may refuse it, and sees the final record. */
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { startTestGateway, type TestGateway } from '../helpers.js';
import { GatewayError } from '../../src/main/gateway/errors.js';
import type { Policy, PolicyCall } from '../../src/main/gateway/pipeline/policy.js';
import type { RequestRecord } from '../../src/main/core/record.js';

const KEY = 'sk-policy-test-0123456789';
let fake: OpenAIFake;
let gateway: TestGateway;
const seen: Array<{ call: PolicyCall; record: Readonly<RequestRecord> }> = [];
const before: PolicyCall[] = [];

const refuser: Policy = {
  name: 'refuse-on-header',
  before(call) {
    before.push(call);
    if (call.headers['x-test-refuse'] === 'yes') {
      return { refuse: new GatewayError(429, `Refused by policy for model ${call.core.model}.`, { type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: { 'retry-after': '7' } }) };
    }
  },
  after(call, record) {
    seen.push({ call, record });
  },
};
const throwsAfter: Policy = {
  name: 'broken-after',
  after() {
    throw new Error('bookkeeping failed');
  },
};

beforeAll(async () => {
  fake = await startOpenAIFake({ flavor: 'openai', apiKey: KEY });
  gateway = await startTestGateway({ environment: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url }, policies: [refuser, throwsAfter] });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
});

describe('policies', () => {
  it('see the decoded core request before the attempt and the final record after', async () => {
    const reply = await gateway.client().chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello policy' }] });
    expect(reply.choices[0]!.message.content).toContain('Hello from openai');
    const last = before.at(-1)!;
    expect(last.core.model).toBe('gpt-4.1');
    expect(last.core.messages[0]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'hello policy' }] });
    expect(last.endpoint).toBe('/v1/chat/completions');
    const after = seen.at(-1)!;
    expect(after.call.id).toBe(last.id);
    expect(after.record).toMatchObject({ status: 'success', provider: 'openai' });
    expect(after.record.usage?.inputTokens).toBeGreaterThan(0);
  });

  it('a refusal is answered in the client shape without reaching the upstream, and logged', async () => {
    const calls = fake.requests.length;
    const error = await gateway
      .client()
      .chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-test-refuse': 'yes' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(429);
    expect((error as APIError).headers?.get('retry-after')).toBe('7');
    expect(((error as APIError).error as { code: string }).code).toBe('rate_limit_exceeded');
    expect(fake.requests.length).toBe(calls);
    const after = seen.at(-1)!;
    expect(after.record).toMatchObject({ status: 'error', httpStatus: 429, attempts: 0 });
  });
});
