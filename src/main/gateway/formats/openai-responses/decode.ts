/**
 * A validated Responses request → the core request.
 *
 * - `instructions`, and system/developer messages before the first other item → `system`;
 *   later ones → role `system` messages.
 * - Input items: `message` (input_text / output_text / input_image / input_file parts),
 *   `function_call`, `function_call_output`, `custom_tool_call` and its `_output`, `reasoning`
 *   (summary text; encrypted_content back to the provider state it carries, see encode-response.ts;
 *   one naming a call, `forCall`, is that call's state: callStateItem). Consecutive assistant-side
 *   items make one assistant turn, consecutive outputs one tool turn. Other items (hosted-tool
 *   calls) are kept as native OpenAI parts.
 * - Custom (freeform) tools, such as Codex's `apply_patch`, become function tools with one
 *   string argument `input` (CUSTOM_INPUT_SCHEMA), so every upstream can call them; their
 *   calls and outputs in the history are rewritten the same way, and the encoder turns a call
 *   of such a tool back into a `custom_tool_call`.
 * - Other top-level fields (store, include …) are not forwarded; previous_response_id was
 *   written out into `input` before (previous-response.ts). What of them reaches OpenAI (which
 *   gets the body as it is) and can change its answer is `nativeExtras`, for the response cache.
 * - A `namespace` tool's function and custom tools (Codex's multi_agent_v1) become tools of their
 *   own, named as in the namespace (`<namespace>__<name>` when that name is taken); a call of one
 *   is returned with its `namespace` beside its name, and such calls in the history are read back.
 * - Hosted tools (web_search, file_search …) are dropped with a recorded warning:
 *   a translated request (chat completions, Messages, Gemini) has no way to run them. (OpenAI
 *   gets the client's body as it is instead, and no decode warnings: see index.ts.)
 */
import type { AssistantPart, CoreMessage, CoreRequest, ProviderData, CoreTool, CoreToolChoice, ReasoningEffort, ResponseFormat, TextPart, ToolResultPart, UserPart } from '../../../core/types.js';
import type { RequestWarning } from '../../../core/record.js';
import { mediaSource } from '../openai-chat/decode.js';
import { providerDataOf, type NamespacedName } from './encode-response.js';
import type { ResponsesRequestWire } from './schema.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const CUSTOM_INPUT_SCHEMA = { type: 'object', properties: { input: { type: 'string', description: 'The raw input to the tool.' } }, required: ['input'], additionalProperties: false };

function textOf(part: Record<string, unknown>): string {
  return typeof part.text === 'string' ? part.text : '';
}

function userParts(content: unknown): UserPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const out: UserPart[] = [];
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') out.push({ type: 'text', text: textOf(part) });
    else if (part.type === 'input_image' && typeof part.image_url === 'string') {
      const image: UserPart = { type: 'image', source: mediaSource(part.image_url) };
      if (part.detail === 'auto' || part.detail === 'low' || part.detail === 'high') image.detail = part.detail;
      out.push(image);
    } else if (part.type === 'input_image' && typeof part.file_id === 'string') out.push({ type: 'image', source: { kind: 'file-id', fileId: part.file_id } });
    else if (part.type === 'input_file' && typeof part.file_data === 'string') out.push({ type: 'file', source: mediaSource(part.file_data), ...(typeof part.filename === 'string' ? { filename: part.filename } : {}) });
    else if (part.type === 'input_file' && typeof part.file_id === 'string') out.push({ type: 'file', source: { kind: 'file-id', fileId: part.file_id } });
    else out.push({ type: 'native', family: 'openai', kind: typeof part.type === 'string' ? part.type : 'unknown', value: part });
  }
  return out;
}

function instructionParts(content: unknown): TextPart[] {
  return userParts(content).filter((part): part is TextPart => part.type === 'text');
}

function outputContent(output: unknown): ToolResultPart['content'] {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) return output === undefined || output === null ? '' : JSON.stringify(output);
  const parts: Exclude<ToolResultPart['content'], string> = [];
  for (const part of userParts(output)) if (part.type === 'text' || part.type === 'image' || part.type === 'file') parts.push(part);
  return parts;
}

interface Decoded {
  system: TextPart[];
  messages: CoreMessage[];
}

/** The flat name a tool call in the history was sent as: its namespace's tool's, if it names a namespace. */
type FlatName = (name: unknown, namespace: unknown) => string;

function decodeInput(input: ResponsesRequestWire['input'], flatName: FlatName): Decoded {
  const system: TextPart[] = [];
  const messages: CoreMessage[] = [];
  if (typeof input === 'string') return { system, messages: [{ role: 'user', content: [{ type: 'text', text: input }] }] };
  let leading = true;
  const assistant = (): AssistantPart[] => {
    const last = messages[messages.length - 1];
    if (last?.role === 'assistant') return last.content;
    const turn: CoreMessage = { role: 'assistant', content: [] };
    messages.push(turn);
    return turn.content;
  };
  // Tool calls' provider state (callStateItem in encode-response.ts), by call id.
  const callStates = new Map<string, ProviderData>();
  const tool = (part: ToolResultPart): void => {
    const last = messages[messages.length - 1];
    if (last?.role === 'tool') last.content.push(part);
    else messages.push({ role: 'tool', content: [part] });
  };
  for (const item of input ?? []) {
    const type = typeof item.type === 'string' ? item.type : 'message';
    if (type === 'message' && (item.role === 'system' || item.role === 'developer')) {
      const content = instructionParts(item.content);
      if (leading) system.push(...content);
      else messages.push(item.role === 'developer' ? { role: 'system', content, developer: true } : { role: 'system', content });
      continue;
    }
    leading = false;
    switch (type) {
      case 'message':
        if (item.role === 'assistant') {
          const parts = assistant();
          if (typeof item.content === 'string') parts.push({ type: 'text', text: item.content });
          else if (Array.isArray(item.content))
            for (const part of item.content) {
              if (isRecord(part) && part.type === 'refusal' && typeof part.refusal === 'string') parts.push({ type: 'refusal', text: part.refusal });
              else if (isRecord(part)) parts.push({ type: 'text', text: textOf(part) });
            }
        } else messages.push({ role: 'user', content: userParts(item.content) });
        break;
      case 'function_call':
      case 'custom_tool_call': {
        const id = String(item.call_id ?? '');
        const input = type === 'function_call' ? (typeof item.arguments === 'string' ? item.arguments : '') : JSON.stringify({ input: typeof item.input === 'string' ? item.input : '' });
        const call: AssistantPart = { type: 'tool-call', id, name: flatName(item.name, item.namespace), input, kind: 'function' };
        const state = callStates.get(id);
        if (state) call.providerData = state;
        assistant().push(call);
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output':
        tool({ type: 'tool-result', callId: String(item.call_id ?? ''), content: outputContent(item.output) });
        break;
      case 'reasoning': {
        const summary = Array.isArray(item.summary) ? item.summary.filter(isRecord).map(textOf).join('\n\n') : '';
        const part: AssistantPart = { type: 'reasoning', text: summary };
        if (typeof item.encrypted_content === 'string') {
          part.providerData = providerDataOf(item.encrypted_content, item.id);
          const { forCall, ...data } = part.providerData.data;
          if (part.providerData.family !== 'openai' && typeof forCall === 'string') {
            callStates.set(forCall, { family: part.providerData.family, data });
            break;
          }
          if (summary === '') part.redacted = true;
        }
        if (summary !== '' || part.providerData) assistant().push(part);
        break;
      }
      default:
        assistant().push({ type: 'native', family: 'openai', kind: type, value: item });
    }
  }
  return { system, messages };
}

interface DecodedTools {
  tools: CoreTool[];
  custom: Set<string>;
  namespaced: Map<string, NamespacedName>;
  flatName: FlatName;
}

function decodeTools(tools: ResponsesRequestWire['tools'], warnings: RequestWarning[]): DecodedTools {
  const out: CoreTool[] = [];
  const custom = new Set<string>();
  const namespaced = new Map<string, NamespacedName>();
  const flat = new Map<string, string>();
  const taken = new Set((tools ?? []).filter((tool) => (tool.type === 'function' || tool.type === 'custom') && typeof tool.name === 'string').map((tool) => tool.name as string));
  /** A function or custom tool under this name; false for any other tool. */
  const add = (tool: Record<string, unknown>, name: string): boolean => {
    if (tool.type === 'function') {
      const decoded: Extract<CoreTool, { type: 'function' }> = { type: 'function', name, parameters: isRecord(tool.parameters) ? tool.parameters : null };
      if (typeof tool.description === 'string') decoded.description = tool.description;
      if (typeof tool.strict === 'boolean') decoded.strict = tool.strict;
      out.push(decoded);
    } else if (tool.type === 'custom') {
      custom.add(name);
      const decoded: Extract<CoreTool, { type: 'function' }> = { type: 'function', name, parameters: CUSTOM_INPUT_SCHEMA };
      if (typeof tool.description === 'string') decoded.description = tool.description;
      out.push(decoded);
    } else return false;
    return true;
  };
  for (const tool of tools ?? []) {
    if ((tool.type === 'function' || tool.type === 'custom') && typeof tool.name === 'string') add(tool, tool.name);
    else if (tool.type === 'namespace' && typeof tool.name === 'string' && Array.isArray(tool.tools)) {
      for (const inner of tool.tools) {
        if (!isRecord(inner) || typeof inner.name !== 'string') continue;
        const name = taken.has(inner.name) ? `${tool.name}__${inner.name}` : inner.name;
        if (!add(inner, name)) continue;
        taken.add(name);
        namespaced.set(name, { namespace: tool.name, name: inner.name });
        flat.set(`${tool.name}\u0000${inner.name}`, name);
      }
    } else {
      warnings.push({ type: 'unsupported-parameter', parameter: 'tools', message: `tools: the hosted tool ${String(tool.type)}${typeof tool.name === 'string' ? ` (${tool.name})` : ''} dropped: no upstream of this gateway runs Responses hosted tools` });
    }
  }
  const flatName: FlatName = (name, namespace) => (typeof namespace === 'string' ? flat.get(`${namespace}\u0000${String(name)}`) : undefined) ?? String(name ?? '');
  return { tools: out, custom, namespaced, flatName };
}

function decodeToolChoice(choice: unknown): CoreToolChoice | null {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { type: choice };
  if (isRecord(choice) && (choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') return { type: 'tool', name: choice.name };
  return null;
}

function decodeTextFormat(text: ResponsesRequestWire['text']): ResponseFormat | null {
  const format = isRecord(text) ? text.format : undefined;
  if (!isRecord(format)) return null;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema' && typeof format.name === 'string' && isRecord(format.schema)) {
    const result: Extract<ResponseFormat, { type: 'json_schema' }> = { type: 'json_schema', name: format.name, schema: format.schema };
    if (typeof format.description === 'string') result.description = format.description;
    if (typeof format.strict === 'boolean') result.strict = format.strict;
    return result;
  }
  return null;
}

const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

/** Top-level fields the core request carries (some only in part: see nativeExtras). */
const REPRESENTED = new Set(['model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'max_output_tokens', 'temperature', 'top_p', 'reasoning', 'text', 'stream', 'user', 'metadata', 'prompt_cache_key']);
/** Top-level fields that change how an answer is delivered, billed or attributed, not what it says. */
const DELIVERY = new Set(['stream_options', 'service_tier', 'safety_identifier', 'prompt_cache_retention', 'client_metadata']);
const FUNCTION_TOOL_KEYS = new Set(['type', 'name', 'description', 'parameters', 'strict']);
const CUSTOM_TOOL_KEYS = new Set(['type', 'name', 'description']);

/** A tool the core request carries whole (a function tool, or a custom tool without a grammar). */
function representedTool(tool: Record<string, unknown>): boolean {
  if (typeof tool.name !== 'string') return false;
  const keys = tool.type === 'function' ? FUNCTION_TOOL_KEYS : tool.type === 'custom' ? CUSTOM_TOOL_KEYS : null;
  return keys !== null && Object.keys(tool).every((key) => keys.has(key));
}

/** The entries of an object the decoder did not read into the core request. */
function leftOver(value: unknown, read: (key: string, item: unknown) => boolean): Record<string, unknown> | null {
  if (!isRecord(value)) return null;
  const rest = Object.fromEntries(Object.entries(value).filter(([key, item]) => item !== undefined && item !== null && !read(key, item)));
  return Object.keys(rest).length > 0 ? rest : null;
}

/**
 * What of the request reaches an upstream that takes the body as it is (OpenAI) and can change
 * its answer, but is not in the core request: hosted tools and custom tools' grammars, `include`,
 * `store`, `truncation`, `text.verbosity`, a hosted `tool_choice`, a previous_response_id left
 * for OpenAI to resolve, and any field this decoder does not know. Null for a plain request, so
 * the same prompt asked through chat completions or Messages has the same cache key.
 */
export function nativeExtras(wire: ResponsesRequestWire): Record<string, unknown> | null {
  const extras: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) if (value !== undefined && value !== null && !REPRESENTED.has(key) && !DELIVERY.has(key)) extras[key] = value;
  const tools = (wire.tools ?? []).filter((tool) => !representedTool(tool));
  if (tools.length > 0) extras.tools = tools;
  if (wire.tool_choice !== undefined && wire.tool_choice !== null && decodeToolChoice(wire.tool_choice) === null) extras.tool_choice = wire.tool_choice;
  const reasoning = leftOver(wire.reasoning, (key, item) => (key === 'effort' && typeof item === 'string' && EFFORTS.has(item)) || (key === 'summary' && (item === 'auto' || item === 'concise' || item === 'detailed')));
  if (reasoning) extras.reasoning = reasoning;
  const text = leftOver(wire.text, (key, item) => key === 'format' && (decodeTextFormat(wire.text) !== null || (isRecord(item) && item.type === 'text')));
  if (text) extras.text = text;
  return Object.keys(extras).length > 0 ? extras : null;
}

/** The request in core terms, and the names of its custom tools (for the encoder). */
export function decodeResponsesRequest(wire: ResponsesRequestWire): { core: CoreRequest; customTools: Set<string>; namespaced: Map<string, NamespacedName>; warnings: RequestWarning[] } {
  const warnings: RequestWarning[] = [];
  const { tools, custom, namespaced, flatName } = decodeTools(wire.tools, warnings);
  const { system, messages } = decodeInput(wire.input, flatName);
  if (typeof wire.instructions === 'string' && wire.instructions.length > 0) system.unshift({ type: 'text', text: wire.instructions });
  const reasoning = isRecord(wire.reasoning) ? wire.reasoning : null;
  const effort = reasoning && typeof reasoning.effort === 'string' && EFFORTS.has(reasoning.effort) ? (reasoning.effort as ReasoningEffort) : undefined;
  const summary = reasoning && (reasoning.summary === 'auto' || reasoning.summary === 'concise' || reasoning.summary === 'detailed') ? reasoning.summary : undefined;
  const core: CoreRequest = {
    model: wire.model,
    system,
    messages,
    tools,
    toolChoice: decodeToolChoice(wire.tool_choice),
    parallelToolCalls: typeof wire.parallel_tool_calls === 'boolean' ? wire.parallel_tool_calls : null,
    maxOutputTokens: typeof wire.max_output_tokens === 'number' ? wire.max_output_tokens : null,
    temperature: typeof wire.temperature === 'number' ? wire.temperature : null,
    topP: typeof wire.top_p === 'number' ? wire.top_p : null,
    topK: null,
    stop: [],
    seed: null,
    presencePenalty: null,
    frequencyPenalty: null,
    choices: 1,
    reasoning: effort === undefined && summary === undefined ? null : { enabled: effort !== 'none', ...(effort ? { effort } : {}), ...(summary ? { summary } : {}) },
    responseFormat: decodeTextFormat(wire.text),
    stream: wire.stream === true,
    streamUsage: true,
    user: typeof wire.user === 'string' ? wire.user : null,
    metadata: isRecord(wire.metadata) ? wire.metadata : null,
    promptCacheKey: typeof wire.prompt_cache_key === 'string' ? wire.prompt_cache_key : null,
    // Responses-only fields (store, include …) mean nothing to the upstreams this format is
    // translated to; they are not forwarded (OpenAI gets the body as it is).
    extensions: null,
  };
  return { core, customTools: custom, namespaced, warnings };
}
