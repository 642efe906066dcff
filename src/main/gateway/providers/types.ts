/**
 * The contract between the pipeline and one provider's translators. An adapter is a bag of
 * pure functions over the format-neutral core: core request in → native request out; native
 * response or SSE event in → core out (see CoreProviderAdapter).
 */
import type { ProviderConfig } from '../config.js';
import type { GatewayError } from '../errors.js';
import type { SseEvent } from '../sse/decoder.js';
import type { ChatCompletionRequest, EmbeddingsRequest, EmbeddingsResponse, ModelEntry } from '../openai-types.js';
import type { RequestWarning, Usage } from '../types.js';
import type { ClientFormat, CoreRequest, CoreResponse, CoreStreamEvent } from '../../core/types.js';

export interface UpstreamTarget {
  provider: ProviderConfig;
  /** The model name the upstream knows. */
  model: string;
  apiKey: string | null;
}

export interface PreparedRequest {
  method: 'GET' | 'POST';
  /** Absolute URL. */
  url: string;
  headers: Record<string, string>;
  /** `json` serialised (JSON.stringify), as it is sent; the request log keeps this text. */
  body?: string;
  /** The JSON body before serialisation, kept for the log and the inspector; not changed once prepared. */
  json?: unknown;
}

export interface ParsedEmbeddings {
  response: EmbeddingsResponse;
  usage: Usage | null;
  passthrough?: Buffer;
}

export type FetchJson = (request: PreparedRequest, timeoutMs: number) => Promise<{ status: number; json: unknown }>;

/** A client body the adapter may use as-is when it speaks the same format (same-format pass-through). */
export type WireRequest = ({ format: 'openai-chat'; body: ChatCompletionRequest } | { format: 'anthropic-messages' | 'openai-responses'; body: Record<string, unknown> }) & {
  /**
   * `body`'s JSON text as the client sent it, when any JSON reader reads it as `body` (each
   * key of every object written once): an adapter that would send `body` unchanged sends this text
   * instead of serialising it again (a 30 KB conversation: ~40 µs of JSON.stringify).
   */
  text?: string;
};

export interface PrepareOptions {
  wire?: WireRequest;
}

export interface ParsedCoreResponse {
  response: CoreResponse;
  /**
   * The upstream's answer in the adapter's native client format (`nativeFormat`), bytes ready
   * to send unchanged to a client of that format; absent when there is none.
   */
  passthrough?: Buffer;
  /** `passthrough` parsed, for the log (what the client got). */
  passthroughJson?: unknown;
}

export interface CoreStreamTranslator {
  /** Translates one upstream SSE event into core events. */
  push(event: SseEvent): CoreStreamEvent[];
  /** The upstream body ended; returns closing events (an error if the stream was cut short). */
  end(): CoreStreamEvent[];
  /** True once the upstream signalled the end of its stream. */
  readonly done: boolean;
}

/**
 * The contract between the pipeline and one provider over the format-neutral core: core
 * request in → native request out; native response or SSE event in → core out.
 */
export interface CoreProviderAdapter {
  /**
   * The client format this upstream speaks natively, if any: a client of that format may hand
   * its wire body to `prepare` and get the upstream's bytes back (`passthrough`).
   */
  readonly nativeFormat: ClientFormat | null;
  /** Whether this upstream takes a client body of another format as it is too (OpenAI: the Responses API). */
  speaks?(format: ClientFormat, target: UpstreamTarget): boolean;
  prepare(core: CoreRequest, target: UpstreamTarget, options?: PrepareOptions): { request: PreparedRequest; warnings: RequestWarning[] };
  parseResponse(body: Buffer, target: UpstreamTarget, core: CoreRequest): ParsedCoreResponse;
  createStreamTranslator(target: UpstreamTarget, core: CoreRequest): CoreStreamTranslator;
  /** Turns an upstream error response into a gateway error. */
  parseError(status: number, body: string, headers: Record<string, string | string[] | undefined>, target: UpstreamTarget): GatewayError;
  prepareEmbeddings?(request: EmbeddingsRequest, target: UpstreamTarget): { request: PreparedRequest; warnings: RequestWarning[] };
  parseEmbeddingsResponse?(body: Buffer, target: UpstreamTarget, request: EmbeddingsRequest): ParsedEmbeddings;
  /**
   * The upstream's own token count for a request of its native format (`nativeFormat`), whose
   * answer is `{input_tokens}`; absent where the upstream has none (the gateway estimates).
   * `clientHeaders`: the client's API headers to keep (Anthropic's anthropic-beta / -version).
   */
  prepareCountTokens?(wire: Record<string, unknown>, target: UpstreamTarget, clientHeaders: Record<string, string>): PreparedRequest;
  /**
   * The upstream's own count of a core request's input tokens, for an upstream with a count
   * endpoint of its own shape (Gemini's countTokens); `readTokenCount` reads its answer.
   */
  prepareCoreCountTokens?(core: CoreRequest, target: UpstreamTarget): PreparedRequest;
  readTokenCount?(json: unknown): number | null;
  listModels(target: UpstreamTarget, fetchJson: FetchJson, timeoutMs: number): Promise<ModelEntry[]>;
}

/** What the gateway needs of a provider besides chat: errors, embeddings, the model list. */
export type ProviderServices = Pick<CoreProviderAdapter, 'parseError' | 'prepareEmbeddings' | 'parseEmbeddingsResponse' | 'listModels'>;
