/**
 * Gemini `GenerateContentResponse` → the core response. Each candidate becomes a choice whose
 * parts keep Gemini's order: thought parts → reasoning, text parts → text, function calls →
 * tool calls (ids made up where Gemini gave none, signatures as Gemini provider data). The
 * signature Gemini put on the candidate's text (or thoughts) rides on its last text part, as
 * one signature per turn. A prompt Gemini blocked (no candidates,
 * `promptFeedback.blockReason`) is an error.
 */
import { createHash } from 'node:crypto';
import type { AssistantPart, CoreChoice, CoreResponse, TextPart } from '../../../core/types.js';
import { badResponseError, promptBlockedError } from './errors.js';
import { mapFinishReason } from './finish-reason.js';
import { argumentsJson, signatureData, syntheticToolCallId } from './tool-calls.js';
import { normaliseGeminiUsage } from './usage.js';
import type { GeminiCandidate, GeminiGenerateContentResponse } from './wire-types.js';

export interface ResponseContext {
  providerName: string;
  /** The upstream model, used when the response names none. */
  model: string;
  /** Unix seconds for `created` (Gemini responses carry no timestamp). */
  created: number;
}

/**
 * The response id: Gemini's response id, or a hash of the body when it sent none (with the
 * `chatcmpl-` prefix the gateway's answers have always carried).
 */
export function completionId(responseId: unknown, body: string | Buffer): string {
  if (typeof responseId === 'string' && responseId.length > 0) return `chatcmpl-${responseId}`;
  return `chatcmpl-${createHash('sha256').update(body).digest('hex').slice(0, 24)}`;
}

function choiceFrom(candidate: GeminiCandidate, position: number, responseId: string): CoreChoice {
  const index = typeof candidate.index === 'number' ? candidate.index : position;
  const content: AssistantPart[] = [];
  let lastText: TextPart | undefined;
  let signature: string | undefined;
  let calls = 0;
  for (const part of candidate.content?.parts ?? []) {
    if (part.functionCall && typeof part.functionCall === 'object') {
      const call = part.functionCall;
      const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : syntheticToolCallId(responseId, index, calls, call.name, call.args);
      calls++;
      const toolCall: AssistantPart = { type: 'tool-call', id, name: call.name, input: argumentsJson(call.args), kind: 'function' };
      const data = signatureData(part.thoughtSignature);
      if (data) toolCall.providerData = data;
      content.push(toolCall);
      continue;
    }
    if (typeof part.text === 'string' && part.text.length > 0) {
      if (part.thought === true) content.push({ type: 'reasoning', text: part.text });
      else {
        lastText = { type: 'text', text: part.text };
        content.push(lastText);
      }
    }
    if (typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0) signature = part.thoughtSignature;
  }
  const data = signatureData(signature);
  if (data) {
    if (lastText) lastText.providerData = data;
    else content.push({ type: 'text', text: '', providerData: data });
  }
  return { index, content, finish: mapFinishReason(candidate.finishReason, calls > 0) };
}

/** Translates a parsed Gemini response; throws the blocked-prompt error when there is no answer. */
export function translateResponse(response: GeminiGenerateContentResponse, context: ResponseContext, id: string): CoreResponse {
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  if (candidates.length === 0) {
    if (response.promptFeedback?.blockReason) throw promptBlockedError(context.providerName, response.promptFeedback);
    throw badResponseError(context.providerName, 'a response without candidates');
  }
  const responseId = typeof response.responseId === 'string' ? response.responseId : '';
  return {
    id,
    model: typeof response.modelVersion === 'string' && response.modelVersion.length > 0 ? response.modelVersion : context.model,
    created: context.created,
    choices: candidates.map((candidate, position) => choiceFrom(candidate, position, responseId)),
    usage: normaliseGeminiUsage(response.usageMetadata),
  };
}

export function parseGeminiResponse(body: Buffer, context: ResponseContext): CoreResponse {
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
