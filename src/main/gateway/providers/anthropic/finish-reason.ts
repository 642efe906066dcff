/**
 * Anthropic `stop_reason` → the core finish, keeping the raw value (and the stop sequence).
 * `refusal` is a content filter in the unified vocabulary (OpenAI clients have always seen
 * `content_filter`); `pause_turn` is a pause.
 */
import type { CoreFinish, FinishReason } from '../../../core/types.js';

export function unifiedStopReason(raw: string | null): FinishReason {
  switch (raw) {
    case 'end_turn':
      return 'stop';
    case 'stop_sequence':
      return 'stop-sequence';
    case 'pause_turn':
      return 'pause';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      return 'other';
  }
}

export function mapStopReason(raw: string | null | undefined, stopSequence?: string | null): CoreFinish {
  const value = typeof raw === 'string' ? raw : null;
  const finish: CoreFinish = { unified: unifiedStopReason(value), raw: value };
  if (stopSequence !== undefined) finish.stopSequence = stopSequence;
  return finish;
}
