/**
 * The request log's domain types: what the gateway knows about one client request once it
 * has finished, its attempts, warnings and normalised usage, the observers that receive
 * records off the response path, and a gateway key's identity. They belong to no layer:
 * the gateway fills them in, storage writes them, services show them.
 */
import type { CoreStreamEvent } from './types.js';

/** A gateway key as the gateway sees it once verified. */
export interface GatewayKeyIdentity {
  id: string;
  name: string;
  /** Tags applied to every request made with this key. */
  tags: Array<{ key: string; value: string }>;
  /** Models this key may use; null for all. */
  allowedModels: string[] | null;
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
  /** The W3C trace id the request's span was recorded under (32 hex digits), when tracing is on. */
  traceId?: string | null;
  /** The gateway's response cache answered: no upstream attempt, no cost; `usage` is the original answer's (what it saved). */
  cacheHit?: boolean;
  /** The id of the response given to the client when the gateway keeps it for later reference (a Responses API `resp_…`). */
  responseId?: string | null;
}

/** What observers learn when a request starts: the record so far and the client's headers with secrets masked. */
export type RequestStart = Pick<RequestRecord, 'id' | 'startedAt' | 'endpoint' | 'requestedModel' | 'stream' | 'tags' | 'gatewayKeyId' | 'user' | 'conversationId'> & {
  headers: Record<string, string>;
};

/** Receives request records off the response path (storage writer, live inspector). */
export interface RequestObserver {
  requestStarted?(record: RequestStart): void;
  /** The request was routed to a provider (the record carries provider, resolved model and upstream body). */
  requestRouted?(record: Readonly<RequestRecord>): void;
  /** One core stream event, as it is sent to the client (live inspector). Must be cheap. */
  requestStreamEvent?(id: string, event: CoreStreamEvent, at: number): void;
  requestFinished(record: RequestRecord, texts?: RecordBodyTexts): void;
  /**
   * In place of requestFinished when the gateway can hold the answer (an observer that must make
   * the record durable before the client hears of it: the request log's journal). `answer` sends
   * the response; the observer calls it once, when the record is safe — at the latest at the end
   * of this turn of the event loop, so that the answers finished in one turn share one write.
   */
  requestFinishedBeforeAnswer?(record: RequestRecord, answer: () => void, texts?: RecordBodyTexts): void;
}

/**
 * A record's bodies as the JSON texts the gateway already holds (the client's body as it came,
 * the request sent upstream, the answer sent back): each parses to the value of the record's
 * body of the same name, so a log may keep the text instead of serialising the object again.
 */
export interface RecordBodyTexts {
  requestBody?: string;
  upstreamRequestBody?: string;
  responseBody?: string;
}

