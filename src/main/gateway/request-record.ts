/**
 * Builds the record of one client request as it goes (attribution headers, timings,
 * outcome) and hands it to the observers once the response is out.
 */
import type { FastifyRequest } from 'fastify';
import type { GatewayContext } from './context.js';
import type { GatewayError } from './errors.js';
import type { AttemptRecord, RequestRecord, RequestWarning, Usage } from './types.js';
import type { RecordBodyTexts } from '../core/record.js';
import type { CoreStreamEvent } from '../core/types.js';
import { maskSecret } from '../secrets/secret-store.js';
import { conversationIdFromHeaders } from '../storage/conversation-id.js';
import { newRequestId } from './request-id.js';

const MAX_TAGS = 32;

/** Parses `x-tags: team:platform, feature:code-review` into key/value pairs. */
export function parseTags(header: string | string[] | undefined): Array<{ key: string; value: string }> {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  const tags: Array<{ key: string; value: string }> = [];
  for (const piece of text.split(',')) {
    const item = piece.trim();
    if (item.length === 0) continue;
    const colon = item.indexOf(':');
    const key = (colon === -1 ? item : item.slice(0, colon)).trim().slice(0, 100);
    const value = (colon === -1 ? '' : item.slice(colon + 1)).trim().slice(0, 200);
    if (key.length > 0) tags.push({ key, value });
    if (tags.length >= MAX_TAGS) break;
  }
  return tags;
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'x-provider-api-key', 'x-goog-api-key', 'x-switchyard-admin-token', 'proxy-authorization', 'cookie']);

/** The client's headers for the inspector, credentials masked (`Bearer sk-…abcd`). */
export function maskedHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const masked: Record<string, string> = {};
  // for…in, not Object.entries: no [name, value] array per header; own names only.
  for (const name in headers) {
    const raw = headers[name];
    if (raw === undefined || !Object.hasOwn(headers, name)) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : String(raw);
    if (!SECRET_HEADERS.has(name)) masked[name] = value.slice(0, 500);
    else {
      const bearer = /^(Bearer\s+)(.+)$/i.exec(value);
      masked[name] = bearer ? `${bearer[1]}${maskSecret(bearer[2]!)}` : maskSecret(value);
    }
  }
  return masked;
}

function headerString(value: string | string[] | undefined): string | null {
  if (typeof value === 'string' && value.length > 0) return value.slice(0, 200);
  return null;
}

/**
 * The session an Anthropic-format client names in `metadata.user_id`: Claude Code sends
 * `user_<hash>_account_<uuid>_session_<uuid>`, or (newer versions) a JSON object with `session_id`.
 */
export function sessionFromMetadata(metadata: unknown): string | null {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const userId = (metadata as { user_id?: unknown }).user_id;
  if (typeof userId !== 'string' || userId.length === 0) return null;
  if (userId.startsWith('{')) {
    try {
      const parsed = JSON.parse(userId) as { session_id?: unknown };
      if (typeof parsed.session_id === 'string' && parsed.session_id.length > 0) return parsed.session_id.slice(0, 200);
    } catch {
      // not JSON after all
    }
    return null;
  }
  const match = /_session_([A-Za-z0-9-]{8,100})$/.exec(userId);
  return match ? match[1]! : null;
}

export class RequestRecorder {
  readonly record: RequestRecord;
  private readonly headers: FastifyRequest['headers'];

  constructor(
    private readonly context: GatewayContext,
    request: FastifyRequest,
    endpoint: string,
  ) {
    const headers = request.headers;
    this.headers = headers;
    const keyTags = request.gatewayKey?.tags ?? [];
    const requestTags = [...parseTags(headers['x-tags']), ...parseTags(headers['x-switchyard-tags'])];
    const tags = keyTags.length === 0 ? requestTags : [...keyTags.filter((tag) => !requestTags.some((own) => own.key === tag.key)), ...requestTags];
    this.record = {
      id: newRequestId(),
      startedAt: Date.now(),
      endedAt: 0,
      endpoint,
      requestedModel: null,
      resolvedModel: null,
      provider: null,
      status: 'success',
      httpStatus: 200,
      errorType: null,
      errorMessage: null,
      stream: false,
      usage: null,
      timeToFirstTokenMs: null,
      latencyMs: 0,
      attempts: 0,
      finishReason: null,
      gatewayKeyId: request.gatewayKey?.id ?? null,
      user: headerString(headers['x-user-id']),
      // Claude Code and Codex name their sessions in headers of their own.
      conversationId: conversationIdFromHeaders(headers),
      tags,
      requestBody: null,
      upstreamRequestBody: null,
      responseBody: null,
      warnings: [],
    };
  }

  get id(): string {
    return this.record.id;
  }

  /** The bodies' JSON texts where they are in hand (see RecordBodyTexts); null when none is. */
  private texts: RecordBodyTexts | null = null;

  /** `text`: the JSON text `body` was parsed from, when nothing changed the body since. */
  started(body: { model?: unknown; stream?: unknown; user?: unknown; metadata?: unknown }, text?: string | null): void {
    const record = this.record;
    record.requestBody = body;
    if (typeof text === 'string') (this.texts ??= {}).requestBody = text;
    record.requestedModel = typeof body.model === 'string' ? body.model : null;
    record.stream = body.stream === true;
    if (record.user === null && typeof body.user === 'string' && body.user.length > 0) record.user = body.user.slice(0, 200);
    if (record.conversationId === null) record.conversationId = sessionFromMetadata(body.metadata);
    let headers: Record<string, string> | null = null;
    for (const observer of this.context.observers) {
      if (!observer.requestStarted) continue;
      headers ??= maskedHeaders(this.headers);
      observer.requestStarted({
        id: record.id,
        startedAt: record.startedAt,
        endpoint: record.endpoint,
        requestedModel: record.requestedModel,
        stream: record.stream,
        tags: record.tags,
        gatewayKeyId: record.gatewayKeyId,
        user: record.user,
        conversationId: record.conversationId,
        headers,
      });
    }
  }

  /**
   * Hands one core stream event to the observers that watch streams (the live inspector).
   * `at`: when it arrived — the events of one upstream read arrived together, so the caller
   * reads the clock once per read instead of once per event and observer.
   */
  streamEvent(event: CoreStreamEvent, at?: number): void {
    for (const observer of this.context.observers) observer.requestStreamEvent?.(this.record.id, event, at ?? Date.now());
  }

  /** `upstreamText`: the upstream body serialised, as it was sent. */
  routed(provider: string, model: string, upstreamBody: unknown, warnings: RequestWarning[], upstreamText?: string): void {
    this.record.provider = provider;
    this.record.resolvedModel = model;
    this.record.upstreamRequestBody = upstreamBody;
    // A retry prepares again: a text left from another attempt would not be this body's.
    if (typeof upstreamText === 'string') (this.texts ??= {}).upstreamRequestBody = upstreamText;
    else if (this.texts) delete this.texts.upstreamRequestBody;
    this.record.attempts += 1;
    // A retry or a fallback prepares again: each warning is recorded once.
    for (const warning of warnings) {
      if (!this.record.warnings.some((known) => known.message === warning.message && known.parameter === warning.parameter)) this.record.warnings.push(warning);
    }
    for (const observer of this.context.observers) observer.requestRouted?.(this.record);
  }

  /** The attempt trail (the loop keeps filling in the last attempt until the record finishes). */
  attemptTrail(attempts: AttemptRecord[]): void {
    this.record.attemptsDetail = attempts;
  }

  /** The id the answer can be referred to by later (set by a format that keeps responses). */
  responseIdOf: ((responseBody: unknown) => string | null) | null = null;

  /**
   * The request succeeded. `answer`, when given, sends the response: it is called once every
   * observer that must see the record first (the request log's journal) is done, possibly
   * later in this turn of the event loop; without it the caller answers after this returns.
   */
  succeeded(outcome: { usage: Usage | null; finishReason: string | null; responseBody: unknown; responseText?: string; firstContentAt?: number | null }, answer?: () => void): void {
    if (this.responseIdOf) this.record.responseId = this.responseIdOf(outcome.responseBody);
    this.record.usage = outcome.usage;
    this.record.finishReason = outcome.finishReason;
    this.record.responseBody = outcome.responseBody;
    if (outcome.responseText !== undefined) (this.texts ??= {}).responseBody = outcome.responseText;
    if (outcome.firstContentAt) this.record.timeToFirstTokenMs = outcome.firstContentAt - this.record.startedAt;
    this.finish(answer);
  }

  /** `partial.retrievable`: its response body is a failed response the client was given the id of, kept for later reference. */
  failed(error: GatewayError, partial?: { usage?: Usage | null; responseBody?: unknown; firstContentAt?: number | null; retrievable?: boolean }): void {
    const record = this.record;
    if (partial?.retrievable && this.responseIdOf) record.responseId = this.responseIdOf(partial.responseBody);
    record.status = error.status === 499 ? 'cancelled' : 'error';
    record.httpStatus = error.status;
    record.errorType = error.type;
    record.errorMessage = error.message;
    if (partial?.usage) record.usage = partial.usage;
    if (partial?.responseBody !== undefined) record.responseBody = partial.responseBody;
    if (this.texts) delete this.texts.responseBody;
    if (partial?.firstContentAt) record.timeToFirstTokenMs = partial.firstContentAt - record.startedAt;
    this.finish();
  }

  /** Called once the record is final, after the observers (the pipeline's policies). */
  onFinish: ((record: RequestRecord) => void) | null = null;

  private finish(answer?: () => void): void {
    const record = this.record;
    const texts = this.texts ?? undefined;
    record.endedAt = Date.now();
    record.latencyMs = record.endedAt - record.startedAt;
    // The answer goes once every observer holding it has let go, and never twice.
    let holders = 1;
    const release = answer
      ? (): void => {
          holders -= 1;
          if (holders === 0) answer();
        }
      : null;
    for (const observer of this.context.observers) {
      if (release && observer.requestFinishedBeforeAnswer) {
        holders += 1;
        let released = false;
        try {
          observer.requestFinishedBeforeAnswer(
            record,
            () => {
              if (released) return;
              released = true;
              release();
            },
            texts,
          );
        } catch {
          // An observer's failure must never affect the response: it holds it no longer.
          if (!released) {
            released = true;
            release();
          }
        }
        continue;
      }
      try {
        observer.requestFinished(record, texts);
      } catch {
        // An observer's failure must never affect the response.
      }
    }
    this.onFinish?.(record);
    release?.();
  }
}
