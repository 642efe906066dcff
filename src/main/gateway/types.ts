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

/** Token usage normalised once, in the adapter. */
export interface Usage {
  /** All prompt tokens, cached ones included. */
  inputTokens: number;
  /** Prompt tokens read from a provider cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Prompt tokens written to a provider cache (a subset of inputTokens). */
  cacheWriteInputTokens: number;
  /** All generated tokens, reasoning included. */
  outputTokens: number;
  /** Reasoning / thinking tokens (a subset of outputTokens). */
  reasoningTokens: number;
  /** The provider's own usage object, kept for the log. */
  raw?: unknown;
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

/** A warning recorded for one request, e.g. a parameter dropped because a provider rejects it. */
export interface RequestWarning {
  type: 'unsupported-parameter' | 'other';
  parameter?: string;
  message: string;
}

/** One upstream attempt of a request, as the attempt loop saw it (a retry, a fallback, a skipped candidate). */
export interface AttemptRecord {
  provider: string | null;
  model: string | null;
  startedAt?: number | null;
  endedAt?: number | null;
  latencyMs?: number | null;
  httpStatus?: number | null;
  status?: 'success' | 'error' | 'cancelled' | null;
  errorType?: string | null;
  errorMessage?: string | null;
}

/**
 * What the gateway knows about one client request once it has finished. Emitted to
 * the recorder (storage, inspector) off the response path.
 */
export interface RequestRecord {
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  endpoint: string;
  requestedModel: string | null;
  resolvedModel: string | null;
  provider: string | null;
  status: 'success' | 'error' | 'cancelled';
  httpStatus: number;
  errorType: string | null;
  errorMessage: string | null;
  stream: boolean;
  usage: Usage | null;
  /** Milliseconds from request start to the first streamed content, when streaming. */
  timeToFirstTokenMs: number | null;
  latencyMs: number;
  attempts: number;
  finishReason: string | null;
  gatewayKeyId: string | null;
  user: string | null;
  conversationId: string | null;
  tags: Array<{ key: string; value: string }>;
  /** The client's request body (parsed JSON), secrets never included. */
  requestBody: unknown;
  /** What was sent upstream after translation. */
  upstreamRequestBody: unknown;
  /** The response body returned to the client (for streams: the assembled completion). */
  responseBody: unknown;
  warnings: RequestWarning[];
  /** Every upstream attempt in order (retries, fallbacks); absent for requests refused before routing. */
  attemptsDetail?: AttemptRecord[];
}
