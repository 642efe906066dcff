/**
 * Gemini `finishReason` → the core finish reason, keeping the raw value. Gemini has no
 * tool-call reason: a candidate that returned functionCall parts ends with `STOP`, so the
 * caller says whether it saw any (across every chunk of a stream).
 */
import type { CoreFinish } from '../../../core/types.js';

export function mapFinishReason(raw: string | null | undefined, sawFunctionCall: boolean): CoreFinish {
  const value = raw ?? null;
  switch (value) {
    case null:
    case 'STOP':
    case 'FINISH_REASON_UNSPECIFIED':
      return { unified: sawFunctionCall ? 'tool-calls' : 'stop', raw: value };
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
      return { unified: 'content-filter', raw: value };
    default:
      // LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS,
      // NO_IMAGE and anything newer: no neutral equivalent; the raw value is kept for the log.
      return { unified: sawFunctionCall ? 'tool-calls' : 'other', raw: value };
  }
}
