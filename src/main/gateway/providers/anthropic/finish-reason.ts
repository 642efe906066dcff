/** Anthropic `stop_reason` → the unified finish reason, keeping the raw value. */
import type { FinishReason } from '../../types.js';

export function mapStopReason(raw: string | null | undefined): { unified: FinishReason; raw: string | null } {
  const value = raw ?? null;
  switch (value) {
    case 'end_turn':
    case 'stop_sequence':
    // A paused server-tool turn has no OpenAI equivalent; the text so far is a complete answer.
    case 'pause_turn':
      return { unified: 'stop', raw: value };
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return { unified: 'length', raw: value };
    case 'tool_use':
      return { unified: 'tool_calls', raw: value };
    case 'refusal':
      return { unified: 'content_filter', raw: value };
    default:
      return { unified: 'other', raw: value };
  }
}

/** The OpenAI `finish_reason` string for a unified reason (OpenAI has no "other"). */
export function openAIFinishReason(unified: FinishReason): string {
  return unified === 'other' || unified === 'error' ? 'stop' : unified;
}
