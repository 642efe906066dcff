/**
 * Builders shared by the storage tests: a complete RequestRecord with sensible defaults,
 * a temporary data directory, and a chat transcript generator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StoredRequestRecord } from '../../src/main/storage/stored-record.js';

let sequence = 0;

export function makeRecord(overrides: Partial<StoredRequestRecord> = {}): StoredRequestRecord {
  sequence += 1;
  const startedAt = overrides.startedAt ?? Date.UTC(2025, 5, 1, 12, 0, 0);
  const latencyMs = overrides.latencyMs ?? 400;
  return {
    id: `request-${sequence}`,
    startedAt,
    endedAt: startedAt + latencyMs,
    endpoint: '/v1/chat/completions',
    requestedModel: 'gpt-4.1',
    resolvedModel: 'gpt-4.1',
    provider: 'openai',
    status: 'success',
    httpStatus: 200,
    errorType: null,
    errorMessage: null,
    stream: false,
    usage: { inputTokens: 1000, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 100, reasoningTokens: 0 },
    timeToFirstTokenMs: null,
    latencyMs,
    attempts: 1,
    finishReason: 'stop',
    gatewayKeyId: 'key-1',
    user: null,
    conversationId: null,
    tags: [],
    requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hello' }] },
    upstreamRequestBody: null,
    responseBody: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there' }, finish_reason: 'stop' }],
    },
    warnings: [],
    ...overrides,
  };
}

export function temporaryDirectory(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-storage-'));
}

export function removeDirectory(directory: string): void {
  fs.rmSync(directory, { recursive: true, force: true });
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** The request messages of each turn of an n-turn chat, and each turn's reply. */
export function chatTranscript(turns: number, system = 'You are terse.'): Array<{ messages: ChatMessage[]; reply: ChatMessage }> {
  const result: Array<{ messages: ChatMessage[]; reply: ChatMessage }> = [];
  const history: ChatMessage[] = [{ role: 'system', content: system }];
  for (let turn = 1; turn <= turns; turn += 1) {
    history.push({ role: 'user', content: `Question number ${turn}: what is ${turn} squared?` });
    const reply = { role: 'assistant', content: `${turn * turn}` };
    result.push({ messages: history.map((message) => ({ ...message })), reply });
    history.push(reply);
  }
  return result;
}
