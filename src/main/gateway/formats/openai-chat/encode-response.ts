/**
 * The core response → an OpenAI `chat.completion` object, in the shape the gateway has always
 * answered with: per choice `{index, message:{role, content, refusal, reasoning_content?,
 * thinking_blocks?, tool_calls?, extra_content?}, logprobs: null, finish_reason}`, usage in
 * OpenAI's meaning when known.
 */
import type { AssistantPart, CoreChoice, CoreResponse } from '../../../core/types.js';
import type { ChatCompletionChoice, ChatCompletionResponse, ToolCall } from '../../openai-types.js';
import { encodeToolCall, openAIFinishReason, openAIUsage, providerDataToExtraContent, reasoningToThinkingBlock } from './conventions.js';

export interface EncodeResponseOptions {
  /** The id when the core response has none. */
  fallbackId?: string;
  /**
   * Leave `logprobs` out of each choice: the completion assembled from a stream for the log
   * has always been recorded without it.
   */
  omitLogprobs?: boolean;
}

/** An assistant turn's parts → the OpenAI response message. */
export function encodeAssistantMessage(parts: AssistantPart[]): ChatCompletionChoice['message'] {
  let text: string | null = null;
  let refusal: string | null = null;
  let reasoning = '';
  const thinkingBlocks: unknown[] = [];
  const toolCalls: ToolCall[] = [];
  let extraContent: Record<string, unknown> | undefined;
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        if (!(part.text === '' && part.providerData !== undefined)) text = (text ?? '') + part.text;
        extraContent = providerDataToExtraContent(part.providerData) ?? extraContent;
        break;
      case 'refusal':
        refusal = (refusal ?? '') + part.text;
        break;
      case 'reasoning': {
        if (!part.redacted) reasoning += part.text;
        const block = reasoningToThinkingBlock(part.text, part.redacted, part.providerData);
        if (block) thinkingBlocks.push(block);
        break;
      }
      case 'tool-call': {
        toolCalls.push(encodeToolCall(part));
        break;
      }
      case 'native':
        if (part.family === 'anthropic' && part.kind === 'thinking_block') thinkingBlocks.push(part.value);
        break;
    }
  }
  const message: ChatCompletionChoice['message'] = { role: 'assistant', content: text, refusal };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (thinkingBlocks.length > 0) message.thinking_blocks = thinkingBlocks;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (extraContent) message.extra_content = extraContent;
  return message;
}

function encodeChoice(choice: CoreChoice, omitLogprobs: boolean): ChatCompletionChoice {
  const message = encodeAssistantMessage(choice.content);
  const finish = openAIFinishReason(choice.finish);
  return omitLogprobs ? { index: choice.index, message, finish_reason: finish } : { index: choice.index, message, logprobs: null, finish_reason: finish };
}

export function encodeChatCompletion(core: CoreResponse, options: EncodeResponseOptions = {}): ChatCompletionResponse {
  const completion: ChatCompletionResponse = {
    id: core.id ?? options.fallbackId ?? '',
    object: 'chat.completion',
    created: core.created,
    model: core.model,
    choices: core.choices.map((choice) => encodeChoice(choice, options.omitLogprobs === true)),
  };
  if (core.usage) completion.usage = openAIUsage(core.usage);
  return completion;
}
