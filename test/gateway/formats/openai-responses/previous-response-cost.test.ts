/**
 * What one turn of a long `previous_response_id` chain reads from the log and stores, counted (no
 * timings): each turn reads the conversation it continues with one walk (one statement, whatever
 * the chain's length; before the walk, turn n made n - 1 reads), and stores only its own bodies
 * (an earlier build stored every turn's whole conversation again: a log growing with the square of
 * the conversation). The upstream gets the whole conversation in order (translated or passed
 * through to OpenAI, streamed or not), a deleted earlier response still stops it, and a restart
 * continues from the log. Driven by the official `openai` SDK against a gateway started as
 * `switchyard serve` starts it.
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
import type { StoredResponses } from '../../../../src/main/storage/stored-responses.js';

const ANTHROPIC_KEY = 'sk-ant-chain-cost-0123456789';
const OPENAI_KEY = 'sk-openai-chain-cost-0123456789';
const CLAUDE = 'claude-sonnet-4-5';
const GPT = 'gpt-4.1';
const TURNS = 16;

let anthropic: AnthropicFake;
let openai: OpenAIFake;
let gateway: RunningGateway;
let client: OpenAI;
let key: string;
let dataDir: string;
const reads = { find: 0, walk: 0 };

/** Counts the stored-response reads the gateway makes (the very object it was built with). */
function countReads(store: StoredResponses): void {
  const { find, walk } = store;
  store.find = (responseId) => {
    reads.find += 1;
    return find.call(store, responseId);
  };
  store.walk = (responseId, limit) => {
    reads.walk += 1;
    return walk.call(store, responseId, limit);
  };
}

async function start(): Promise<void> {
  const started = await startAppGateway({
    dataDir,
    environment: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.url },
  });
  gateway = started.gateway;
  // A restart keeps the first key (the log's responses are that key's).
  key ??= started.key;
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
  countReads(gateway.application.responses);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-chain-cost-'));
  [anthropic, openai] = await Promise.all([startAnthropicFake({ apiKey: ANTHROPIC_KEY }), startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_KEY })]);
  await start();
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([anthropic?.close(), openai?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** One turn, and the reads its resolution made. */
async function turn(model: string, input: string, previous: string | null, stream = false): Promise<{ response: OpenAI.Responses.Response; find: number; walk: number }> {
  Object.assign(reads, { find: 0, walk: 0 });
  const body = { model, input, ...(previous ? { previous_response_id: previous } : {}) };
  let response: OpenAI.Responses.Response;
  if (stream) {
    const streamed = client.responses.stream(body);
    for await (const _event of streamed) {
      // drained
    }
    response = await streamed.finalResponse();
  } else response = await client.responses.create(body);
  return { response, ...reads };
}

function lastOpenAIInput(): Array<{ role?: string; content?: unknown; type?: string }> {
  return openai.requests.filter((request) => request.path === '/v1/responses').at(-1)!.body.input;
}

function userTexts(items: Array<{ role?: string; content?: unknown }>): unknown[] {
  return items.filter((item) => item.role === 'user').map((item) => (typeof item.content === 'string' ? item.content : (item.content as Array<{ text: string }>).map((part) => part.text).join('')));
}

let chain: string[] = [];

describe('a long previous_response_id chain', () => {
  it(`every turn reads its conversation with one walk, over ${TURNS} turns; the upstream gets the whole conversation`, async () => {
    const perTurn: Array<{ find: number; walk: number }> = [];
    let previous: string | null = null;
    for (let index = 0; index < TURNS; index += 1) {
      // Claude and OpenAI (pass-through) in turn, every third turn streamed.
      const result = await turn(index % 2 === 0 ? CLAUDE : GPT, `turn ${index}`, previous, index % 3 === 2);
      expect(result.response.status).toBe('completed');
      if (index > 0) perTurn.push({ find: result.find, walk: result.walk });
      previous = result.response.id;
      chain.push(previous);
    }
    expect(perTurn).toEqual(perTurn.map(() => ({ find: 0, walk: 1 })));

    // The last turn (OpenAI, passed through) was sent everything, in order: each turn's input, then its answer.
    const sent = lastOpenAIInput();
    expect(userTexts(sent)).toEqual(Array.from({ length: TURNS }, (_unused, index) => `turn ${index}`));
    expect(sent.filter((item) => item.role === 'assistant')).toHaveLength(TURNS - 1);
    // Its input items list the same context, from the stored conversation.
    const listed = [];
    for await (const item of client.responses.inputItems.list(chain.at(-1)!, { order: 'asc', limit: 100 })) listed.push(item);
    expect(userTexts(listed as Array<{ role?: string; content?: unknown }>)).toEqual(Array.from({ length: TURNS }, (_unused, index) => `turn ${index}`));
  });

  it('a deleted earlier response stops the chain with the error a walk gave (not found, naming it)', async () => {
    await client.responses.create({ model: CLAUDE, input: 'settle' });
    const middle = chain[5]!;
    await client.responses.delete(middle);
    const error = await client.responses.create({ model: CLAUDE, previous_response_id: chain.at(-1)!, input: 'go on' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found', message: `Previous response with id '${middle}' not found.` });
    // The chain before the deletion still continues.
    const before = await turn(CLAUDE, 'from turn four', chain[4]!);
    expect(before.response.status).toBe('completed');
    expect({ find: before.find, walk: before.walk }).toEqual({ find: 0, walk: 1 });
  });

  it('after a restart the log is the source: a new chain continues with the same reads', async () => {
    const first = await turn(CLAUDE, 'fresh 0', null);
    const second = await turn(GPT, 'fresh 1', first.response.id);
    const third = await turn(CLAUDE, 'fresh 2', second.response.id);
    await gateway.close();
    await start();
    const fourth = await turn(GPT, 'fresh 3', third.response.id, true);
    expect(fourth.response.status).toBe('completed');
    expect({ find: fourth.find, walk: fourth.walk }).toEqual({ find: 0, walk: 1 });
    expect(userTexts(lastOpenAIInput())).toEqual(['fresh 0', 'fresh 1', 'fresh 2', 'fresh 3']);
    chain = [first.response.id, second.response.id, third.response.id, fourth.response.id];
  });

  it('the log stores each turn’s own bodies only: no turn’s stored size grows with the conversation', async () => {
    const { requestLog, database } = gateway.application.context;
    await requestLog.committed();
    // Turns of the first chain (each ~the same text), early and late: same stored size within a few bytes per turn number's digits.
    const storedSize = (responseId: string): number =>
      database!.prepare('SELECT length(b.request_json) + length(b.response_json) + coalesce(length(b.context_json), 0) FROM requests r JOIN bodies b ON b.request_seq = r.seq WHERE r.response_id = ?').pluck().get(responseId) as number;
    const early = storedSize(chain[1]!);
    const late = storedSize(chain.at(-1)!);
    expect(late).toBeLessThan(early * 1.5);
    // No context text, and no message links beyond each body's own.
    expect(database!.prepare('SELECT count(*) FROM bodies WHERE context_json IS NOT NULL').pluck().get()).toBe(0);
    expect(database!.prepare('SELECT count(*) FROM request_messages WHERE part = 3').pluck().get()).toBe(0);
  });
});
