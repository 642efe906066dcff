/**
 * How provider state, finish reasons and usage are written in OpenAI's chat format — the
 * gateway's conventions on top of OpenAI's own fields:
 *
 * - Anthropic thinking: `thinking_blocks: [{type:"thinking",thinking,signature} |
 *   {type:"redacted_thinking",data}]` on assistant messages (and deltas) ↔ ReasoningParts
 *   whose providerData is `{family:"anthropic", data:{signature}}` or, redacted, `{data:{data}}`.
 * - Gemini thought signatures: `extra_content: {google:{thought_signature}}` on a tool call
 *   (↔ ToolCallPart.providerData) or on the assistant message (↔ the providerData of the
 *   message's last text part) as `{family:"gemini", data:{thoughtSignature}}`; any other
 *   `extra_content` is kept whole as `{data:{extraContent}}`.
 */
import type { CoreFinish, CoreUsage, FinishReason, ProviderData, ToolCallPart } from '../../../core/types.js';
import type { ChatCompletionUsage, ToolCall } from '../../openai-types.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `extra_content` → Gemini provider data (undefined when absent). */
export function extraContentToProviderData(extra: unknown): ProviderData | undefined {
  if (extra === undefined || extra === null) return undefined;
  if (isRecord(extra) && Object.keys(extra).length === 1 && isRecord(extra.google) && Object.keys(extra.google).length === 1 && typeof extra.google.thought_signature === 'string') {
    return { family: 'gemini', data: { thoughtSignature: extra.google.thought_signature } };
  }
  return { family: 'gemini', data: { extraContent: extra } };
}

/** Gemini provider data → `extra_content` (undefined for any other family). */
export function providerDataToExtraContent(data: ProviderData | undefined): Record<string, unknown> | undefined {
  if (!data || data.family !== 'gemini') return undefined;
  if (data.data.extraContent !== undefined) return data.data.extraContent as Record<string, unknown>;
  if (typeof data.data.thoughtSignature === 'string') return { google: { thought_signature: data.data.thoughtSignature } };
  return undefined;
}

/** A `thinking_blocks` entry (or a thinking part in `content`) → reasoning text, redaction and provider data. */
export function thinkingBlockToReasoning(block: Record<string, unknown>): { text: string; redacted: boolean; providerData: ProviderData } | null {
  if (block.type === 'thinking') {
    const { type: _type, thinking, ...rest } = block;
    return { text: typeof thinking === 'string' ? thinking : '', redacted: false, providerData: { family: 'anthropic', data: rest } };
  }
  if (block.type === 'redacted_thinking') {
    const { type: _type, ...rest } = block;
    return { text: '', redacted: true, providerData: { family: 'anthropic', data: rest } };
  }
  return null;
}

/** A reasoning part back as a `thinking_blocks` entry (null unless its state is Anthropic's). */
export function reasoningToThinkingBlock(text: string, redacted: boolean | undefined, providerData: ProviderData | undefined): Record<string, unknown> | null {
  if (!providerData || providerData.family !== 'anthropic') return null;
  return redacted ? { type: 'redacted_thinking', ...providerData.data } : { type: 'thinking', thinking: text, ...providerData.data };
}

/** OpenAI `finish_reason` → core. */
export function finishFromOpenAI(raw: string | null | undefined): CoreFinish | null {
  if (raw === null || raw === undefined) return null;
  return { unified: unifiedFromOpenAI(raw), raw };
}

export function unifiedFromOpenAI(raw: string): FinishReason {
  switch (raw) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

/** The `finish_reason` an OpenAI client sees (reasons OpenAI lacks read as `stop`). */
export function openAIFinishReason(finish: CoreFinish | null): 'stop' | 'length' | 'tool_calls' | 'content_filter' | null {
  if (!finish) return null;
  switch (finish.unified) {
    case 'length':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'content-filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

function count(value: number | null): number {
  return value ?? 0;
}

/** Core usage as OpenAI's usage object (reasoning inside completion_tokens; unknown counts as 0). */
export function openAIUsage(usage: CoreUsage): ChatCompletionUsage {
  const input = count(usage.inputTokens);
  const output = count(usage.outputTokens);
  const result: ChatCompletionUsage = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: count(usage.cachedInputTokens) },
    completion_tokens_details: { reasoning_tokens: count(usage.reasoningTokens) },
  };
  if (count(usage.cacheWriteInputTokens) > 0) result.prompt_tokens_details!.cache_write_tokens = usage.cacheWriteInputTokens;
  return result;
}

function tokens(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/** OpenAI's usage object → core (as OpenAI counts: reasoning inside completion_tokens). */
export function usageFromOpenAI(raw: unknown): CoreUsage | null {
  if (!isRecord(raw)) return null;
  const prompt = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {};
  const completion = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details : {};
  return {
    inputTokens: tokens(raw.prompt_tokens),
    cachedInputTokens: tokens(prompt.cached_tokens),
    cacheWriteInputTokens: tokens(prompt.cache_write_tokens),
    outputTokens: tokens(raw.completion_tokens),
    reasoningTokens: tokens(completion.reasoning_tokens),
    raw,
    native: { family: 'openai', data: raw },
  };
}

/** A core tool call as an OpenAI tool call (a Gemini signature as `extra_content`). */
export function encodeToolCall(part: ToolCallPart): ToolCall & { extra_content?: Record<string, unknown> } {
  const call: ToolCall & { extra_content?: Record<string, unknown> } = { id: part.id, type: 'function', function: { name: part.name, arguments: part.input } };
  const extra = providerDataToExtraContent(part.providerData);
  if (extra) call.extra_content = extra;
  return call;
}
