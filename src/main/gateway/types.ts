/**
 * The gateway's canonical types: the OpenAI chat-completions shape is the pivot format,
 * provider adapters translate to and from it, and streams pass through one closed union
 * of events (see DESIGN.md, "Streams: one closed event type").
 */

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'other';

/** The `finish_reason` an OpenAI client sees for a unified reason. */
export function openAIFinishReason(unified: FinishReason): 'stop' | 'length' | 'tool_calls' | 'content_filter' {
  return unified === 'other' || unified === 'error' ? 'stop' : unified;
}

export interface GatewayErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export type StreamEvent =
  | { type: 'start'; id: string; model: string; created?: number }
  | { type: 'text-delta'; text: string; choice?: number }
  | { type: 'refusal-delta'; text: string; choice?: number }
  /**
   * Reasoning text. A provider that signs its reasoning (Anthropic) ends each thinking block
   * with an event carrying the block's `signature` (text ''), or sends a redacted block whole
   * as `redactedData`; the encoder turns those into `thinking_blocks` deltas.
   */
  | { type: 'reasoning-delta'; text: string; signature?: string; redactedData?: string; choice?: number }
  /** `extraContent` carries provider state that must come back with the call (Gemini thought signatures). */
  | { type: 'tool-call-start'; index: number; id: string; name: string; extraContent?: Record<string, unknown>; choice?: number }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string; choice?: number }
  | { type: 'finish'; reason: { unified: FinishReason; raw: string | null }; choice?: number }
  /**
   * Usage so far (cumulative; the last one counts). `openAIUsage` is the exact OpenAI-shaped
   * object to pass on when the upstream already speaks OpenAI's format (its extra detail
   * fields kept); otherwise the encoder builds one from `usage`.
   */
  | { type: 'usage'; usage: Usage; openAIUsage?: Record<string, unknown> }
  | { type: 'error'; error: { status: number; body: GatewayErrorBody } };

// The request log's domain types live in the core (storage reads them without the gateway).
export type { AttemptRecord, RequestRecord, RequestWarning, Usage } from '../core/record.js';
import type { Usage } from '../core/record.js';
