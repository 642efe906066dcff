/**
 * The inspector's live view: a RequestObserver on the gateway that turns request starts,
 * routing, stream events and finishes into `request.*` events, keeps the requests in
 * flight, and remembers for recent requests what the log does not store (the client's
 * masked headers and the stream's events with their timing). Streaming updates are
 * throttled per request so a burst of traffic cannot flood the window.
 */
import type { RequestSummary, StreamEventView } from '../../shared/contract.js';
import type { RequestObserver, RequestStart } from '../gateway/context.js';
import type { RequestRecord, Usage } from '../gateway/types.js';
import type { CoreStreamEvent } from '../core/types.js';
import type { PriceBook } from '../pricing/catalog.js';
import { costOfRecord } from '../storage/record-cost.js';
import type { EventHub } from './event-hub.js';
import { compactStream, expandStream, type FinishedStream } from './finished-stream.js';

/**
 * One request as the tracker keeps it. Nothing per request is built for a window that is not
 * there: the summary is worked out when it is asked for (or a window listens) from what the
 * gateway handed over — the start, the record as routed (the recorder's own, still being
 * filled in), the stream's progress, the finished record — and kept once the finished record
 * is let go.
 */
interface LiveEntry {
  /** The start as the gateway announced it (null for a request refused before it started). */
  start: RequestStart | null;
  /** The record as routed: provider, resolved model, attempts and warnings so far. */
  routed: Readonly<RequestRecord> | null;
  /** The finished summary, once worked out (see `summaryOf`). */
  summary: RequestSummary | null;
  finished: boolean;
  /** A running stream's events as they went by (described only when the inspector asks), their offsets beside them; null until the first. */
  streamEvents: CoreStreamEvent[] | null;
  /** Milliseconds from the request's start to each of streamEvents. */
  streamOffsets: number[] | null;
  /** A finished stream's events, compacted (see finished-stream.ts): a finished request is kept long after it ended. */
  finishedStream: FinishedStream | null;
  /** Its stream's events were let go (it finished unwatched and left the last maximumStreamsKept). */
  streamLetGo: boolean;
  outputCharacters: number;
  /** Milliseconds from the start to the first streamed content (null until then). */
  firstTokenMs: number | null;
  lastEmittedAt: number;
  pendingTimer: NodeJS.Timeout | null;
  /** The finished record, kept briefly until the writer has stored it. */
  record: RequestRecord | null;
}

/** What a request's summary is while it runs. */
function runningSummary(entry: LiveEntry, start: RequestStart): RequestSummary {
  const routed = entry.routed;
  const streaming = entry.firstTokenMs !== null;
  return {
    id: start.id,
    startedAt: start.startedAt,
    endedAt: null,
    endpoint: start.endpoint,
    requestedModel: start.requestedModel,
    resolvedModel: routed?.resolvedModel ?? null,
    provider: routed?.provider ?? null,
    status: streaming ? 'streaming' : 'pending',
    httpStatus: null,
    stream: start.stream,
    inputTokens: 0,
    cachedInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    // About four characters per token: a live estimate until the provider's usage arrives.
    liveOutputTokens: start.stream ? Math.ceil(entry.outputCharacters / 4) : null,
    costNanoUsd: null,
    priced: false,
    usageEstimated: false,
    latencyMs: null,
    timeToFirstTokenMs: entry.firstTokenMs,
    attempts: routed?.attempts ?? 0,
    tags: start.tags,
    gatewayKeyId: start.gatewayKeyId,
    user: start.user,
    conversationId: start.conversationId,
    errorMessage: null,
    errorType: null,
    cacheHit: false,
    warningCount: routed?.warnings.length ?? 0,
  };
}

export interface LiveRequestTrackerOptions {
  events: EventHub;
  priceBook: () => PriceBook;
  /** Finished requests remembered (headers and stream events), default 500. */
  maximumKept?: number;
  /**
   * Finished streams whose events are kept when no window was listening as they finished, default
   * 20: the last few, for a window opened after them. A stream finished while a window listened
   * keeps its events as long as its request is remembered (maximumKept). Kept for 500 requests,
   * every stream's events outlived the event loop's young-generation collections (promoted, then
   * collected again by the old generation's): keeping 20, a headless gateway under load serves
   * 6–12 % more streams (docs/benchmarks.md, thirteenth session).
   */
  maximumStreamsKept?: number;
  /**
   * Finished requests whose whole record (bodies) is kept until stored, default 4: the writer
   * stores a record within its flush interval (50 ms), which at a person's or an agent's pace
   * is a handful of requests; a window listening has each one from its `request.finished`
   * anyway. Every record kept longer outlives the event loop's young-generation collections
   * with its bodies' objects (20 cost ~17 k instructions per request in GC at 10 connections).
   */
  maximumRecordsKept?: number;
  maximumStreamEvents?: number;
  /** Minimum time between two `request.updated` events of one request, default 125 ms. */
  updateIntervalMs?: number;
}

const SUMMARY_LENGTH = 160;

function shorten(text: string): string {
  return text.length > SUMMARY_LENGTH ? `${text.slice(0, SUMMARY_LENGTH - 1)}…` : text;
}

/** What the tracker remembers of one block of a stream. */
export interface StreamBlock {
  kind: string;
  /** Tool calls: the call's position in its answer, its name and id. */
  index?: number;
  name?: string;
  callId?: string;
}

/**
 * The inspector's name for a core stream event: a delta is named by its block's kind
 * (`text-delta`, `reasoning-delta`, `tool-call-delta` …), a block's start and end likewise.
 */
export function streamEventType(event: CoreStreamEvent, block: StreamBlock | undefined): string {
  switch (event.type) {
    case 'response-start':
      return 'start';
    case 'block-start':
      return `${event.block.kind}-start`;
    case 'block-delta':
      return `${block?.kind ?? 'text'}-delta`;
    case 'block-end':
      return `${block?.kind ?? 'block'}-end`;
    default:
      return event.type;
  }
}

function count(value: number | null): string {
  return value === null ? '?' : String(value);
}

export function describeStreamEvent(event: CoreStreamEvent, block?: StreamBlock): string {
  switch (event.type) {
    case 'response-start':
      return event.model;
    case 'block-start': {
      const start = event.block;
      if (start.kind === 'tool-call') return `#${block?.index ?? 0} ${start.name} (${start.callId})`;
      if (start.kind === 'reasoning' && start.redacted) return 'redacted';
      return start.kind === 'native' ? start.nativeKind : start.kind;
    }
    case 'block-delta':
      if (event.inputDelta !== undefined) return `#${block?.index ?? 0} ${shorten(event.inputDelta)}`;
      return shorten(JSON.stringify(event.text ?? ''));
    case 'block-end':
      return event.providerData ? (event.providerData.data.signature !== undefined ? 'signature' : `${event.providerData.family} state`) : 'end';
    case 'finish':
      return event.finish.raw ? `${event.finish.unified} (${event.finish.raw})` : event.finish.unified;
    case 'usage':
      return `in ${count(event.usage.inputTokens)} · out ${count(event.usage.outputTokens)}`;
    case 'error':
      return `${event.error.status} ${shorten(event.error.message)}`;
  }
}

/** A stream's events as the inspector shows them, each delta and end named by the block it belongs to (events in the order they went by). */
export function describeStreamEvents(events: readonly CoreStreamEvent[], offsets: readonly number[]): StreamEventView[] {
  const blocks = new Map<string, StreamBlock>();
  let toolCalls = 0;
  return events.map((event, index) => {
    let block: StreamBlock | undefined;
    if (event.type === 'block-start') {
      const start = event.block;
      block = start.kind === 'tool-call' ? { kind: start.kind, index: toolCalls++, name: start.name, callId: start.callId } : { kind: start.kind };
      blocks.set(start.id, block);
    } else if (event.type === 'block-delta' || event.type === 'block-end') {
      block = blocks.get(event.id);
    }
    return { offsetMs: offsets[index] ?? 0, type: streamEventType(event, block), summary: describeStreamEvent(event, block) };
  });
}

/** Cost of a finished record exactly as the writer will store it (null when unpriced). */
export function costOf(record: RequestRecord, priceBook: PriceBook): { costNanoUsd: number | null; priced: boolean; usageEstimated: boolean; usage: Usage } {
  const cost = costOfRecord(record, priceBook);
  return { costNanoUsd: cost.priced ? cost.costNanoUsd : null, priced: cost.priced, usageEstimated: cost.usageEstimated, usage: cost.usage };
}

export function summaryOfRecord(record: RequestRecord, priceBook: PriceBook): RequestSummary {
  const { costNanoUsd, priced, usageEstimated, usage } = costOf(record, priceBook);
  return {
    id: record.id,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    endpoint: record.endpoint,
    requestedModel: record.requestedModel,
    resolvedModel: record.resolvedModel,
    provider: record.provider,
    status: record.status,
    httpStatus: record.httpStatus,
    stream: record.stream,
    inputTokens: usage.inputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    liveOutputTokens: null,
    costNanoUsd,
    priced,
    usageEstimated,
    latencyMs: record.latencyMs,
    timeToFirstTokenMs: record.timeToFirstTokenMs,
    attempts: record.attempts,
    tags: record.tags,
    gatewayKeyId: record.gatewayKeyId,
    user: record.user,
    conversationId: record.conversationId,
    errorMessage: record.errorMessage,
    errorType: record.errorType,
    cacheHit: record.cacheHit === true,
    warningCount: record.warnings.length,
  };
}

export class LiveRequestTracker implements RequestObserver {
  private readonly entries = new Map<string, LiveEntry>();
  private readonly finishedOrder: string[] = [];
  private readonly maximumKept: number;
  private readonly maximumRecordsKept: number;
  private readonly maximumStreamsKept: number;
  private readonly maximumStreamEvents: number;
  private readonly updateIntervalMs: number;
  private inFlightCount = 0;

  constructor(private readonly options: LiveRequestTrackerOptions) {
    this.maximumKept = options.maximumKept ?? 500;
    this.maximumRecordsKept = options.maximumRecordsKept ?? 4;
    this.maximumStreamsKept = options.maximumStreamsKept ?? 20;
    this.maximumStreamEvents = options.maximumStreamEvents ?? 2000;
    this.updateIntervalMs = options.updateIntervalMs ?? 125;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** The request's summary now: worked out from what the entry holds (the finished one kept once made). */
  private summaryOf(entry: LiveEntry): RequestSummary {
    if (entry.summary) return entry.summary;
    if (entry.record) return (entry.summary = summaryOfRecord(entry.record, this.options.priceBook()));
    // Only an entry that has not finished has no summary nor record.
    return runningSummary(entry, entry.start!);
  }

  requestStarted(start: RequestStart): void {
    const entry: LiveEntry = {
      start,
      routed: null,
      summary: null,
      finished: false,
      streamEvents: null,
      streamOffsets: null,
      finishedStream: null,
      streamLetGo: false,
      outputCharacters: 0,
      firstTokenMs: null,
      lastEmittedAt: 0,
      pendingTimer: null,
      record: null,
    };
    this.entries.set(start.id, entry);
    this.inFlightCount += 1;
    // A summary for the window only when one is listening (none under a headless load).
    if (this.options.events.listenerCount > 0) this.options.events.emit('request.started', this.summaryOf(entry));
  }

  requestRouted(record: Readonly<RequestRecord>): void {
    const entry = this.entries.get(record.id);
    if (!entry || entry.finished) return;
    entry.routed = record;
    this.emitUpdate(entry, true);
  }

  requestStreamEvent(id: string, event: CoreStreamEvent, at: number): void {
    const entry = this.entries.get(id);
    // Finished (its record may be gone already): a late event changes nothing.
    if (!entry || entry.finished) return;
    // What each event's block is (its kind, a tool call's position) is worked out when the inspector asks.
    const events = (entry.streamEvents ??= []);
    if (events.length < this.maximumStreamEvents) {
      events.push(event);
      (entry.streamOffsets ??= []).push(at - (entry.start?.startedAt ?? at));
    }
    let progressed = false;
    if (event.type === 'block-delta') {
      entry.outputCharacters += (event.text ?? event.inputDelta ?? '').length;
      progressed = true;
    } else if (event.type === 'block-start' && event.block.kind === 'tool-call') {
      entry.outputCharacters += event.block.name.length;
      progressed = true;
    }
    if (!progressed) return;
    if (entry.firstTokenMs === null) entry.firstTokenMs = at - (entry.start?.startedAt ?? at);
    this.emitUpdate(entry, false);
  }

  requestFinished(record: RequestRecord): void {
    let entry = this.entries.get(record.id);
    if (!entry) {
      // Requests refused before they started (bad JSON, auth) were never announced.
      entry = { start: null, routed: null, summary: null, finished: true, streamEvents: null, streamOffsets: null, finishedStream: null, streamLetGo: false, outputCharacters: 0, firstTokenMs: null, lastEmittedAt: 0, pendingTimer: null, record: null };
      this.entries.set(record.id, entry);
    } else {
      this.inFlightCount = Math.max(0, this.inFlightCount - 1);
    }
    if (entry.pendingTimer) clearTimeout(entry.pendingTimer);
    entry.pendingTimer = null;
    entry.finished = true;
    entry.routed = null;
    entry.summary = null;
    entry.record = record;
    // A window listening: kept as long as the request, compacted now. Else as they are, until trim lets them go.
    if (entry.streamEvents && entry.streamEvents.length > 0 && this.options.events.listenerCount > 0) this.compactEvents(entry);
    this.finishedOrder.push(record.id);
    this.trim();
    if (this.options.events.listenerCount > 0) this.options.events.emit('request.finished', { ...this.summaryOf(entry) });
  }

  private emitUpdate(entry: LiveEntry, immediately: boolean): void {
    if (this.options.events.listenerCount === 0) return;
    const now = Date.now();
    const due = entry.lastEmittedAt + this.updateIntervalMs;
    if (immediately || now >= due) {
      if (entry.pendingTimer) clearTimeout(entry.pendingTimer);
      entry.pendingTimer = null;
      entry.lastEmittedAt = now;
      this.options.events.emit('request.updated', this.summaryOf(entry));
      return;
    }
    if (entry.pendingTimer) return;
    entry.pendingTimer = setTimeout(() => {
      entry.pendingTimer = null;
      if (entry.finished) return;
      entry.lastEmittedAt = Date.now();
      this.options.events.emit('request.updated', this.summaryOf(entry));
    }, due - now);
    entry.pendingTimer.unref();
  }

  private compactEvents(entry: LiveEntry): void {
    entry.finishedStream = compactStream(entry.streamEvents!);
    entry.streamEvents = null;
    // Without the spare room pushing left in it.
    entry.streamOffsets = entry.streamOffsets!.slice();
  }

  /** Runs once per finished request, so each entry leaves each window exactly once: O(1), not O(kept). */
  private trim(): void {
    while (this.finishedOrder.length > this.maximumKept) {
      const id = this.finishedOrder.shift();
      if (id) this.entries.delete(id);
    }
    const streamLeaving = this.finishedOrder.length - this.maximumStreamsKept - 1;
    if (streamLeaving >= 0) {
      const entry = this.entries.get(this.finishedOrder[streamLeaving] as string);
      if (entry?.streamEvents) {
        // Watched since it finished (a window opened meanwhile): kept, compacted. Else let go.
        if (this.options.events.listenerCount > 0) this.compactEvents(entry);
        else {
          entry.streamEvents = null;
          entry.streamOffsets = null;
          entry.streamLetGo = true;
        }
      }
    }
    const leaving = this.finishedOrder.length - this.maximumRecordsKept - 1;
    if (leaving >= 0) {
      const entry = this.entries.get(this.finishedOrder[leaving] as string);
      if (entry?.record) {
        // Its summary outlives it (for a request the log has not stored yet).
        this.summaryOf(entry);
        entry.record = null;
      }
    }
  }

  /** Requests still running, newest first. */
  inFlightSummaries(): RequestSummary[] {
    const running: RequestSummary[] = [];
    for (const entry of this.entries.values()) if (!entry.finished) running.push(this.summaryOf(entry));
    return running.sort((left, right) => right.startedAt - left.startedAt);
  }

  /**
   * Finished requests remembered here, newest first, as summaries: the log may not have stored
   * them yet (its writer commits within its flush interval, and under load many finish in that
   * time), while only the most recent few keep their record (maximumRecordsKept).
   */
  finishedSummaries(): RequestSummary[] {
    const finished: RequestSummary[] = [];
    for (const entry of this.entries.values()) if (entry.finished) finished.push({ ...this.summaryOf(entry) });
    return finished.sort((left, right) => right.startedAt - left.startedAt);
  }

  summary(id: string): RequestSummary | null {
    const entry = this.entries.get(id);
    return entry ? { ...this.summaryOf(entry) } : null;
  }

  /** What only this run knows about a request: masked headers and stream events. */
  extras(id: string): { headers: Record<string, string> | null; streamEvents: StreamEventView[] | null; record: RequestRecord | null } | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const headers = entry.start?.headers;
    const stream = entry.record?.stream ?? entry.summary?.stream ?? entry.start?.stream ?? false;
    return {
      headers: headers && Object.keys(headers).length > 0 ? headers : null,
      streamEvents: stream && !entry.streamLetGo ? describeStreamEvents(entry.finishedStream ? expandStream(entry.finishedStream) : (entry.streamEvents ?? []), entry.streamOffsets ?? []) : null,
      record: entry.record,
    };
  }
}
