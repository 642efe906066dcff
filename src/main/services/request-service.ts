/**
 * The inspector's data: the recent request list with filters (requests in flight and just
 * finished from the live tracker, then the log), one request's full detail (client
 * request, upstream request, response, warnings, attempts, masked headers, stream
 * events), and the values the filter chips offer.
 */
import type { RequestDetail, RequestFilters, RequestSummary } from '../../shared/contract.js';
import { matchesFilters } from '../../shared/request-filters.js';
import { requireString } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';
import { listGatewayKeys } from './gateway-key-service.js';

const DEFAULT_PAGE = 200;
const MAXIMUM_PAGE = 1000;


export function createRequestService(context: ServiceContext): Pick<OperationHandlers, 'requests.list' | 'requests.get' | 'requests.facets'> {
  return {
    'requests.list': async (input) => {
      const filters = input?.filters ?? {};
      const limit = Math.max(1, Math.min(MAXIMUM_PAGE, Math.floor(input?.limit ?? DEFAULT_PAGE)));
      const before = typeof input?.before === 'number' ? input.before : undefined;
      const onlyLive = (filters.status ?? []).length > 0 && (filters.status ?? []).every((status) => status === 'in-flight');
      const stored = onlyLive ? { items: [], hasMore: false } : await context.log.listRequests(filters, limit, before);
      if (before !== undefined) return stored;
      // Newest first: in flight, then finished but perhaps not written yet, then the log.
      const seen = new Set(stored.items.map((item) => item.id));
      const live: RequestSummary[] = [];
      for (const summary of context.tracker.inFlightSummaries()) if (matchesFilters(summary, filters)) live.push(summary);
      // Every finished request the tracker remembers, not only those whose record it still holds:
      // the log may not have stored them yet.
      for (const summary of context.tracker.finishedSummaries()) {
        if (!seen.has(summary.id) && matchesFilters(summary, filters)) live.push(summary);
      }
      const items = [...live, ...stored.items].sort((left, right) => right.startedAt - left.startedAt).slice(0, limit);
      return { items, hasMore: stored.hasMore || live.length + stored.items.length > limit };
    },
    'requests.get': async (input): Promise<RequestDetail | null> => {
      const id = requireString(input?.id, 'id', { maximumLength: 200 });
      const extras = context.tracker.extras(id);
      const stored = await context.log.getRequest(id);
      if (stored) {
        return {
          ...stored.summary,
          finishReason: stored.finishReason,
          traceId: stored.traceId,
          errorType: stored.errorType,
          requestBody: stored.requestBody,
          upstreamRequestBody: stored.upstreamRequestBody,
          responseBody: stored.responseBody,
          bodiesAvailable: stored.bodiesAvailable,
          warnings: stored.warnings,
          attemptDetails: stored.attempts,
          requestHeaders: extras?.headers ?? null,
          streamEvents: extras?.streamEvents ?? null,
        };
      }
      const live = context.tracker.summary(id);
      if (!live || !extras) return null;
      const record = extras.record;
      return {
        ...live,
        finishReason: record?.finishReason ?? null,
        traceId: record?.traceId ?? null,
        errorType: record?.errorType ?? null,
        requestBody: record?.requestBody ?? null,
        upstreamRequestBody: record?.upstreamRequestBody ?? null,
        responseBody: record?.responseBody ?? null,
        bodiesAvailable: record !== null,
        warnings: record?.warnings ?? [],
        attemptDetails: record
          ? [{ index: Math.max(0, record.attempts - 1), provider: record.provider, model: record.resolvedModel, startedAt: null, endedAt: record.endedAt, latencyMs: null, httpStatus: record.httpStatus, status: record.status, errorType: record.errorType, errorMessage: record.errorMessage }]
          : [],
        requestHeaders: extras.headers,
        streamEvents: extras.streamEvents,
      };
    },
    'requests.facets': async () => {
      const facets = await context.log.requestFacets(Date.now() - 30 * 24 * 3600_000);
      const keys = await listGatewayKeys(context);
      const names = new Map(keys.map((key) => [key.id, key.name]));
      names.set('playground', 'Playground');
      const gatewayKeys = [...new Set([...facets.gatewayKeyIds, ...keys.map((key) => key.id)])].map((id) => ({ id, name: names.get(id) ?? id }));
      return { providers: facets.providers, models: facets.models, tags: facets.tags, gatewayKeys };
    },
  };
}

