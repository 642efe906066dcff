/**
 * A validated OpenAI chat request → the core request. Every convention the gateway reads on
 * the OpenAI side becomes a typed core part (see conventions.ts); every top-level field with
 * no neutral meaning is kept in `extensions` (family `openai`) for an OpenAI-family upstream.
 *
 * - Leading system/developer messages (before the first other message) → `system`; later
 *   ones → role `system` messages (`developer: true` for developer messages).
 * - User parts: text, image_url (data URLs → base64 source, others → url), input_audio,
 *   file (file_id, or file_data as a base64 data URL); any other part is kept as a native
 *   OpenAI part.
 * - Assistant turns, in order: reasoning (`thinking_blocks`, else thinking parts in
 *   `content`, else `reasoning_content` / `reasoning`), the content's text and refusal parts,
 *   `refusal`, tool calls (with Gemini `extra_content`), a legacy `function_call`.
 * - A legacy `function` message is a tool result with an empty call id and the function's
 *   name; a legacy `function_call` is a tool call with an empty id.
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
  ReasoningEffort,
  ResponseFormat,
  TextPart,
  ToolResultPart,
  UserPart,
} from '../../../core/types.js';
import type { ChatCompletionRequest, ChatMessage } from '../../openai-types.js';
import { extraContentToProviderData, thinkingBlockToReasoning } from './conventions.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Top-level fields with a neutral meaning; every other field goes to `extensions`. */
const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'n',
  'stop',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'user',
  'metadata',
  'prompt_cache_key',
]);

function cacheControl(value: unknown): CacheControl | undefined {
  if (!isRecord(value) || value.type !== 'ephemeral') return undefined;
  return value.ttl === '5m' || value.ttl === '1h' ? { type: 'ephemeral', ttl: value.ttl } : { type: 'ephemeral' };
}

const DATA_URL = /^data:([^;,]*);base64,/;

/** A URL as a media source: a base64 data URL is split into media type and data. */
export function mediaSource(url: string): MediaSource {
  const match = DATA_URL.exec(url);
  if (match) return { kind: 'base64', mediaType: match[1]!, data: url.slice(match[0].length) };
  return { kind: 'url', url };
}

function textPart(part: Record<string, unknown>): TextPart {
  const result: TextPart = { type: 'text', text: typeof part.text === 'string' ? part.text : '' };
  const cache = cacheControl(part.cache_control);
  if (cache) result.cacheControl = cache;
  return result;
}

function imagePart(part: Record<string, unknown>): ImagePart | null {
  const image = part.image_url;
  if (!isRecord(image) || typeof image.url !== 'string') return null;
  const result: ImagePart = { type: 'image', source: mediaSource(image.url) };
  if (image.detail === 'auto' || image.detail === 'low' || image.detail === 'high') result.detail = image.detail;
  const cache = cacheControl(part.cache_control);
  if (cache) result.cacheControl = cache;
  return result;
}

function filePart(part: Record<string, unknown>): FilePart | null {
  const file = part.file;
  if (!isRecord(file)) return null;
  let result: FilePart;
  if (typeof file.file_id === 'string' && file.file_data === undefined) result = { type: 'file', source: { kind: 'file-id', fileId: file.file_id } };
  else if (typeof file.file_data === 'string' && file.file_id === undefined) result = { type: 'file', source: mediaSource(file.file_data) };
  else return null;
  if (typeof file.filename === 'string') result.filename = file.filename;
  const cache = cacheControl(part.cache_control);
  if (cache) result.cacheControl = cache;
  return result;
}

function nativePart(part: unknown): UserPart & AssistantPart {
  return { type: 'native', family: 'openai', kind: isRecord(part) && typeof part.type === 'string' ? part.type : 'unknown', value: part };
}

/** Plain keys each part type may carry; a part with anything else is kept whole (native) so nothing is lost. */
const PART_KEYS: Record<string, Set<string>> = {
  text: new Set(['type', 'text', 'cache_control']),
  image_url: new Set(['type', 'image_url', 'cache_control']),
  input_audio: new Set(['type', 'input_audio']),
  file: new Set(['type', 'file', 'cache_control']),
};

function onlyKnownKeys(part: Record<string, unknown>): boolean {
  const keys = PART_KEYS[part.type as string];
  if (!keys) return false;
  for (const key of Object.keys(part)) if (!keys.has(key)) return false;
  if (part.cache_control !== undefined && !cacheControl(part.cache_control)) return false;
  if (part.cache_control !== undefined && isRecord(part.cache_control) && Object.keys(part.cache_control).some((key) => key !== 'type' && key !== 'ttl')) return false;
  return true;
}

function userPart(part: unknown): UserPart {
  if (!isRecord(part) || !onlyKnownKeys(part)) return nativePart(part);
  switch (part.type) {
    case 'text':
      return typeof part.text === 'string' ? textPart(part) : nativePart(part);
    case 'image_url': {
      const image = part.image_url as Record<string, unknown>;
      if (Object.keys(image).some((key) => key !== 'url' && key !== 'detail')) return nativePart(part);
      return imagePart(part) ?? nativePart(part);
    }
    case 'input_audio': {
      const audio = part.input_audio;
      if (isRecord(audio) && typeof audio.data === 'string' && typeof audio.format === 'string' && Object.keys(audio).length === 2) return { type: 'audio', data: audio.data, format: audio.format };
      return nativePart(part);
    }
    case 'file': {
      const file = part.file as Record<string, unknown>;
      if (!isRecord(file) || Object.keys(file).some((key) => key !== 'file_id' && key !== 'file_data' && key !== 'filename')) return nativePart(part);
      return filePart(part) ?? nativePart(part);
    }
    default:
      return nativePart(part);
  }
}

function userContent(content: ChatMessage['content']): UserPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content.map(userPart);
}

/** Text parts of a system/developer or tool message (other parts are kept for tools, dropped for instructions). */
function instructionText(content: ChatMessage['content']): TextPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const parts: TextPart[] = [];
  for (const part of content) if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') parts.push(textPart(part));
  return parts;
}

/**
 * An OpenAI assistant message (request history or response) → ordered core parts. Shared by
 * the request decoder and decode-response.ts.
 */
export function assistantParts(message: Record<string, unknown>): AssistantPart[] {
  const parts: AssistantPart[] = [];
  const content = message.content;
  const thinkingBlocks = Array.isArray(message.thinking_blocks) ? (message.thinking_blocks as unknown[]) : null;
  const contentHasThinking = Array.isArray(content) && content.some((part) => isRecord(part) && (part.type === 'thinking' || part.type === 'redacted_thinking'));

  const reasoningFrom = (block: unknown): void => {
    const reasoning = isRecord(block) ? thinkingBlockToReasoning(block) : null;
    if (reasoning) parts.push(reasoning.redacted ? { type: 'reasoning', text: '', redacted: true, providerData: reasoning.providerData } : { type: 'reasoning', text: reasoning.text, providerData: reasoning.providerData });
    else parts.push({ type: 'native', family: 'anthropic', kind: 'thinking_block', value: block });
  };

  if (thinkingBlocks) {
    for (const block of thinkingBlocks) reasoningFrom(block);
  } else if (!contentHasThinking) {
    const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : typeof message.reasoning === 'string' ? message.reasoning : null;
    if (reasoning !== null && reasoning.length > 0) parts.push({ type: 'reasoning', text: reasoning });
  }

  if (typeof content === 'string') {
    parts.push({ type: 'text', text: content });
  } else if (Array.isArray(content)) {
    for (const part of content) {
      if (isRecord(part) && (part.type === 'thinking' || part.type === 'redacted_thinking')) {
        if (!thinkingBlocks) reasoningFrom(part);
      } else if (isRecord(part) && part.type === 'text' && typeof part.text === 'string' && onlyKnownKeys(part)) {
        parts.push(textPart(part));
      } else if (isRecord(part) && part.type === 'refusal' && typeof part.refusal === 'string' && Object.keys(part).length === 2) {
        parts.push({ type: 'refusal', text: part.refusal });
      } else {
        parts.push(nativePart(part));
      }
    }
  }

  const signature = extraContentToProviderData(message.extra_content);
  if (signature) {
    let last: TextPart | undefined;
    for (const part of parts) if (part.type === 'text') last = part;
    if (last) last.providerData = signature;
    else parts.push({ type: 'text', text: '', providerData: signature });
  }

  if (typeof message.refusal === 'string') parts.push({ type: 'refusal', text: message.refusal });

  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as unknown[]) {
      if (!isRecord(call) || !isRecord(call.function)) continue;
      const fn = call.function;
      const part: AssistantPart = {
        type: 'tool-call',
        id: typeof call.id === 'string' ? call.id : '',
        name: typeof fn.name === 'string' ? fn.name : '',
        input: typeof fn.arguments === 'string' ? fn.arguments : fn.arguments === undefined ? '' : JSON.stringify(fn.arguments),
        kind: 'function',
      };
      const data = extraContentToProviderData(call.extra_content);
      if (data) part.providerData = data;
      parts.push(part);
    }
  }
  if (isRecord(message.function_call) && typeof message.function_call.name === 'string') {
    const args = message.function_call.arguments;
    parts.push({ type: 'tool-call', id: '', name: message.function_call.name, input: typeof args === 'string' ? args : '', kind: 'function' });
  }
  return parts;
}

function toolResult(message: ChatMessage): ToolResultPart {
  const content = message.content;
  let result: ToolResultPart['content'];
  if (typeof content === 'string') result = content;
  else if (Array.isArray(content)) {
    result = [];
    for (const part of content) {
      const decoded = userPart(part);
      if (decoded.type === 'text' || decoded.type === 'image' || decoded.type === 'file') result.push(decoded);
    }
  } else result = '';
  if (message.role === 'function') return { type: 'tool-result', callId: '', name: typeof message.name === 'string' ? message.name : '', content: result };
  return { type: 'tool-result', callId: typeof message.tool_call_id === 'string' ? message.tool_call_id : '', content: result };
}

function decodeMessages(messages: ChatMessage[]): { system: TextPart[]; messages: CoreMessage[] } {
  const system: TextPart[] = [];
  const out: CoreMessage[] = [];
  let leading = true;
  for (const message of messages) {
    const role = message.role;
    if (role === 'system' || role === 'developer') {
      const content = instructionText(message.content);
      if (leading) system.push(...content);
      else out.push(role === 'developer' ? { role: 'system', content, developer: true } : { role: 'system', content });
      continue;
    }
    leading = false;
    if (role === 'user') {
      const user: CoreMessage = { role: 'user', content: userContent(message.content) };
      if (typeof message.name === 'string') user.name = message.name;
      out.push(user);
    } else if (role === 'assistant') {
      const assistant: CoreMessage = { role: 'assistant', content: assistantParts(message) };
      if (typeof message.name === 'string') assistant.name = message.name;
      out.push(assistant);
    } else if (role === 'tool' || role === 'function') {
      out.push({ role: 'tool', content: [toolResult(message)] });
    }
  }
  return { system, messages: out };
}

function decodeTools(tools: unknown): CoreTool[] {
  if (!Array.isArray(tools)) return [];
  const out: CoreTool[] = [];
  for (const tool of tools) {
    if (isRecord(tool) && tool.type === 'function' && isRecord(tool.function)) {
      const fn = tool.function;
      const decoded: Extract<CoreTool, { type: 'function' }> = { type: 'function', name: String(fn.name), parameters: isRecord(fn.parameters) ? fn.parameters : null };
      if (typeof fn.description === 'string') decoded.description = fn.description;
      if (fn.strict !== undefined) decoded.strict = fn.strict as boolean | null;
      const cache = cacheControl(tool.cache_control);
      if (cache) decoded.cacheControl = cache;
      out.push(decoded);
    } else if (isRecord(tool) && tool.type === 'custom' && isRecord(tool.custom) && typeof tool.custom.name === 'string') {
      const decoded: Extract<CoreTool, { type: 'custom' }> = { type: 'custom', name: tool.custom.name };
      if (typeof tool.custom.description === 'string') decoded.description = tool.custom.description;
      if (tool.custom.format !== undefined) decoded.format = tool.custom.format;
      out.push(decoded);
    } else {
      out.push({ type: 'hosted', family: 'openai', kind: isRecord(tool) && typeof tool.type === 'string' ? tool.type : 'unknown', value: tool });
    }
  }
  return out;
}

/** Function tools the decoder can rebuild exactly; anything else keeps the tools list whole in extensions. */
function toolsAreNeutral(tools: unknown): boolean {
  if (!Array.isArray(tools)) return tools === undefined;
  return tools.every((tool) => {
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) return false;
    if (Object.keys(tool).some((key) => key !== 'type' && key !== 'function' && key !== 'cache_control')) return false;
    if (tool.cache_control !== undefined && (!cacheControl(tool.cache_control) || Object.keys(tool.cache_control as object).some((key) => key !== 'type' && key !== 'ttl'))) return false;
    const fn = tool.function;
    if (typeof fn.name !== 'string') return false;
    if (fn.parameters !== undefined && !isRecord(fn.parameters)) return false;
    return Object.keys(fn).every((key) => key === 'name' || key === 'description' || key === 'parameters' || key === 'strict');
  });
}

function decodeToolChoice(choice: unknown): CoreToolChoice | null | undefined {
  if (choice === undefined || choice === null) return null;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { type: choice };
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function) && typeof choice.function.name === 'string' && Object.keys(choice).length === 2 && Object.keys(choice.function).length === 1) {
    return { type: 'tool', name: choice.function.name };
  }
  return undefined; // not neutral: kept in extensions
}

function decodeResponseFormat(format: unknown): ResponseFormat | null | undefined {
  if (format === undefined || format === null) return null;
  if (!isRecord(format)) return undefined;
  if ((format.type === 'text' || format.type === 'json_object') && Object.keys(format).length === 1) return { type: format.type };
  if (format.type === 'json_schema' && Object.keys(format).length === 2 && isRecord(format.json_schema)) {
    const schema = format.json_schema;
    if (typeof schema.name !== 'string' || !isRecord(schema.schema)) return undefined;
    if (Object.keys(schema).some((key) => key !== 'name' && key !== 'schema' && key !== 'description' && key !== 'strict')) return undefined;
    const result: Extract<ResponseFormat, { type: 'json_schema' }> = { type: 'json_schema', name: schema.name, schema: schema.schema };
    if (typeof schema.description === 'string') result.description = schema.description;
    if (schema.strict !== undefined) result.strict = schema.strict as boolean | null;
    return result;
  }
  return undefined;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

export function decodeChatRequest(wire: ChatCompletionRequest): CoreRequest {
  const { system, messages } = decodeMessages(wire.messages);
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) if (!KNOWN_FIELDS.has(key) && value !== undefined) extensions[key] = value;

  let tools: CoreTool[] = [];
  if (toolsAreNeutral(wire.tools)) tools = decodeTools(wire.tools);
  else extensions.tools = wire.tools;

  let toolChoice = decodeToolChoice(wire.tool_choice);
  if (toolChoice === undefined) {
    extensions.tool_choice = wire.tool_choice;
    toolChoice = null;
  }
  let responseFormat = decodeResponseFormat(wire.response_format);
  if (responseFormat === undefined) {
    extensions.response_format = wire.response_format;
    responseFormat = null;
  }

  const maxCompletion = numberOrNull(wire.max_completion_tokens);
  const maxTokens = numberOrNull(wire.max_tokens);
  // Both given: the newer name counts, the older one is kept for an OpenAI-family upstream.
  if (maxCompletion !== null && maxTokens !== null) extensions.max_tokens = maxTokens;

  const streamOptions = wire.stream_options;
  if (isRecord(streamOptions) && Object.keys(streamOptions).some((key) => key !== 'include_usage')) extensions.stream_options = streamOptions;

  const effort = typeof wire.reasoning_effort === 'string' ? (wire.reasoning_effort as ReasoningEffort) : null;
  const stop = typeof wire.stop === 'string' ? [wire.stop] : Array.isArray(wire.stop) ? wire.stop.filter((item): item is string => typeof item === 'string') : [];
  const metadata = isRecord(wire.metadata) ? (wire.metadata as Record<string, string>) : null;

  return {
    model: wire.model,
    system,
    messages,
    tools,
    toolChoice,
    parallelToolCalls: typeof wire.parallel_tool_calls === 'boolean' ? wire.parallel_tool_calls : null,
    maxOutputTokens: maxCompletion ?? maxTokens,
    temperature: numberOrNull(wire.temperature),
    topP: numberOrNull(wire.top_p),
    topK: numberOrNull(wire.top_k),
    stop,
    seed: numberOrNull(wire.seed),
    presencePenalty: numberOrNull(wire.presence_penalty),
    frequencyPenalty: numberOrNull(wire.frequency_penalty),
    choices: typeof wire.n === 'number' ? wire.n : 1,
    reasoning: effort === null ? null : { enabled: effort !== 'none', effort },
    responseFormat,
    stream: wire.stream === true,
    streamUsage: wire.stream === true && isRecord(streamOptions) && streamOptions.include_usage === true,
    user: typeof wire.user === 'string' ? wire.user : null,
    metadata,
    promptCacheKey: typeof wire.prompt_cache_key === 'string' ? wire.prompt_cache_key : null,
    extensions: { family: 'openai', fields: extensions, order: Object.keys(wire) },
  };
}
