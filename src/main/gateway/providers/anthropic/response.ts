/**
 * Anthropic `Message` → core response, every block kept in order:
 * - text → TextPart (its `citations` kept as Anthropic provider data);
 * - thinking → ReasoningPart with `{signature}` as Anthropic provider data, redacted_thinking →
 *   a redacted ReasoningPart carrying `{data}`: both replayed byte for byte (request.ts);
 * - tool_use → ToolCallPart (`input` as JSON text);
 * - server_tool_use, web_search_tool_result and any newer block → NativePart of the Anthropic
 *   family (an Anthropic client gets them back; other formats leave them out);
 * - stop_reason → CoreFinish (raw and stop sequence kept), usage → CoreUsage (usage.ts).
 */
import type { AssistantPart, CoreResponse } from '../../../core/types.js';
import { GatewayError } from '../../errors.js';
import type { UpstreamTarget } from '../types.js';
import { mapStopReason } from './finish-reason.js';
import { coreUsageFromAnthropic } from './usage.js';
import type { AnthropicResponseMessage, ResponseBlock } from './wire-types.js';

function badResponse(target: UpstreamTarget, what: string): GatewayError {
  return new GatewayError(502, `${target.provider.name} returned ${what}`, { type: 'upstream_error', code: 'bad_upstream_response' });
}

/** A tool call's input as argument text (`{}` when it is not an object). */
export function toolArguments(input: unknown): string {
  if (typeof input !== 'object' || input === null) return '{}';
  return JSON.stringify(input);
}

function part(block: ResponseBlock): AssistantPart | null {
  const record = block as Record<string, unknown>;
  switch (block.type) {
    case 'text': {
      if (typeof record.text !== 'string') return null;
      const text: AssistantPart = { type: 'text', text: record.text };
      if (record.citations !== undefined && record.citations !== null) text.citations = { family: 'anthropic', data: { citations: record.citations } };
      return text;
    }
    case 'thinking':
      if (typeof record.thinking !== 'string') return null;
      return { type: 'reasoning', text: record.thinking, providerData: { family: 'anthropic', data: { signature: typeof record.signature === 'string' ? record.signature : '' } } };
    case 'redacted_thinking':
      if (typeof record.data !== 'string') return null;
      return { type: 'reasoning', text: '', redacted: true, providerData: { family: 'anthropic', data: { data: record.data } } };
    case 'tool_use':
      if (typeof record.id !== 'string' || typeof record.name !== 'string') return null;
      return { type: 'tool-call', id: record.id, name: record.name, input: toolArguments(record.input), kind: 'function' };
    default:
      return { type: 'native', family: 'anthropic', kind: String(block.type), value: block };
  }
}

export function messageToCore(message: AnthropicResponseMessage, created: number): CoreResponse {
  const content: AssistantPart[] = [];
  for (const block of message.content ?? []) {
    const converted = typeof block === 'object' && block !== null ? part(block) : null;
    if (converted) content.push(converted);
  }
  return {
    id: typeof message.id === 'string' ? message.id : null,
    model: message.model,
    created,
    choices: [{ index: 0, content, finish: mapStopReason(message.stop_reason, message.stop_sequence ?? null) }],
    usage: message.usage ? coreUsageFromAnthropic(message.usage) : null,
  };
}

export function parseAnthropicResponse(body: Buffer, target: UpstreamTarget, created = Math.floor(Date.now() / 1000)): CoreResponse {
  return parseAnthropicMessage(body, target, created).response;
}

/** The message parsed (for the log and an Anthropic client's pass-through) and as the core response. */
export function parseAnthropicMessage(body: Buffer, target: UpstreamTarget, created = Math.floor(Date.now() / 1000)): { response: CoreResponse; json: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badResponse(target, 'a message that is not valid JSON');
  }
  const message = parsed as AnthropicResponseMessage | null;
  if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) throw badResponse(target, 'a message without content');
  return { response: messageToCore(message, created), json: parsed };
}
