/**
 * Gemini `GenerateContentResponse` → OpenAI chat completion. Each candidate becomes a
 * choice: thought parts → `reasoning_content`, text parts → `content`, function calls →
 * `tool_calls` (ids made up where Gemini gave none, signatures under `extra_content`).
 * A prompt Gemini blocked (no candidates, `promptFeedback.blockReason`) is an error.
 */
import { createHash } from 'node:crypto';
import type { ChatCompletionChoice, ChatCompletionResponse, ToolCall } from '../../openai-types.js';
import type { ParsedChat } from '../types.js';
import { toOpenAIUsage } from '../openai-compatible/usage.js';
import { badResponseError, promptBlockedError } from './errors.js';
import { mapFinishReason, openAIFinishReason } from './finish-reason.js';
import { argumentsJson, signatureExtraContent, syntheticToolCallId } from './tool-calls.js';
import { normaliseGeminiUsage } from './usage.js';
import type { GeminiCandidate, GeminiGenerateContentResponse } from './wire-types.js';

export interface ResponseContext {
  providerName: string;
  /** The upstream model, used when the response names none. */
  model: string;
  /** Unix seconds for `created` (Gemini responses carry no timestamp). */
  created: number;
}

/** The completion id: Gemini's response id, or a hash of the body when it sent none. */
export function completionId(responseId: unknown, body: string | Buffer): string {
  if (typeof responseId === 'string' && responseId.length > 0) return `chatcmpl-${responseId}`;
  return `chatcmpl-${createHash('sha256').update(body).digest('hex').slice(0, 24)}`;
}

type ToolCallWithExtra = ToolCall & { extra_content?: Record<string, unknown> };

function choiceFrom(candidate: GeminiCandidate, position: number, responseId: string): ChatCompletionChoice {
  const index = typeof candidate.index === 'number' ? candidate.index : position;
  let text = '';
  let reasoning = '';
  let textSignature: string | undefined;
  const toolCalls: ToolCallWithExtra[] = [];
  for (const part of candidate.content?.parts ?? []) {
    if (part.functionCall && typeof part.functionCall === 'object') {
      const call = part.functionCall;
      const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : syntheticToolCallId(responseId, index, toolCalls.length, call.name, call.args);
      const toolCall: ToolCallWithExtra = { id, type: 'function', function: { name: call.name, arguments: argumentsJson(call.args) } };
      const extra = signatureExtraContent(part.thoughtSignature);
      if (extra) toolCall.extra_content = extra;
      toolCalls.push(toolCall);
      continue;
    }
    if (typeof part.text === 'string') {
      if (part.thought === true) reasoning += part.text;
      else text += part.text;
    }
    if (typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0) textSignature = part.thoughtSignature;
  }
  const finish = mapFinishReason(candidate.finishReason, toolCalls.length > 0);
  const message: ChatCompletionChoice['message'] = { role: 'assistant', content: text.length > 0 ? text : null, refusal: null };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const extra = signatureExtraContent(textSignature);
  if (extra) message.extra_content = extra;
  return { index, message, logprobs: null, finish_reason: openAIFinishReason(finish) };
}

/** Translates a parsed Gemini response; throws the blocked-prompt error when there is no answer. */
export function translateResponse(response: GeminiGenerateContentResponse, context: ResponseContext, id: string): ParsedChat {
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  if (candidates.length === 0) {
    if (response.promptFeedback?.blockReason) throw promptBlockedError(context.providerName, response.promptFeedback);
    throw badResponseError(context.providerName, 'a response without candidates');
  }
  const responseId = typeof response.responseId === 'string' ? response.responseId : '';
  const choices = candidates.map((candidate, position) => choiceFrom(candidate, position, responseId));
  const usage = normaliseGeminiUsage(response.usageMetadata);
  const completion: ChatCompletionResponse = {
    id,
    object: 'chat.completion',
    created: context.created,
    model: typeof response.modelVersion === 'string' && response.modelVersion.length > 0 ? response.modelVersion : context.model,
    choices,
  };
  if (usage) completion.usage = toOpenAIUsage(usage);
  return { response: completion, usage, finishReason: choices[0]?.finish_reason ?? null };
}

export function parseGeminiChatResponse(body: Buffer, context: ResponseContext): ParsedChat {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badResponseError(context.providerName, 'a response that is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badResponseError(context.providerName, 'a response that is not a JSON object');
  const response = parsed as GeminiGenerateContentResponse;
  return translateResponse(response, context, completionId(response.responseId, body));
}
