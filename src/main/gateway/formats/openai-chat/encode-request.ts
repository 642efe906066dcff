/**
 * The core request → an OpenAI chat request body: the inverse of decode.ts. Used when a
 * request reaches an OpenAI-compatible upstream without an OpenAI client's own body (a client
 * of another format), before the preset's quirks apply.
 *
 * For an OpenAI chat request x, encode(decode(x)) equals x up to these normalisations (the
 * property test in test/gateway/formats/openai-chat checks it on every request fixture):
 * - leading `developer` messages are written as `system`, one message per text part;
 * - a content array of one plain text part is written as a string;
 * - `reasoning` is written as `reasoning_content`; when thinking blocks exist (in
 *   `thinking_blocks` or as thinking parts of `content`), they are written as
 *   `thinking_blocks` and `reasoning_content` as their text joined;
 * - an assistant message without content has `content: null`;
 * - `max_completion_tokens` alone is written as `max_tokens` (the name every
 *   OpenAI-compatible server knows; presets rename it where needed), both given as both;
 * - a one-element `stop` array is written as a string;
 * - defaults and nulls are omitted: `stream: false`, `n: 1`, `stream_options` without
 *   `include_usage: true`, and null-valued neutral fields.
 */
import type { AssistantPart, CoreMessage, CoreRequest, CoreTool, FilePart, ImagePart, TextPart, ToolResultPart, UserPart } from '../../../core/types.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolCall } from '../../openai-types.js';
import { encodeToolCall, providerDataToExtraContent, reasoningToThinkingBlock } from './conventions.js';
import { mediaUrl } from '../../../core/media.js';


function cacheField(part: { cacheControl?: TextPart['cacheControl'] }): Record<string, unknown> {
  return part.cacheControl ? { cache_control: { ...part.cacheControl } } : {};
}

function textPart(part: TextPart): ContentPart {
  return { type: 'text', text: part.text, ...cacheField(part) };
}

function imagePart(part: ImagePart): ContentPart {
  const image: { url: string; detail?: 'auto' | 'low' | 'high' } = { url: mediaUrl(part.source) };
  if (part.detail) image.detail = part.detail;
  return { type: 'image_url', image_url: image, ...cacheField(part) };
}

function filePart(part: FilePart): ContentPart {
  const file: Record<string, unknown> = {};
  if (part.filename !== undefined) file.filename = part.filename;
  const source = part.source;
  if (source.kind === 'file-id') file.file_id = source.fileId;
  else if (source.kind === 'text') file.file_data = `data:${source.mediaType};base64,${Buffer.from(source.text, 'utf8').toString('base64')}`;
  else file.file_data = mediaUrl(source);
  return { type: 'file', file, ...cacheField(part) };
}

function userPart(part: UserPart): ContentPart {
  switch (part.type) {
    case 'text':
      return textPart(part);
    case 'image':
      return imagePart(part);
    case 'file':
      return filePart(part);
    case 'audio':
      return { type: 'input_audio', input_audio: { data: part.data, format: part.format } };
    case 'native':
      return part.value as ContentPart;
  }
}

function isPlainText(part: UserPart | TextPart): part is TextPart {
  return part.type === 'text' && !part.cacheControl && !part.providerData && !part.citations;
}

function userContent(parts: UserPart[]): ChatMessage['content'] {
  if (parts.length === 1 && isPlainText(parts[0]!)) return parts[0].text;
  return parts.map(userPart);
}

function instructionContent(parts: TextPart[]): ChatMessage['content'] {
  if (parts.length === 1 && isPlainText(parts[0]!)) return parts[0].text;
  return parts.map(textPart);
}

function assistantMessage(parts: AssistantPart[], name: string | undefined): ChatMessage {
  const message: ChatMessage = { role: 'assistant' };
  const texts: TextPart[] = [];
  let reasoning = '';
  let refusal: string | null = null;
  const thinkingBlocks: unknown[] = [];
  const toolCalls: ToolCall[] = [];
  const nativeParts: unknown[] = [];
  let extraContent: Record<string, unknown> | undefined;
  let functionCall: { name: string; arguments: string } | undefined;
  for (const part of parts) {
    switch (part.type) {
      case 'text': {
        const carrierOnly = part.text === '' && part.providerData !== undefined;
        if (!carrierOnly) texts.push(part);
        extraContent = providerDataToExtraContent(part.providerData) ?? extraContent;
        break;
      }
      case 'reasoning': {
        if (!part.redacted) reasoning += part.text;
        const block = reasoningToThinkingBlock(part.text, part.redacted, part.providerData);
        if (block) thinkingBlocks.push(block);
        break;
      }
      case 'refusal':
        refusal = (refusal ?? '') + part.text;
        break;
      case 'tool-call': {
        if (part.id === '') {
          functionCall = { name: part.name, arguments: part.input };
          break;
        }
        toolCalls.push(encodeToolCall(part));
        break;
      }
      case 'native':
        if (part.family === 'anthropic' && part.kind === 'thinking_block') thinkingBlocks.push(part.value);
        else if (part.family === 'openai') nativeParts.push(part.value);
        break;
    }
  }
  if (nativeParts.length === 0 && texts.length <= 1 && (texts.length === 0 || !texts[0]!.cacheControl)) message.content = texts.length === 0 ? null : texts[0]!.text;
  else message.content = [...texts.map(textPart), ...(nativeParts as ContentPart[])];
  if (name !== undefined) message.name = name;
  if (refusal !== null) message.refusal = refusal;
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (thinkingBlocks.length > 0) message.thinking_blocks = thinkingBlocks;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (functionCall) message.function_call = functionCall;
  if (extraContent) message.extra_content = extraContent;
  return message;
}

function toolMessage(part: ToolResultPart): ChatMessage {
  const content = typeof part.content === 'string' ? part.content : part.content.map((item) => (item.type === 'text' ? textPart(item) : item.type === 'image' ? imagePart(item) : filePart(item)));
  if (part.callId === '') return { role: 'function', name: part.name ?? '', content };
  return { role: 'tool', tool_call_id: part.callId, content };
}

export function encodeMessages(system: TextPart[], messages: CoreMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const part of system) out.push({ role: 'system', content: instructionContent([part]) });
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        out.push({ role: message.developer ? 'developer' : 'system', content: instructionContent(message.content) });
        break;
      case 'user': {
        const user: ChatMessage = { role: 'user', content: userContent(message.content) };
        if (message.name !== undefined) user.name = message.name;
        out.push(user);
        break;
      }
      case 'assistant':
        out.push(assistantMessage(message.content, message.name));
        break;
      case 'tool':
        for (const part of message.content) out.push(toolMessage(part));
        break;
    }
  }
  return out;
}

function encodeTool(tool: CoreTool): Record<string, unknown> {
  switch (tool.type) {
    case 'function': {
      const fn: Record<string, unknown> = { name: tool.name };
      if (tool.description !== undefined) fn.description = tool.description;
      if (tool.parameters !== null) fn.parameters = tool.parameters;
      if (tool.strict !== undefined) fn.strict = tool.strict;
      const encoded: Record<string, unknown> = { type: 'function', function: fn };
      if (tool.cacheControl) encoded.cache_control = { ...tool.cacheControl };
      return encoded;
    }
    case 'custom': {
      const custom: Record<string, unknown> = { name: tool.name };
      if (tool.description !== undefined) custom.description = tool.description;
      if (tool.format !== undefined) custom.format = tool.format;
      return { type: 'custom', custom };
    }
    case 'hosted':
      return tool.value as Record<string, unknown>;
  }
}

/** The OpenAI chat body for a core request (extension fields of the OpenAI family included). */
export function encodeChatRequest(core: CoreRequest): ChatCompletionRequest {
  const body: ChatCompletionRequest = { model: core.model, messages: encodeMessages(core.system, core.messages) };
  const extensions = core.extensions?.family === 'openai' ? core.extensions.fields : {};
  if (core.stream) body.stream = true;
  if (core.stream && core.streamUsage) body.stream_options = { include_usage: true };
  if (core.maxOutputTokens !== null) {
    if (extensions.max_tokens !== undefined) body.max_completion_tokens = core.maxOutputTokens;
    else body.max_tokens = core.maxOutputTokens;
  }
  if (core.temperature !== null) body.temperature = core.temperature;
  if (core.topP !== null) body.top_p = core.topP;
  if (core.topK !== null) body.top_k = core.topK;
  if (core.choices !== 1) body.n = core.choices;
  if (core.stop.length === 1) body.stop = core.stop[0];
  else if (core.stop.length > 1) body.stop = [...core.stop];
  if (core.seed !== null) body.seed = core.seed;
  if (core.presencePenalty !== null) body.presence_penalty = core.presencePenalty;
  if (core.frequencyPenalty !== null) body.frequency_penalty = core.frequencyPenalty;
  if (core.tools.length > 0) body.tools = core.tools.map(encodeTool) as unknown as ChatCompletionRequest["tools"];
  if (core.toolChoice) body.tool_choice = core.toolChoice.type === 'tool' ? { type: 'function', function: { name: core.toolChoice.name } } : core.toolChoice.type;
  if (core.parallelToolCalls !== null) body.parallel_tool_calls = core.parallelToolCalls;
  if (core.responseFormat) {
    const format = core.responseFormat;
    if (format.type === 'json_schema') {
      const schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } = { name: format.name };
      if (format.description !== undefined) schema.description = format.description;
      schema.schema = format.schema;
      if (format.strict !== undefined) schema.strict = format.strict;
      body.response_format = { type: 'json_schema', json_schema: schema };
    } else body.response_format = { type: format.type };
  }
  if (core.reasoning?.effort) body.reasoning_effort = core.reasoning.effort;
  if (core.user !== null) body.user = core.user;
  if (core.metadata !== null) body.metadata = core.metadata;
  if (core.promptCacheKey !== null) body.prompt_cache_key = core.promptCacheKey;
  for (const [key, value] of Object.entries(extensions)) body[key] = value;
  const order = core.extensions?.family === 'openai' ? core.extensions.order : undefined;
  if (!order) return body;
  // The client's field order first, then anything new.
  const ordered: Record<string, unknown> = {};
  for (const key of order) if (key in body) ordered[key] = body[key];
  for (const key of Object.keys(body)) if (!(key in ordered)) ordered[key] = body[key];
  return ordered as ChatCompletionRequest;
}
