/**
 * The core response → a Responses API `response` object: id `resp_…`, status `completed` (or
 * `incomplete` with `incomplete_details.reason` when the output hit its limit), output items
 * in the order the model produced them: `reasoning` (summary text), `message` with
 * `output_text` (and `refusal`) parts, `function_call`, and `custom_tool_call` for a call of
 * a custom tool (its `input` taken back out of the one-argument function it was sent as).
 */
import type { AssistantPart, CoreResponse, CoreUsage, ProviderData } from '../../../core/types.js';

/** Marks reasoning state of another family (an Anthropic signature, a Gemini thought signature) carried in encrypted_content. */
const CARRIED = 'switchyard.v1:';

/**
 * A reasoning part's provider state as the item's `encrypted_content`: OpenAI's own encrypted
 * reasoning as it is; another family's state as an opaque token the decoder reads back, so a
 * client that replays reasoning items (Codex) gives Claude its thinking signatures again.
 */
export function encryptedContentOf(state: ProviderData | undefined): string | undefined {
  if (!state) return undefined;
  if (state.family === 'openai') return typeof state.data.encryptedContent === 'string' ? state.data.encryptedContent : undefined;
  return CARRIED + Buffer.from(JSON.stringify(state)).toString('base64');
}

/** Whether an `encrypted_content` is another family's state carried by the gateway (never OpenAI's to read). */
export function isCarriedState(encrypted: unknown): boolean {
  return typeof encrypted === 'string' && encrypted.startsWith(CARRIED);
}

/** `encrypted_content` of a replayed reasoning item → its provider state. */
export function providerDataOf(encrypted: string, id: unknown): ProviderData {
  if (encrypted.startsWith(CARRIED)) {
    try {
      const state = JSON.parse(Buffer.from(encrypted.slice(CARRIED.length), 'base64').toString('utf8')) as ProviderData;
      if ((state.family === 'anthropic' || state.family === 'gemini') && typeof state.data === 'object' && state.data !== null) return state;
    } catch {
      // Not ours after all: kept as OpenAI's.
    }
  }
  return { family: 'openai', data: { encryptedContent: encrypted, id } };
}

export interface ResponsesUsageWire {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

function count(value: number | null | undefined): number {
  return typeof value === 'number' ? value : 0;
}

export function responsesUsage(usage: CoreUsage | null): ResponsesUsageWire | null {
  if (!usage) return null;
  const input = count(usage.inputTokens);
  const output = count(usage.outputTokens);
  return { input_tokens: input, input_tokens_details: { cached_tokens: count(usage.cachedInputTokens) }, output_tokens: output, output_tokens_details: { reasoning_tokens: count(usage.reasoningTokens) }, total_tokens: input + output };
}

export function responseId(requestId: string): string {
  return `resp_${requestId.replace(/-/g, '')}`;
}

/** The `input` of a custom tool's call, from the one-argument JSON it was called with. */
export function customInput(argumentsJson: string): string {
  try {
    const parsed = JSON.parse(argumentsJson) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { input?: unknown }).input === 'string') return (parsed as { input: string }).input;
  } catch {
    // Not JSON: the text as it is.
  }
  return argumentsJson;
}

/** A tool of a `namespace` tool, by the flat name it was sent upstream as (see decode.ts). */
export interface NamespacedName {
  namespace: string;
  name: string;
}

export type NamespacedTools = ReadonlyMap<string, NamespacedName>;

export function toolCallItem(part: Extract<AssistantPart, { type: 'tool-call' }>, customTools: ReadonlySet<string>, itemId: string, namespaced: NamespacedTools = new Map()): Record<string, unknown> {
  // A namespace's tool is called by its own name, with the namespace beside it (as OpenAI answers).
  const inner = namespaced.get(part.name);
  const naming = inner ? { name: inner.name, namespace: inner.namespace } : { name: part.name };
  if (customTools.has(part.name)) return { type: 'custom_tool_call', id: itemId, status: 'completed', call_id: part.id, ...naming, input: customInput(part.input) };
  return { type: 'function_call', id: itemId, status: 'completed', call_id: part.id, ...naming, arguments: part.input };
}

/**
 * A tool call's provider state (Gemini's thought signature, which Gemini wants back with the
 * call) as a reasoning item just before the call: `encrypted_content` naming the call
 * (`forCall`), which the decoder puts back on it. Null when the call carries none (or OpenAI's).
 */
export function callStateItem(callId: string, state: ProviderData | undefined, itemId: string): Record<string, unknown> | null {
  if (!state || state.family === 'openai') return null;
  return reasoningItem('', itemId, encryptedContentOf({ family: state.family, data: { ...state.data, forCall: callId } }));
}

export function reasoningItem(text: string, itemId: string, encrypted?: string): Record<string, unknown> {
  const item: Record<string, unknown> = { type: 'reasoning', id: itemId, summary: text.length > 0 ? [{ type: 'summary_text', text }] : [] };
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
}

export function messageItem(itemId: string, content: Array<Record<string, unknown>>, status = 'completed'): Record<string, unknown> {
  return { type: 'message', id: itemId, status, role: 'assistant', content };
}

export function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** Output items of an assistant turn. */
export function outputItems(parts: AssistantPart[], customTools: ReadonlySet<string>, id: string, namespaced: NamespacedTools = new Map()): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = [];
  let message: Array<Record<string, unknown>> | null = null;
  const nextId = (prefix: string): string => `${prefix}_${id}_${items.length}`;
  for (const part of parts) {
    if (part.type === 'text' || part.type === 'refusal') {
      if (part.type === 'text' && part.text === '') continue;
      if (!message) {
        message = [];
        items.push(messageItem(nextId('msg'), message));
      }
      message.push(part.type === 'text' ? outputText(part.text) : { type: 'refusal', refusal: part.text });
      continue;
    }
    message = null;
    if (part.type === 'reasoning') {
      const encrypted = encryptedContentOf(part.providerData);
      if (part.redacted && encrypted === undefined) continue;
      items.push(reasoningItem(part.redacted ? '' : part.text, nextId('rs'), encrypted));
    } else if (part.type === 'tool-call') {
      const state = callStateItem(part.id, part.providerData, nextId('rs'));
      if (state) items.push(state);
      items.push(toolCallItem(part, customTools, nextId(customTools.has(part.name) ? 'ctc' : 'fc'), namespaced));
    }
    // An item only OpenAI makes (a hosted tool's call), as OpenAI gave it.
    else if (part.type === 'native' && part.family === 'openai' && typeof part.value === 'object' && part.value !== null) items.push(part.value as Record<string, unknown>);
  }
  return items;
}

export interface ResponseInit {
  id: string;
  model: string;
  createdAt: number;
  core: { temperature: number | null; topP: number | null; parallelToolCalls: boolean | null; maxOutputTokens: number | null; metadata: Record<string, string> | null; user: string | null };
  instructions: string | null;
  /** The request's tools and tool_choice, echoed as the API does. */
  tools: unknown[];
  toolChoice: unknown;
}

/** The response object around its output (also the stream's response.created / completed payloads). */
export function responseObject(init: ResponseInit, status: 'in_progress' | 'completed' | 'incomplete' | 'failed', output: Array<Record<string, unknown>>, usage: ResponsesUsageWire | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: init.id,
    object: 'response',
    created_at: init.createdAt,
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: init.instructions,
    max_output_tokens: init.core.maxOutputTokens,
    model: init.model,
    output,
    parallel_tool_calls: init.core.parallelToolCalls ?? true,
    temperature: init.core.temperature,
    tool_choice: init.toolChoice ?? 'auto',
    tools: init.tools,
    top_p: init.core.topP,
    metadata: init.core.metadata ?? {},
    user: init.core.user,
    usage,
    ...extra,
  };
}

export function encodeResponse(core: CoreResponse, init: ResponseInit, customTools: ReadonlySet<string>, namespaced: NamespacedTools = new Map()): Record<string, unknown> {
  const choice = core.choices[0];
  const output = outputItems(choice?.content ?? [], customTools, init.id.slice(5), namespaced);
  const status = choice?.finish?.unified === 'length' ? 'incomplete' : 'completed';
  return responseObject({ ...init, model: core.model || init.model }, status, output, responsesUsage(core.usage));
}
