/**
 * Turning a logged request into what the inspector shows and does: the model label
 * (requested → resolved), the status text, "copy as curl", and the playground seed built
 * from the client's request body.
 */
import type { RequestDetail, RequestSummary } from '../../../shared/contract';
import type { PlaygroundSeed } from '../stores/navigation-store';

export function modelLabel(summary: Pick<RequestSummary, 'requestedModel' | 'resolvedModel'>): string {
  const requested = summary.requestedModel;
  const resolved = summary.resolvedModel;
  if (!requested) return resolved ?? '—';
  if (!resolved || resolved === requested || requested.endsWith(`/${resolved}`)) return requested;
  return `${requested} → ${resolved}`;
}

/** The limits' own refusals (429 with these types), as opposed to an upstream's rate limit. */
const REFUSALS = new Set(['rate_limit_exceeded', 'budget_exceeded']);

export function statusText(summary: RequestSummary): string {
  if (summary.status === 'success' && summary.cacheHit) return `${summary.httpStatus ?? 200} cached`;
  if (summary.status === 'error' && summary.errorType !== null && REFUSALS.has(summary.errorType)) return `${summary.httpStatus ?? 429} refused`;
  switch (summary.status) {
    case 'pending':
      return 'waiting';
    case 'streaming':
      return 'streaming';
    case 'success':
      return String(summary.httpStatus ?? 200);
    case 'cancelled':
      return 'cancelled';
    case 'error':
      return String(summary.httpStatus ?? 'error');
  }
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that replays the client's request (the key left as a variable, never filled in). */
export function curlCommand(detail: Pick<RequestDetail, 'endpoint' | 'requestBody' | 'tags'>, baseOrigin: string): string {
  const lines = [`curl ${baseOrigin}${detail.endpoint}`, `  -H "Authorization: Bearer $SWITCHYARD_API_KEY"`, `  -H "Content-Type: application/json"`];
  if (detail.tags.length > 0) lines.push(`  -H ${shellQuote(`x-tags: ${detail.tags.map((tag) => `${tag.key}:${tag.value}`).join(', ')}`)}`);
  if (detail.requestBody !== null && detail.requestBody !== undefined) lines.push(`  -d ${shellQuote(JSON.stringify(detail.requestBody))}`);
  return lines.join(' \\\n');
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

export function playgroundSeedFrom(detail: Pick<RequestDetail, 'requestBody' | 'requestedModel'>): PlaygroundSeed {
  const body = (typeof detail.requestBody === 'object' && detail.requestBody !== null ? detail.requestBody : {}) as Record<string, unknown>;
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const system = messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => textOf(message.content))
    .join('\n\n');
  const turns = messages
    .filter((message) => message.role === 'user' || message.role === 'assistant')
    .map((message) => ({ role: message.role as 'user' | 'assistant', content: textOf(message.content) }))
    .filter((message) => message.content.length > 0);
  const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    model: typeof body.model === 'string' ? body.model : detail.requestedModel,
    system,
    messages: turns,
    temperature: number(body.temperature),
    maxTokens: number(body.max_completion_tokens) ?? number(body.max_tokens),
    reasoningEffort: typeof body.reasoning_effort === 'string' ? body.reasoning_effort : null,
  };
}

/** The reply as the client received it: text, reasoning and tool calls from an OpenAI response body. */
export function assembledResponse(body: unknown): { text: string; reasoning: string; toolCalls: Array<{ name: string; arguments: string; id: string }> } | null {
  if (typeof body !== 'object' || body === null) return null;
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) return null;
  const message = (choices[0] as { message?: Record<string, unknown> }).message;
  if (!message) return null;
  const toolCalls = Array.isArray(message.tool_calls)
    ? (message.tool_calls as Array<{ id?: string; function?: { name?: string; arguments?: string } }>).map((call) => ({
        id: call.id ?? '',
        name: call.function?.name ?? '',
        arguments: call.function?.arguments ?? '',
      }))
    : [];
  return {
    text: textOf(message.content) || (typeof message.refusal === 'string' ? message.refusal : ''),
    reasoning: typeof message.reasoning_content === 'string' ? message.reasoning_content : '',
    toolCalls,
  };
}
