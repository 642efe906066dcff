/**
 * The format-neutral core: what one model call is, whatever API the client spoke and
 * whatever API the upstream speaks. Client formats (formats/<api>/) decode their wire
 * request into a CoreRequest and encode a CoreResponse or a stream of CoreStreamEvents
 * back; providers translate CoreRequest → native request and native answer → core. So
 * N providers plus M client formats, not N × M translators.
 *
 * Rules:
 * - Order is kept: a message's parts (text, reasoning, tool calls) are in the order the
 *   model produced them, which Anthropic's and the Responses API's replays depend on.
 * - Provider state that must come back on the next turn (Anthropic thinking signatures and
 *   redacted thinking, Gemini thought signatures, OpenAI encrypted reasoning) rides as
 *   opaque `ProviderData`, tagged with the provider kind that made it; it is replayed to
 *   that kind unchanged, byte for byte, and dropped (with a warning) for any other.
 * - Unknown is not zero: usage fields a provider did not report are null.
 * - Nothing here knows HTTP, Fastify or a provider's name.
 */

// ───────────────────────────── content ─────────────────────────────

/** Which wire family produced a piece of opaque state. */
export type ProviderFamily = 'openai' | 'anthropic' | 'gemini';

/** Opaque state a provider needs back verbatim (a signature, encrypted reasoning). */
export interface ProviderData {
  family: ProviderFamily;
  /** E.g. `{ signature }` (Anthropic), `{ thoughtSignature }` (Gemini), `{ encryptedContent, id }` (OpenAI). */
  data: Record<string, unknown>;
}

/** Anthropic-style prompt-cache breakpoint, kept on the part it marks. */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextPart {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
  /** Citations as the producing format gave them (passed through to the same family only). */
  citations?: ProviderData;
  /** State the producing provider attached to this text (a Gemini thought signature on a text part). */
  providerData?: ProviderData;
}

export type MediaSource = { kind: 'url'; url: string } | { kind: 'base64'; mediaType: string; data: string } | { kind: 'file-id'; fileId: string };

export interface ImagePart {
  type: 'image';
  source: MediaSource;
  detail?: 'auto' | 'low' | 'high';
  cacheControl?: CacheControl;
}

/** A document or file (PDF, plain text) given to the model. */
export interface FilePart {
  type: 'file';
  source: MediaSource | { kind: 'text'; text: string; mediaType: string };
  filename?: string;
  title?: string;
  cacheControl?: CacheControl;
}

export interface AudioPart {
  type: 'audio';
  data: string;
  format: string;
}

/**
 * A call the model made. `input` is the call's raw argument text: JSON for a function
 * tool, free text for a custom (freeform) tool such as Codex's `apply_patch`.
 */
export interface ToolCallPart {
  type: 'tool-call';
  id: string;
  name: string;
  input: string;
  kind: 'function' | 'custom';
  providerData?: ProviderData;
}

export interface ToolResultPart {
  type: 'tool-result';
  callId: string;
  /** The tool's name, when the format says it (Gemini needs it; it is looked up from the call otherwise). */
  name?: string;
  content: string | Array<TextPart | ImagePart | FilePart>;
  isError?: boolean;
  kind?: 'function' | 'custom';
  cacheControl?: CacheControl;
}

/**
 * Reasoning the model did. `text` is what may be shown (a summary for OpenAI models);
 * `redacted` marks reasoning only its provider can read (Anthropic redacted_thinking, an
 * OpenAI encrypted item), carried whole in providerData.
 */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  redacted?: boolean;
  providerData?: ProviderData;
}

export interface RefusalPart {
  type: 'refusal';
  text: string;
}

/** A block only one family understands (Anthropic server tools and their results, Responses hosted-tool calls). */
export interface NativePart {
  type: 'native';
  family: ProviderFamily;
  /** What the block is, for warnings (`server_tool_use`, `web_search_call` …). */
  kind: string;
  value: unknown;
}

export type UserPart = TextPart | ImagePart | FilePart | AudioPart | NativePart;
export type AssistantPart = TextPart | ReasoningPart | ToolCallPart | RefusalPart | NativePart;

export type CoreMessage =
  | { role: 'user'; content: UserPart[]; name?: string }
  | { role: 'assistant'; content: AssistantPart[]; name?: string }
  | { role: 'tool'; content: ToolResultPart[] }
  /** Instructions that appear between turns (OpenAI system/developer messages after the first user turn). */
  | { role: 'system'; content: TextPart[]; developer?: boolean };

// ───────────────────────────── tools ─────────────────────────────

export type CoreTool =
  | { type: 'function'; name: string; description?: string; parameters: Record<string, unknown> | null; strict?: boolean | null; cacheControl?: CacheControl }
  /** A freeform tool: its input is text, optionally constrained by a grammar (Responses `custom` tools). */
  | { type: 'custom'; name: string; description?: string; format?: unknown }
  /** A tool hosted by one family (web_search, code_execution, Anthropic server tools): kept for that family only. */
  | { type: 'hosted'; family: ProviderFamily; kind: string; value: unknown };

export type CoreToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

// ───────────────────────────── request ─────────────────────────────

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

export interface ReasoningConfig {
  /** Off, or asked for; `effort` and `budgetTokens` say how much when given. */
  enabled: boolean;
  effort?: ReasoningEffort;
  /** Anthropic/Gemini thinking budget. */
  budgetTokens?: number;
  /** Responses API: summaries of the reasoning. */
  summary?: 'auto' | 'concise' | 'detailed';
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean | null };

/** Which client format a request came in as (and which encoder answers it). */
export type ClientFormat = 'openai-chat' | 'anthropic-messages' | 'openai-responses';

export interface CoreRequest {
  /** The model the client named (before routing). */
  model: string;
  /** Leading instructions (OpenAI's first system/developer messages, Anthropic's `system`, Responses `instructions`). */
  system: TextPart[];
  messages: CoreMessage[];
  tools: CoreTool[];
  toolChoice: CoreToolChoice | null;
  parallelToolCalls: boolean | null;
  maxOutputTokens: number | null;
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  stop: string[];
  seed: number | null;
  presencePenalty: number | null;
  frequencyPenalty: number | null;
  /** Choices wanted (OpenAI `n`); 1 unless the client asked for more. */
  choices: number;
  reasoning: ReasoningConfig | null;
  responseFormat: ResponseFormat | null;
  stream: boolean;
  /** The client wants usage in its stream (OpenAI `stream_options.include_usage`; always true for the other formats). */
  streamUsage: boolean;
  /** End-user id for attribution and provider abuse checks. */
  user: string | null;
  metadata: Record<string, string> | null;
  /** A hint that requests share a prompt prefix (OpenAI `prompt_cache_key`). */
  promptCacheKey: string | null;
  /**
   * Fields of the client's format that have no neutral meaning, by name, for an upstream of
   * the same family (e.g. OpenAI `logit_bias`, `service_tier`; Anthropic `context_management`).
   * Any other family drops them with a recorded warning.
   */
  extensions: {
    family: ProviderFamily;
    fields: Record<string, unknown>;
    /**
     * The order of the client's top-level fields (wire names), so an encoder of the same family
     * writes them as the client did and an upstream's warnings read in the client's order.
     */
    order?: string[];
  } | null;
}

// ───────────────────────────── response ─────────────────────────────

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'stop-sequence' | 'refusal' | 'pause' | 'error' | 'other';

export interface CoreFinish {
  unified: FinishReason;
  /** The provider's own value (`end_turn`, `MAX_TOKENS` …), kept for the log. */
  raw: string | null;
  /** The stop sequence that ended the output, when known. */
  stopSequence?: string | null;
}

/** Token usage, normalised once in the provider adapter. Null: the provider did not say. */
export interface CoreUsage {
  /** All prompt tokens, cached ones included. */
  inputTokens: number | null;
  /** Prompt tokens read from a provider cache (a subset of inputTokens). */
  cachedInputTokens: number | null;
  /** Prompt tokens written to a provider cache (a subset of inputTokens). */
  cacheWriteInputTokens: number | null;
  /** All generated tokens, reasoning included. */
  outputTokens: number | null;
  /** Reasoning tokens (a subset of outputTokens). */
  reasoningTokens: number | null;
  /** Counted by the gateway (no usage from the upstream), not reported. */
  estimated?: boolean;
  /** The provider's own usage object, for the log. */
  raw?: unknown;
  /**
   * The usage object in the upstream family's own shape and meaning (OpenAI: reasoning counted
   * inside completion_tokens), so an encoder of the same family can pass it on with every
   * detail field the upstream sent (audio, prediction tokens …). Other families ignore it.
   */
  native?: ProviderData;
}

export interface CoreChoice {
  index: number;
  content: AssistantPart[];
  /** Null when the answer broke off before the model finished (a stream cut short, kept for the log). */
  finish: CoreFinish | null;
}

export interface CoreResponse {
  /** The upstream's id for the response, when it gave one. */
  id: string | null;
  /** The model that answered, as the upstream named it. */
  model: string;
  created: number;
  choices: CoreChoice[];
  usage: CoreUsage | null;
}

// ───────────────────────────── stream ─────────────────────────────

/**
 * One event of a streamed answer. Every block has an id, one start and one end, so an
 * encoder never has to guess where a block begins or ends (Anthropic content blocks,
 * Responses output items). Deltas of different blocks may interleave (parallel tool calls).
 */
export type CoreStreamEvent =
  | { type: 'response-start'; id: string | null; model: string; created?: number }
  | { type: 'block-start'; block: CoreBlockStart; choice?: number }
  | { type: 'block-delta'; id: string; text?: string; inputDelta?: string; choice?: number }
  | { type: 'block-end'; id: string; providerData?: ProviderData; choice?: number }
  | { type: 'finish'; finish: CoreFinish; choice?: number }
  /** Usage so far: cumulative, the last one counts. */
  | { type: 'usage'; usage: CoreUsage }
  | { type: 'error'; error: CoreError };

export type CoreBlockStart =
  | { id: string; kind: 'text' }
  | { id: string; kind: 'refusal' }
  | { id: string; kind: 'reasoning'; redacted?: boolean; providerData?: ProviderData }
  | { id: string; kind: 'tool-call'; callId: string; name: string; toolKind: 'function' | 'custom'; providerData?: ProviderData }
  | { id: string; kind: 'native'; family: ProviderFamily; nativeKind: string; value: unknown };

// ───────────────────────────── errors ─────────────────────────────

/** What went wrong, in words every client format can express. */
export type CoreErrorKind =
  | 'invalid-request'
  | 'authentication'
  | 'permission'
  | 'not-found'
  | 'request-too-large'
  | 'rate-limit'
  | 'budget'
  | 'overloaded'
  | 'timeout'
  | 'upstream'
  | 'server'
  | 'cancelled';

export interface CoreError {
  kind: CoreErrorKind;
  status: number;
  message: string;
  /** The request field at fault, when known (`messages[2].content`). */
  param?: string | null;
  /** A stable machine code (`model_not_found`, `rate_limit_exceeded` …). */
  code?: string | null;
  /**
   * True when `code` is the one an OpenAI or OpenAI-compatible upstream sent (OpenAI's own
   * vocabulary: `context_length_exceeded`, `insufficient_quota` …), which an OpenAI client
   * decides from, so it is passed on unchanged; other providers' codes are mapped.
   */
  upstreamOpenAICode?: boolean;
  /** Seconds a client should wait before trying again. */
  retryAfterSeconds?: number | null;
  /**
   * The gateway's own name for the error (OpenAI's vocabulary: `invalid_request_error`,
   * `upstream_error` …) when it has one, so the OpenAI format answers exactly as before; other
   * formats map `kind`.
   */
  type?: string | null;
}

/** A warning recorded for one request (a parameter dropped because the upstream lacks it). */
export interface CoreWarning {
  type: 'unsupported-parameter' | 'other';
  parameter?: string;
  message: string;
}
