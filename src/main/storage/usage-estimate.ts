/**
 * Token estimates for requests whose upstream reported no usage (a cancelled stream, a
 * local server that omits it). No tokenizer is bundled, so this is the usual rough rule
 * of about 4 characters of text per token (⌈characters / 4⌉), plus 4 tokens of framing
 * per chat message and 3 for the reply's priming, as OpenAI's cookbook counts them. It is
 * within roughly ±25 % for English prose and code; rows using it are marked estimated.
 */
import type { Usage } from '../core/record.js';

const CHARACTERS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function estimateTokensForText(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

/** The visible text of a message's content: a string, or an array of parts with `text`. Other parts count as their JSON. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (isRecord(part) && typeof part.text === 'string') return part.text;
        return part === null || part === undefined ? '' : JSON.stringify(part);
      })
      .join('');
  }
  if (content === null || content === undefined) return '';
  return JSON.stringify(content);
}

function messageText(message: Record<string, unknown>): string {
  let text = contentText(message.content ?? message.parts);
  if (typeof message.reasoning_content === 'string') text += message.reasoning_content;
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (isRecord(call) && isRecord(call.function)) {
        text += String(call.function.name ?? '') + String(call.function.arguments ?? '');
      }
    }
  }
  return text;
}

/** Prompt tokens of a chat-completions, Anthropic, Gemini or embeddings request body. */
export function estimateInputTokens(body: unknown): number {
  if (!isRecord(body)) return 0;
  let tokens = 0;
  const list = Array.isArray(body.messages) ? body.messages : Array.isArray(body.contents) ? body.contents : null;
  if (list) {
    for (const message of list) {
      if (isRecord(message)) tokens += TOKENS_PER_MESSAGE + estimateTokensForText(messageText(message));
    }
    tokens += TOKENS_PER_REPLY;
  }
  if (body.system !== undefined) tokens += estimateTokensForText(contentText(body.system));
  if (Array.isArray(body.tools)) tokens += estimateTokensForText(JSON.stringify(body.tools));
  if (typeof body.input === 'string') tokens += estimateTokensForText(body.input);
  else if (Array.isArray(body.input)) {
    for (const item of body.input) tokens += typeof item === 'string' ? estimateTokensForText(item) : 0;
  }
  if (typeof body.prompt === 'string') tokens += estimateTokensForText(body.prompt);
  return tokens;
}

/** Completion tokens of a chat-completions response (`choices[].message`) or an Anthropic one (`content`). */
export function estimateOutputTokens(body: unknown): number {
  if (!isRecord(body)) return 0;
  let tokens = 0;
  if (Array.isArray(body.choices)) {
    for (const choice of body.choices) {
      if (!isRecord(choice)) continue;
      const message = isRecord(choice.message) ? choice.message : isRecord(choice.delta) ? choice.delta : null;
      if (message) tokens += estimateTokensForText(messageText(message));
      else if (typeof choice.text === 'string') tokens += estimateTokensForText(choice.text);
    }
  } else if (Array.isArray(body.content)) {
    tokens += estimateTokensForText(contentText(body.content));
  }
  return tokens;
}

/** A Usage built from the bodies; reasoning is unknown and counted as 0. */
export function estimateUsage(requestBody: unknown, responseBody: unknown): Usage {
  return {
    inputTokens: estimateInputTokens(requestBody),
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: estimateOutputTokens(responseBody),
    reasoningTokens: 0,
  };
}
