/**
 * Conversations: the list (title from the first user message, models, turns, total cost,
 * last activity, with search) and one conversation as its turns, read through the
 * analytics worker so a long history never blocks the gateway.
 */
import type { ConversationDetailView, ConversationSummary } from '../../shared/contract.js';
import type { ConversationListItem } from '../storage/analytics.js';
import { requireString } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

const ALL_TIME = { from: 0, to: 8.64e15 };
/** Conversations read when searching: storage has no text search yet, so titles are filtered here. */
const SEARCH_WINDOW = 1000;

function summaryOf(item: ConversationListItem, models: string[]): ConversationSummary {
  return {
    id: item.id,
    title: item.title,
    firstStartedAt: item.firstStartedAt,
    lastStartedAt: item.lastStartedAt,
    turns: item.requests,
    errors: item.errors,
    inputTokens: item.inputTokens,
    outputTokens: item.outputTokens,
    costNanoUsd: item.costNanoUsd,
    unpricedTurns: item.unpricedRequests,
    models,
  };
}

export function createConversationService(context: ServiceContext): Pick<OperationHandlers, 'conversations.list' | 'conversations.get'> {
  return {
    'conversations.list': async (input) => {
      const limit = Math.max(1, Math.min(500, Math.floor(input?.limit ?? 100)));
      const offset = Math.max(0, Math.floor(input?.offset ?? 0));
      const search = input?.search?.trim().toLowerCase();
      if (!search) {
        const page = await context.analytics().listConversations({ ...ALL_TIME, to: Date.now() + 1 }, limit, offset);
        return { conversations: page.conversations.map((item) => summaryOf(item, item.lastModel ? [item.lastModel] : [])), hasMore: page.hasMore };
      }
      const window = await context.analytics().listConversations({ ...ALL_TIME, to: Date.now() + 1 }, SEARCH_WINDOW, 0);
      const matching = window.conversations.filter((item) => `${item.title ?? ''}\n${item.lastModel ?? ''}\n${item.id}`.toLowerCase().includes(search));
      return {
        conversations: matching.slice(offset, offset + limit).map((item) => summaryOf(item, item.lastModel ? [item.lastModel] : [])),
        hasMore: matching.length > offset + limit,
      };
    },
    'conversations.get': async (input): Promise<ConversationDetailView | null> => {
      const id = requireString(input?.id, 'id', { maximumLength: 300 });
      const detail = await context.analytics().conversation(id);
      if (!detail) return null;
      const models = [...new Set(detail.turns.map((turn) => turn.model).filter((model): model is string => model !== null))];
      return {
        ...summaryOf(detail, models),
        turnsDetail: detail.turns.map((turn) => ({
          requestId: turn.requestId,
          startedAt: turn.startedAt,
          model: turn.model,
          provider: turn.provider,
          status: turn.status,
          errorMessage: turn.errorMessage,
          inputTokens: turn.inputTokens,
          outputTokens: turn.outputTokens,
          reasoningTokens: turn.reasoningTokens,
          costNanoUsd: turn.costNanoUsd,
          priced: turn.priced,
          latencyMs: turn.latencyMs,
          timeToFirstTokenMs: turn.timeToFirstTokenMs,
          newMessages: turn.newMessages,
          responseMessages: turn.responseMessages,
        })),
      };
    },
  };
}
