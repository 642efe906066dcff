/**
 * Anthropic `Message` → OpenAI `chat.completion`.
 *
 * Thinking convention (the gateway's): `message.reasoning_content` holds all thinking text
 * and `message.thinking_blocks` the exact Anthropic blocks (`{type:"thinking",thinking,signature}`,
 * `{type:"redacted_thinking",data}`), so a client that sends the assistant message back
 * unchanged lets the gateway replay them (convert-messages.ts). Tool-call `arguments` are
 * `JSON.stringify(input)`; server-tool blocks and citations are not translated.
 */
import { GatewayError } from '../../errors.js';
import type { ChatCompletionResponse, ToolCall } from '../../openai-types.js';
import { toOpenAIUsage } from '../openai-compatible/usage.js';
import type { ParsedChat, UpstreamTarget } from '../types.js';
import { mapStopReason, openAIFinishReason } from './finish-reason.js';
import { normaliseAnthropicUsage } from './usage.js';
import type { AnthropicResponseMessage } from './wire-types.js';

function badResponse(target: UpstreamTarget, what: string): GatewayError {
  return new GatewayError(502, `${target.provider.name} returned ${what}`, { type: 'upstream_error', code: 'bad_upstream_response' });
}

export function toolArguments(input: unknown): string {
  if (typeof input !== 'object' || input === null) return '{}';
  return JSON.stringify(input);
}

export function messageToCompletion(message: AnthropicResponseMessage, created: number): ParsedChat {
  let text = '';
  let hasText = false;
  let reasoning = '';
  const thinkingBlocks: Array<Record<string, unknown>> = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text' && typeof block.text === 'string') {
      text += block.text;
      hasText = true;
    } else if (block.type === 'thinking' && typeof block.thinking === 'string') {
      reasoning += block.thinking;
      thinkingBlocks.push({ type: 'thinking', thinking: block.thinking, signature: typeof block.signature === 'string' ? block.signature : '' });
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
      thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
    } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: toolArguments(block.input) } });
    }
  }
  const finish = mapStopReason(message.stop_reason);
  const choiceMessage: ChatCompletionResponse['choices'][number]['message'] = { role: 'assistant', content: hasText ? text : null, refusal: null };
  if (reasoning.length > 0) choiceMessage.reasoning_content = reasoning;
  if (thinkingBlocks.length > 0) choiceMessage.thinking_blocks = thinkingBlocks;
  if (toolCalls.length > 0) choiceMessage.tool_calls = toolCalls;
  const usage = message.usage ? normaliseAnthropicUsage(message.usage) : null;
  const response: ChatCompletionResponse = {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [{ index: 0, message: choiceMessage, logprobs: null, finish_reason: openAIFinishReason(finish.unified) }],
  };
  if (usage) response.usage = toOpenAIUsage(usage);
  return { response, usage, finishReason: finish.raw ?? openAIFinishReason(finish.unified) };
}

export function parseAnthropicResponse(body: Buffer, target: UpstreamTarget, created = Math.floor(Date.now() / 1000)): ParsedChat {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badResponse(target, 'a message that is not valid JSON');
  }
  const message = parsed as AnthropicResponseMessage | null;
  if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) throw badResponse(target, 'a message without content');
  return messageToCompletion(message, created);
}
