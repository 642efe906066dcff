/**
 * CPU cost of the request log's writer per record, apart from the gateway: feeds N records
 * like the benchmark's chat completions (bodies, tags, one attempt, usage) through
 * createRequestWriter into a fresh database and prints µs per record.
 * `npx tsx bench/request-writer.ts [records]`; run with `node --cpu-prof --import tsx` for a profile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRequestId } from '../src/main/gateway/request-id.js';
import { openDatabase } from '../src/main/storage/database.js';
import { createRequestWriter } from '../src/main/storage/request-writer.js';
import type { StoredRequestRecord } from '../src/main/storage/stored-record.js';

const total = Number(process.argv[2] ?? 20000);
const directory = mkdtempSync(join(tmpdir(), 'switchyard-writer-bench-'));
const database = openDatabase(directory);
const batch = Number(process.argv[3] ?? 256);
const writer = createRequestWriter(database, { flushIntervalMs: 0, maxBatchSize: batch });

function record(index: number): StoredRequestRecord {
  const startedAt = Date.now();
  const requestBody = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `Say hello for the benchmark. ${index % 50}` }] };
  return {
    id: newRequestId(),
    startedAt,
    endedAt: startedAt + 2,
    endpoint: '/v1/chat/completions',
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    provider: 'openai',
    status: 'success',
    httpStatus: 200,
    errorType: null,
    errorMessage: null,
    stream: false,
    usage: { inputTokens: 12, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 11, reasoningTokens: 0, raw: { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } } },
    timeToFirstTokenMs: null,
    latencyMs: 2,
    attempts: 1,
    finishReason: 'stop',
    gatewayKeyId: null,
    user: null,
    conversationId: null,
    tags: [],
    requestBody,
    upstreamRequestBody: requestBody,
    responseBody: {
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1760000000,
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! This is a benchmark reply from the fast upstream.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    },
    warnings: [],
    attemptsDetail: [{ provider: 'openai', model: 'gpt-4.1-mini', startedAt, endedAt: startedAt + 2, latencyMs: 2, httpStatus: 200, status: 'success', errorType: null, errorMessage: null }],
  };
}

const rounds: number[] = [];
for (let round = 0; round < 6; round++) {
  const records = Array.from({ length: total }, (_, index) => record(index));
  const cpuBefore = process.cpuUsage();
  for (let start = 0; start < records.length; start += batch) {
    for (const item of records.slice(start, start + batch)) writer.enqueue(item);
    writer.flush();
  }
  const cpu = process.cpuUsage(cpuBefore);
  if (round > 0) rounds.push((cpu.user + cpu.system) / total);
}
process.stdout.write(`writer: ${total} records per round, CPU ${Math.min(...rounds).toFixed(1)} µs/record (least of ${rounds.length}; all: ${rounds.map((value) => value.toFixed(0)).join(', ')})\n`);
writer.close();
database.close();
rmSync(directory, { recursive: true, force: true });
