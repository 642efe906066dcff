/**
 * A validated Anthropic Messages request → the core request.
 *
 * - `system` (a string or text blocks with cache_control) → system parts.
 * - User turns: text (cache_control; citations kept as Anthropic provider data), image
 *   (base64 / url / file sources), document (PDF or plain text with a base64, url, text or file
 *   source → a file part; anything richer, e.g. citations on or a content source, is kept whole
 *   as a native Anthropic part), tool_result → a tool message (so the user text after the
 *   results follows it), any other block (search_result …) → a native Anthropic part.
 * - Assistant turns, in order: text, thinking (signature → provider data, see conventions.ts),
 *   redacted_thinking (its data, opaque), tool_use (input as JSON text), server tool blocks
 *   (server_tool_use, web_search_tool_result …) → native Anthropic parts.
 * - Tools: custom tools → function tools; server tools (a `type` other than custom) → hosted
 *   tools of the Anthropic family. tool_choice auto/any/tool/none (disable_parallel_tool_use →
 *   parallelToolCalls false).
 * - thinking → reasoning (enabled with its budget, adaptive, disabled), with
 *   `output_config.effort` as the effort; `output_config.format` → a JSON-schema response format.
 * - Every top-level field without a neutral meaning (context_management, output_config,
 *   container, mcp_servers, service_tier …) and the `anthropic-beta` / `anthropic-version`
 *   headers → extensions of the Anthropic family: an Anthropic upstream gets them unchanged,
 *   any other drops them with a recorded warning.
 */
import type {
  AssistantPart,
  CacheControl,
  CoreMessage,
  CoreRequest,
  CoreTool,
  CoreToolChoice,
  FilePart,
  ImagePart,
  MediaSource,
  ProviderData,
  ReasoningConfig,
  ReasoningEffort,
  ResponseFormat,
  TextPart,
  ToolResultPart,
  UserPart,
} from '../../../core/types.js';
import { decodeSignature, providerDataFromSignature } from './conventions.js';
import type { MessagesRequestWire } from './schema.js';

type Headers = Record<string, string | string[] | undefined>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Top-level fields the core names; every other one goes to extensions. */
const KNOWN_FIELDS = new Set(['model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k', 'metadata', 'tools', 'tool_choice', 'thinking']);

/** Headers of the Anthropic API carried to an Anthropic upstream (as extension fields of the same names). */
export const ANTHROPIC_HEADER_FIELDS = ['anthropic-beta', 'anthropic-version'] as const;

function cacheControl(value: unknown): CacheControl | undefined {
  if (!isRecord(value) || value.type !== 'ephemeral') return undefined;
  return value.ttl === '5m' || value.ttl === '1h' ? { type: 'ephemeral', ttl: value.ttl } : { type: 'ephemeral' };
}

function withCache<T extends { cacheControl?: CacheControl }>(part: T, block: Record<string, unknown>): T {
  const cache = cacheControl(block.cache_control);
  if (cache) part.cacheControl = cache;
  return part;
}

function textPart(block: Record<string, unknown>): TextPart {
  const part = withCache<TextPart>({ type: 'text', text: String(block.text) }, block);
  if (Array.isArray(block.citations) && block.citations.length > 0) part.citations = { family: 'anthropic', data: { citations: block.citations } };
  return part;
}

function mediaSource(source: unknown): MediaSource | null {
  if (!isRecord(source)) return null;
  if (source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') return { kind: 'base64', mediaType: source.media_type, data: source.data };
  if (source.type === 'url' && typeof source.url === 'string') return { kind: 'url', url: source.url };
  if (source.type === 'file' && typeof source.file_id === 'string') return { kind: 'file-id', fileId: source.file_id };
  return null;
}

function nativePart(block: Record<string, unknown>): UserPart & AssistantPart {
  return { type: 'native', family: 'anthropic', kind: typeof block.type === 'string' ? block.type : 'unknown', value: block };
}

const DOCUMENT_KEYS = new Set(['type', 'source', 'title', 'cache_control']);

function documentPart(block: Record<string, unknown>): FilePart | null {
  if (Object.keys(block).some((key) => !DOCUMENT_KEYS.has(key))) return null;
  const source = block.source as Record<string, unknown>;
  let part: FilePart;
  if (source.type === 'text' && typeof source.data === 'string') part = { type: 'file', source: { kind: 'text', text: source.data, mediaType: typeof source.media_type === 'string' ? source.media_type : 'text/plain' } };
  else {
    const media = mediaSource(source);
    if (!media) return null;
    part = { type: 'file', source: media };
  }
  if (typeof block.title === 'string') part.title = block.title;
  return withCache(part, block);
}

/** A user-side block (also inside a tool result) → a core part. */
function userPart(block: Record<string, unknown>): UserPart {
  switch (block.type) {
    case 'text':
      return textPart(block);
    case 'image': {
      const source = mediaSource(block.source);
      return source ? withCache<ImagePart>({ type: 'image', source }, block) : nativePart(block);
    }
    case 'document':
      return documentPart(block) ?? nativePart(block);
    default:
      return nativePart(block);
  }
}

function toolResult(block: Record<string, unknown>): ToolResultPart {
  let content: ToolResultPart['content'] = '';
  if (typeof block.content === 'string') content = block.content;
  else if (Array.isArray(block.content)) {
    content = [];
    for (const inner of block.content) {
      if (!isRecord(inner)) continue;
      const part = userPart(inner);
      if (part.type === 'text' || part.type === 'image' || part.type === 'file') content.push(part);
      // search results and other blocks only Anthropic reads are kept as their text
      else content.push({ type: 'text', text: JSON.stringify(inner) });
    }
  }
  const part: ToolResultPart = { type: 'tool-result', callId: String(block.tool_use_id), content };
  if (block.is_error === true) part.isError = true;
  return withCache(part, block);
}

function assistantPart(block: Record<string, unknown>): AssistantPart {
  switch (block.type) {
    case 'text':
      return textPart(block);
    case 'thinking': {
      const part: AssistantPart = { type: 'reasoning', text: String(block.thinking) };
      const data = providerDataFromSignature(String(block.signature));
      if (data) part.providerData = data;
      return part;
    }
    case 'redacted_thinking':
      return { type: 'reasoning', text: '', redacted: true, providerData: { family: 'anthropic', data: { data: block.data } } };
    case 'tool_use':
      return { type: 'tool-call', id: String(block.id), name: String(block.name), input: JSON.stringify(block.input ?? {}), kind: 'function' };
    default:
      return nativePart(block);
  }
}

function blocksOf(content: string | Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function decodeMessages(messages: MessagesRequestWire['messages']): CoreMessage[] {
  const out: CoreMessage[] = [];
  for (const message of messages) {
    const blocks = blocksOf(message.content as string | Array<Record<string, unknown>>);
    if (message.role === 'assistant') {
      const content: AssistantPart[] = [];
      // A thinking block carrying the next tool call's state (see conventions.ts) is given to that call.
      let carried: ProviderData | undefined;
      for (const block of blocks) {
        if (block.type === 'thinking' && typeof block.signature === 'string') {
          const decoded = decodeSignature(block.signature);
          if (decoded.on === 'tool_use') {
            carried = decoded.providerData;
            continue;
          }
          if (decoded.on === 'text') {
            // The state of the text just before (an empty text when Anthropic's format had none to keep).
            const previous = content[content.length - 1];
            if (previous?.type === 'text' && !previous.providerData) previous.providerData = decoded.providerData;
            else content.push({ type: 'text', text: '', providerData: decoded.providerData });
            continue;
          }
        }
        const part = assistantPart(block);
        if (part.type === 'tool-call' && carried) {
          part.providerData = carried;
          carried = undefined;
        }
        content.push(part);
      }
      out.push({ role: 'assistant', content });
      continue;
    }
    // A user turn: its tool results become tool messages, the rest a user message, in order.
    let user: UserPart[] = [];
    let results: ToolResultPart[] = [];
    const flushUser = (): void => {
      if (user.length > 0) out.push({ role: 'user', content: user });
      user = [];
    };
    const flushResults = (): void => {
      if (results.length > 0) out.push({ role: 'tool', content: results });
      results = [];
    };
    for (const block of blocks) {
      if (block.type === 'tool_result') {
        flushUser();
        results.push(toolResult(block));
      } else {
        flushResults();
        user.push(userPart(block));
      }
    }
    flushResults();
    flushUser();
  }
  return out;
}

function decodeSystem(system: MessagesRequestWire['system']): TextPart[] {
  if (system === undefined) return [];
  if (typeof system === 'string') return system.length > 0 ? [{ type: 'text', text: system }] : [];
  return system.map((block) => textPart(block as Record<string, unknown>));
}

function decodeTools(tools: MessagesRequestWire['tools']): CoreTool[] {
  if (!tools) return [];
  return tools.map((tool): CoreTool => {
    if (tool.type === undefined || tool.type === 'custom') {
      const decoded: Extract<CoreTool, { type: 'function' }> = { type: 'function', name: tool.name, parameters: isRecord(tool.input_schema) ? tool.input_schema : null };
      if (typeof tool.description === 'string') decoded.description = tool.description;
      if (typeof tool.strict === 'boolean') decoded.strict = tool.strict;
      return withCache(decoded, tool);
    }
    return { type: 'hosted', family: 'anthropic', kind: tool.type, value: tool };
  });
}

function decodeToolChoice(choice: MessagesRequestWire['tool_choice']): CoreToolChoice | null {
  if (!choice) return null;
  switch (choice.type) {
    case 'any':
      return { type: 'required' };
    case 'tool':
      return { type: 'tool', name: String(choice.name) };
    case 'none':
      return { type: 'none' };
    default:
      return { type: 'auto' };
  }
}

const EFFORTS: Record<string, ReasoningEffort> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' };

function decodeReasoning(thinking: MessagesRequestWire['thinking'], outputConfig: unknown): ReasoningConfig | null {
  const effortName = isRecord(outputConfig) && typeof outputConfig.effort === 'string' ? outputConfig.effort : undefined;
  const effort = effortName !== undefined ? EFFORTS[effortName] : undefined;
  if (!thinking) return effort ? { enabled: true, effort } : null;
  if (thinking.type === 'disabled') return { enabled: false };
  const reasoning: ReasoningConfig = { enabled: true };
  if (thinking.type === 'enabled' && typeof thinking.budget_tokens === 'number') reasoning.budgetTokens = thinking.budget_tokens;
  if (effort) reasoning.effort = effort;
  return reasoning;
}

function decodeResponseFormat(outputConfig: unknown): ResponseFormat | null {
  if (!isRecord(outputConfig) || !isRecord(outputConfig.format)) return null;
  const format = outputConfig.format;
  if (format.type === 'json_schema' && isRecord(format.schema)) return { type: 'json_schema', name: 'output', schema: format.schema };
  return null;
}

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(',');
  return undefined;
}

export function decodeMessagesRequest(wire: MessagesRequestWire, headers: Headers = {}): CoreRequest {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) if (!KNOWN_FIELDS.has(key) && value !== undefined) fields[key] = value;
  for (const name of ANTHROPIC_HEADER_FIELDS) {
    const value = headerValue(headers, name);
    if (value !== undefined) fields[name] = value;
  }
  const choice = wire.tool_choice;
  const userId = wire.metadata?.user_id;
  return {
    model: wire.model,
    system: decodeSystem(wire.system),
    messages: decodeMessages(wire.messages),
    tools: decodeTools(wire.tools),
    toolChoice: decodeToolChoice(choice),
    parallelToolCalls: choice?.disable_parallel_tool_use === true ? false : null,
    maxOutputTokens: wire.max_tokens,
    temperature: wire.temperature ?? null,
    topP: wire.top_p ?? null,
    topK: wire.top_k ?? null,
    stop: wire.stop_sequences ?? [],
    seed: null,
    presencePenalty: null,
    frequencyPenalty: null,
    choices: 1,
    reasoning: decodeReasoning(wire.thinking, wire.output_config),
    responseFormat: decodeResponseFormat(wire.output_config),
    stream: wire.stream === true,
    streamUsage: true,
    user: typeof userId === 'string' && userId.length > 0 ? userId : null,
    metadata: null,
    promptCacheKey: null,
    extensions: { family: 'anthropic', fields, order: Object.keys(wire) },
  };
}
