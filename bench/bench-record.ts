/**
 * A record like the benchmark's chat completions produce (bodies, one attempt, usage with
 * the upstream's raw report), for the storage microbenchmarks: the storage tests' record
 * with the fast upstream's answer and a time-ordered id, as the gateway makes them.
 */
import { newRequestId } from '../src/main/gateway/request-id.js';
import type { StoredRequestRecord } from '../src/main/storage/stored-record.js';
import { makeRecord } from '../test/storage/request-record-fixture.js';

const rawUsage = { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };

export function benchRecord(index: number): StoredRequestRecord {
  const startedAt = Date.now();
  const requestBody = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `Say hello for the benchmark. ${index % 50}` }] };
  return makeRecord({
    id: newRequestId(),
    startedAt,
    latencyMs: 2,
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    usage: { inputTokens: 12, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 11, reasoningTokens: 0, raw: rawUsage },
    gatewayKeyId: null,
    requestBody,
    upstreamRequestBody: requestBody,
    responseBody: {
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1760000000,
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! This is a benchmark reply from the fast upstream.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: rawUsage,
    },
    attemptsDetail: [{ provider: 'openai', model: 'gpt-4.1-mini', startedAt, endedAt: startedAt + 2, latencyMs: 2, httpStatus: 200, status: 'success', errorType: null, errorMessage: null }],
  });
}

const CONVERSATIONS = 50;
const TURNS = 8;
/** Turns made so far: chats go on from call to call (a bench's later rounds do not repeat its first). */
let turnsMade = 0;

/**
 * A turn of one of 50 interleaved chats that resend their history (up to 8 turns, then the
 * chat starts over under a new opening): a growing request, an answer never seen before. What
 * content addressing and the message cache meet in real use, unlike benchRecord's single
 * message and fixed answer. `npx tsx bench/request-writer.ts [records] [batch] --conversations`.
 */
export function benchConversationRecord(index: number): StoredRequestRecord {
  const made = turnsMade++;
  const chat = made % CONVERSATIONS;
  const round = Math.floor(made / CONVERSATIONS);
  const turn = round % TURNS;
  const session = `${chat}.${Math.floor(round / TURNS)}`;
  const messages: Array<{ role: string; content: string }> = [{ role: 'system', content: `You are assistant ${chat}. Answer briefly and precisely.` }];
  for (let earlier = 0; earlier <= turn; earlier += 1) {
    messages.push({ role: 'user', content: `Session ${session}, question ${earlier}: what should I check next in this code?` });
    if (earlier < turn) messages.push({ role: 'assistant', content: `Session ${session}, answer ${earlier}: look at the error handling of the writer first.` });
  }
  const record = benchRecord(index);
  const requestBody = { model: 'gpt-4.1-mini', messages };
  const responseBody = record.responseBody as { choices: Array<{ message: { content: string } }> };
  responseBody.choices[0]!.message.content = `Session ${session}, answer ${turn}: look at the error handling of the writer first.`;
  return { ...record, requestBody, upstreamRequestBody: { ...requestBody, model: 'gpt-4.1-mini-2025-04-14' } };
}
