/**
 * The inspector's filters applied to one request summary: used by main for requests not in
 * the log yet and by the renderer for live events, so both lists agree with the SQL the
 * log is queried with. Pure, no Node or DOM: the one piece of logic beside the contract's types.
 */
import type { RequestFilters, RequestSummary } from './contract';

export function matchesFilters(summary: RequestSummary, filters: RequestFilters): boolean {
  const statuses = filters.status ?? [];
  if (statuses.length > 0) {
    const live = summary.endedAt === null;
    if (!statuses.some((status) => (status === 'in-flight' ? live : !live && summary.status === status))) return false;
  }
  if (filters.provider?.length && !filters.provider.includes(summary.provider ?? '')) return false;
  if (filters.model?.length && !filters.model.includes(summary.resolvedModel ?? '') && !filters.model.includes(summary.requestedModel ?? '')) return false;
  if (filters.gatewayKey?.length && !filters.gatewayKey.includes(summary.gatewayKeyId ?? '')) return false;
  for (const tag of filters.tag ?? []) {
    const colon = tag.indexOf(':');
    const found = summary.tags.some((own) => (colon === -1 ? own.key === tag : own.key === tag.slice(0, colon) && own.value === tag.slice(colon + 1)));
    if (!found) return false;
  }
  if (filters.conversationId && summary.conversationId !== filters.conversationId) return false;
  if (filters.from !== undefined && summary.startedAt < filters.from) return false;
  if (filters.to !== undefined && summary.startedAt >= filters.to) return false;
  const text = filters.text?.trim().toLowerCase();
  if (text) {
    const haystack = [summary.id, summary.requestedModel, summary.resolvedModel, summary.provider, summary.endpoint, summary.errorMessage, summary.user, ...summary.tags.map((tag) => `${tag.key}:${tag.value}`)]
      .filter(Boolean)
      .join('\n')
      .toLowerCase();
    if (!haystack.includes(text)) return false;
  }
  return true;
}

export function hasActiveFilters(filters: RequestFilters): boolean {
  return Boolean(
    filters.text?.trim() || filters.status?.length || filters.provider?.length || filters.model?.length || filters.tag?.length || filters.gatewayKey?.length || filters.conversationId,
  );
}
