/** The inspector's request list: requests in flight and just finished from the live tracker, then the log. */
import { describe, expect, it } from 'vitest';
import type { RequestFilters, RequestSummary } from '../../src/shared/contract.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';
import { createPriceBook } from '../../src/main/pricing/catalog.js';
import { EventHub } from '../../src/main/services/event-hub.js';
import { LiveRequestTracker } from '../../src/main/services/live-request-tracker.js';
import { createRequestService } from '../../src/main/services/request-service.js';
import type { ServiceContext } from '../../src/main/services/service-context.js';
import { makeRecord } from '../storage/request-record-fixture.js';

/** A finished request of the `team` tag's even or odd group (by its start). */
function record(id: string, startedAt: number): RequestRecord {
  return makeRecord({
    id,
    startedAt,
    latencyMs: 50,
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    usage: { inputTokens: 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
    gatewayKeyId: null,
    tags: [{ key: 'team', value: startedAt % 2 === 0 ? 'even' : 'odd' }],
  });
}

describe('requests.list', () => {
  it('lists every request finished but not stored yet, also those whose record the tracker has let go', async () => {
    const tracker = new LiveRequestTracker({ events: new EventHub(), priceBook: () => createPriceBook() });
    const ids: string[] = [];
    for (let index = 1; index <= 12; index += 1) {
      const id = `request-${index}`;
      ids.push(id);
      tracker.requestStarted({ id, startedAt: 1000 + index, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: false, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: {} });
      tracker.requestFinished(record(id, 1000 + index));
    }
    tracker.requestStarted({ id: 'running', startedAt: 2000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: false, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: {} });
    // The log has stored only the oldest two so far (its writer commits within its flush interval).
    const stored = (filters: RequestFilters): { items: RequestSummary[]; hasMore: boolean } => ({
      items: [1002, 1001].filter((startedAt) => !filters.tag || filters.tag.includes(`team:${startedAt % 2 === 0 ? 'even' : 'odd'}`)).map((startedAt) => ({ ...tracker.summary(`request-${startedAt - 1000}`)!, cacheHit: false })),
      hasMore: false,
    });
    const context = { log: { listRequests: async (filters: RequestFilters) => stored(filters) }, tracker, priceBook: () => createPriceBook() } as unknown as ServiceContext;
    const service = createRequestService(context);
    const page = await service['requests.list']({});
    expect(page.items.map((item) => item.id)).toEqual(['running', ...ids.slice().reverse()]);
    expect(page.items.find((item) => item.id === 'request-5')).toMatchObject({ status: 'success', inputTokens: 10, outputTokens: 5 });
    // Filters apply to them as to the log's rows.
    const even = await service['requests.list']({ filters: { tag: ['team:even'] } });
    expect(even.items.map((item) => item.id)).toEqual(ids.filter((_, index) => (1001 + index) % 2 === 0).reverse());
  });
});
