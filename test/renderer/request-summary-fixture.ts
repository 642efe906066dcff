/** Request summaries for renderer tests. */
import type { RequestSummary } from '../../src/shared/contract.js';

export function summary(overrides: Partial<RequestSummary> & { id: string }): RequestSummary {
  return {
    startedAt: 1000,
    endedAt: 1200,
    endpoint: '/v1/chat/completions',
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    provider: 'openai',
    status: 'success',
    httpStatus: 200,
    stream: true,
    inputTokens: 10,
    cachedInputTokens: 0,
    outputTokens: 5,
    reasoningTokens: 0,
    liveOutputTokens: null,
    costNanoUsd: 1200,
    priced: true,
    usageEstimated: false,
    latencyMs: 200,
    timeToFirstTokenMs: 50,
    attempts: 1,
    tags: [],
    gatewayKeyId: null,
    user: null,
    conversationId: null,
    errorMessage: null,
    errorType: null,
    cacheHit: false,
    warningCount: 0,
    ...overrides,
  };
}
