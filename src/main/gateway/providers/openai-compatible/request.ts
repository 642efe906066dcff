/**
 * Canonical request → the body an OpenAI-compatible server accepts. The canonical format
 * is OpenAI's own, so this is mostly the identity: the upstream model name, usage always
 * requested on streams, the output-limit parameter renamed where a server wants the other
 * name, and parameters a server or model rejects dropped with a recorded warning.
 */
import type { ChatCompletionRequest, ChatMessage, EmbeddingsRequest } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import type { PreparedRequest, UpstreamTarget } from '../types.js';
import { objectMembersText } from '../../../core/json-text.js';

/** Message fields that carry other providers' reasoning state; never sent to these servers. */
const FOREIGN_MESSAGE_FIELDS = ['reasoning_signature', 'thinking_blocks', 'reasoning_details'];

/** Whether there was one to drop. */
function drop(body: Record<string, unknown>, parameter: string, reason: string, warnings: RequestWarning[]): boolean {
  if (body[parameter] === undefined) return false;
  delete body[parameter];
  warnings.push({ type: 'unsupported-parameter', parameter, message: `${parameter} dropped: ${reason}` });
  return true;
}

/** `{ "include_usage": true }` and nothing else: what a stream's options become anyway. */
function onlyIncludeUsage(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const keys = Object.keys(options);
  return keys.length === 1 && keys[0] === 'include_usage' && (options as { include_usage?: unknown }).include_usage === true;
}

function needsMessageRewrite(messages: ChatMessage[], inputField: string | null): boolean {
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    for (const field of FOREIGN_MESSAGE_FIELDS) if (message[field] !== undefined) return true;
    if (message.reasoning_content !== undefined && inputField !== 'reasoning_content') return true;
    if (message.reasoning !== undefined && inputField !== 'reasoning') return true;
    if (message.tool_calls?.some((call) => (call as { extra_content?: unknown }).extra_content !== undefined)) return true;
  }
  return false;
}

function rewriteMessages(messages: ChatMessage[], inputField: string | null): ChatMessage[] {
  return messages.map((message) => {
    if (message.role !== 'assistant') return message;
    const copy: ChatMessage = { ...message };
    for (const field of FOREIGN_MESSAGE_FIELDS) delete copy[field];
    const reasoning = copy.reasoning_content ?? (copy.reasoning as string | undefined);
    delete copy.reasoning_content;
    delete copy.reasoning;
    if (inputField && typeof reasoning === 'string' && reasoning.length > 0) copy[inputField] = reasoning;
    if (copy.tool_calls) {
      copy.tool_calls = copy.tool_calls.map((call) => {
        if ((call as { extra_content?: unknown }).extra_content === undefined) return call;
        const { extra_content: _dropped, ...rest } = call as typeof call & { extra_content?: unknown };
        return rest;
      });
    }
    return copy;
  });
}

/** What a body needs beside the client's request: nothing, usage asked for on a stream (appended last), or more. */
export type ChatBodyChange = 'none' | 'stream-usage' | 'other';

/**
 * The body to send and the warnings of what was left out or changed; `change` says how far the
 * body is from exactly the client's request (whose text may then be sent, see prepareChatRequest).
 */
export function buildChatBody(request: ChatCompletionRequest, target: UpstreamTarget): { body: Record<string, unknown>; warnings: RequestWarning[]; change: ChatBodyChange } {
  const quirks = target.provider.quirks;
  const warnings: RequestWarning[] = [];
  const body: Record<string, unknown> = { ...request, model: target.model };
  let changed = request.model !== target.model;
  let streamUsage = false;

  if (request.stream === true) {
    if (quirks.streamUsage) {
      body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
      // Absent from the request, the member is the body's last; `null` or other options change it in place.
      if (request.stream_options === undefined) streamUsage = true;
      else if (!onlyIncludeUsage(request.stream_options)) changed = true;
    }
  } else if (body.stream_options !== undefined) {
    delete body.stream_options;
    changed = true;
  }

  if (quirks.maxTokensParameter === 'max_completion_tokens' && body.max_tokens != null) {
    if (body.max_completion_tokens == null) body.max_completion_tokens = body.max_tokens;
    delete body.max_tokens;
    changed = true;
  } else if (quirks.maxTokensParameter === 'max_tokens' && body.max_completion_tokens != null) {
    if (body.max_tokens == null) body.max_tokens = body.max_completion_tokens;
    delete body.max_completion_tokens;
    changed = true;
  }

  for (const parameter of quirks.unsupportedParameters) {
    if (drop(body, parameter, `${target.provider.name} does not support it`, warnings)) changed = true;
  }

  const rule = quirks.compiledRules.find((candidate) => candidate.pattern.test(target.model));
  if (rule) {
    if (rule.reasoningEffort && typeof body.reasoning_effort === 'string') {
      const effort = body.reasoning_effort;
      const mapped = rule.reasoningEffort[effort];
      if (mapped === undefined || mapped === null) {
        drop(body, 'reasoning_effort', `${target.model} does not accept reasoning_effort "${effort}"`, warnings);
        changed = true;
      } else if (mapped !== effort) {
        body.reasoning_effort = mapped;
        changed = true;
        warnings.push({ type: 'other', parameter: 'reasoning_effort', message: `reasoning_effort "${effort}" sent as "${mapped}", the nearest level ${target.model} accepts` });
      }
    }
    for (const parameter of rule.drop ?? []) {
      if (drop(body, parameter, `${target.model} rejects it`, warnings)) changed = true;
    }
  }

  if (needsMessageRewrite(request.messages, quirks.reasoningInputField)) {
    body.messages = rewriteMessages(request.messages, quirks.reasoningInputField);
    changed = true;
  }
  return { body, warnings, change: changed ? 'other' : streamUsage ? 'stream-usage' : 'none' };
}

const STREAM_USAGE_MEMBER = ',"stream_options":{"include_usage":true}}';

/**
 * The JSON text of a body that is the client's request with only `stream_options` appended:
 * the client's text, its closing brace replaced by the member (what JSON.stringify of the body
 * reads as). Null for a text that does not end an object with members (never a validated request).
 */
function withStreamUsage(text: string): string | null {
  const members = objectMembersText(text);
  return members === null ? null : members + STREAM_USAGE_MEMBER;
}

export function authorizationHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...target.provider.headers };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  return headers;
}

/**
 * The upstream request for an OpenAI chat request; `text`, the request's own JSON text (the
 * client's, see WireRequest), is sent as it is when the body would go unchanged, or with the
 * stream's usage option appended when that is all that changes.
 */
export function prepareChatRequest(request: ChatCompletionRequest, target: UpstreamTarget, text?: string): { request: PreparedRequest; warnings: RequestWarning[] } {
  const { body, warnings, change } = buildChatBody(request, target);
  const headers = authorizationHeaders(target);
  headers.accept = request.stream === true ? 'text/event-stream' : 'application/json';
  const sent = text === undefined || change === 'other' ? null : change === 'none' ? text : withStreamUsage(text);
  return {
    request: { method: 'POST', url: `${target.provider.baseUrl}/chat/completions`, headers, body: sent ?? JSON.stringify(body), json: body },
    warnings,
  };
}

export function prepareEmbeddingsRequest(request: EmbeddingsRequest, target: UpstreamTarget): { request: PreparedRequest; warnings: RequestWarning[] } {
  const body: Record<string, unknown> = { ...request, model: target.model };
  const warnings: RequestWarning[] = [];
  // Servers without base64 support get float; the gateway encodes the reply itself.
  if (!target.provider.quirks.embeddingsBase64 && body.encoding_format !== undefined) delete body.encoding_format;
  for (const parameter of target.provider.quirks.unsupportedParameters) {
    drop(body, parameter, `${target.provider.name} does not support it`, warnings);
  }
  const headers = authorizationHeaders(target);
  headers.accept = 'application/json';
  return {
    request: { method: 'POST', url: `${target.provider.baseUrl}/embeddings`, headers, body: JSON.stringify(body), json: body },
    warnings,
  };
}
