/**
 * Gemini `finishReason` → OpenAI `finish_reason`, keeping the raw value. Gemini has no
 * tool-call reason: a candidate that returned functionCall parts ends with `STOP`, so the
 * caller says whether it saw any (across every chunk of a stream).
 */
import type { FinishReason } from '../../types.js';

export interface MappedFinishReason {
  unified: FinishReason;
  raw: string | null;
}

export function mapFinishReason(raw: string | null | undefined, sawFunctionCall: boolean): MappedFinishReason {
  const value = raw ?? null;
  switch (value) {
    case null:
    case 'STOP':
    case 'FINISH_REASON_UNSPECIFIED':
      return { unified: sawFunctionCall ? 'tool_calls' : 'stop', raw: value };
    case 'MAX_TOKENS':
      return { unified: 'length', raw: value };
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
    case 'IMAGE_OTHER':
      return { unified: 'content_filter', raw: value };
    default:
      // LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS,
      // NO_IMAGE and anything newer: OpenAI has no equivalent; the raw value is kept for the log.
      return { unified: sawFunctionCall ? 'tool_calls' : 'other', raw: value };
  }
}

/** The `finish_reason` string an OpenAI client sees ('other' has no OpenAI spelling: 'stop'). */
export function openAIFinishReason(reason: MappedFinishReason): string {
  return reason.unified === 'other' || reason.unified === 'error' ? 'stop' : reason.unified;
}
