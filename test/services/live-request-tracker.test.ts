/** The inspector's live view: events per request, throttled streaming updates, in-flight count, what only this run keeps. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventName } from '../../src/shared/contract.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';
import type { CoreStreamEvent } from '../../src/main/core/types.js';
import { createPriceBook } from '../../src/main/pricing/catalog.js';
import { EventHub } from '../../src/main/services/event-hub.js';
import { LiveRequestTracker, describeStreamEvent } from '../../src/main/services/live-request-tracker.js';

function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 'request-1',
    startedAt: 1000,
    endedAt: 1500,
    endpoint: '/v1/chat/completions',
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    provider: 'openai',
    status: 'success',
    httpStatus: 200,
    errorType: null,
    errorMessage: null,
    stream: true,
    usage: { inputTokens: 1000, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 500, reasoningTokens: 0 },
    timeToFirstTokenMs: 100,
    latencyMs: 500,
    attempts: 1,
    finishReason: 'stop',
    gatewayKeyId: 'playground',
    user: null,
    conversationId: null,
    tags: [{ key: 'source', value: 'playground' }],
    requestBody: { model: 'gpt-4.1-mini' },
    upstreamRequestBody: { model: 'gpt-4.1-mini' },
    responseBody: null,
    warnings: [],
    ...overrides,
  };
}

function setup(updateIntervalMs = 125) {
  const events = new EventHub();
  const seen: Array<{ name: EventName; payload: any }> = [];
  events.subscribe((name, payload) => seen.push({ name, payload }));
  const tracker = new LiveRequestTracker({ events, priceBook: () => createPriceBook(), updateIntervalMs, maximumKept: 3, maximumRecordsKept: 1 });
  const start = (id: string) =>
    tracker.requestStarted({ id, startedAt: 1000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: true, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: { authorization: 'Bearer sy-…abcd' } });
  return { tracker, seen, start };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LiveRequestTracker', () => {
  it('with no window listening, still keeps what the inspector asks for later, and tells a window that subscribes afterwards', () => {
    const events = new EventHub();
    const tracker = new LiveRequestTracker({ events, priceBook: () => createPriceBook(), updateIntervalMs: 0 });
    tracker.requestStarted({ id: 'quiet', startedAt: 1000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: false, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: { 'x-tags': 'a:b' } });
    tracker.requestRouted(record({ id: 'quiet', endedAt: 0, stream: false }));
    expect(tracker.inFlightSummaries().map((summary) => [summary.id, summary.provider])).toEqual([['quiet', 'openai']]);
    tracker.requestFinished(record({ id: 'quiet', stream: false }));
    expect(tracker.inFlight).toBe(0);
    expect(tracker.summary('quiet')).toMatchObject({ status: 'success', inputTokens: 1000, outputTokens: 500, priced: true });
    expect(tracker.extras('quiet')?.headers).toEqual({ 'x-tags': 'a:b' });
    const seen: EventName[] = [];
    events.subscribe((name) => seen.push(name));
    tracker.requestStarted({ id: 'watched', startedAt: 2000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: false, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: {} });
    tracker.requestRouted(record({ id: 'watched', endedAt: 0, stream: false }));
    tracker.requestFinished(record({ id: 'watched', stream: false }));
    expect(seen).toEqual(['request.started', 'request.updated', 'request.finished']);
  });

  it('announces a start, routing, streaming progress and the finish with its cost', () => {
    const { tracker, seen, start } = setup(0);
    start('request-1');
    expect(tracker.inFlight).toBe(1);
    tracker.requestRouted(record({ endedAt: 0 }));
    tracker.requestStreamEvent('request-1', { type: 'block-start', block: { id: 'b0', kind: 'text' } }, 1100);
    tracker.requestStreamEvent('request-1', { type: 'block-delta', id: 'b0', text: 'Hello there, friend' }, 1100);
    tracker.requestFinished(record());
    expect(seen.map((event) => event.name)).toEqual(['request.started', 'request.updated', 'request.updated', 'request.finished']);
    const streaming = seen[2]!.payload;
    expect(streaming).toMatchObject({ status: 'streaming', liveOutputTokens: 5, timeToFirstTokenMs: 100 });
    const finished = seen[3]!.payload;
    expect(finished).toMatchObject({ status: 'success', priced: true, inputTokens: 1000, outputTokens: 500 });
    expect(finished.costNanoUsd).toBeGreaterThan(0);
    expect(tracker.inFlight).toBe(0);
    expect(tracker.extras('request-1')).toMatchObject({ headers: { authorization: 'Bearer sy-…abcd' }, streamEvents: [{ offsetMs: 100, type: 'text-start' }, { offsetMs: 100, type: 'text-delta' }] });
  });

  it('throttles streaming updates per request and sends the last one', () => {
    vi.useFakeTimers();
    vi.setSystemTime(10_000);
    const { tracker, seen, start } = setup(125);
    start('request-1');
    for (let index = 0; index < 50; index += 1) tracker.requestStreamEvent('request-1', { type: 'block-delta', id: 'b0', text: 'abcd' }, 10_000 + index);
    expect(seen.filter((event) => event.name === 'request.updated')).toHaveLength(1);
    vi.advanceTimersByTime(200);
    const updates = seen.filter((event) => event.name === 'request.updated');
    expect(updates).toHaveLength(2);
    expect(updates[1]!.payload.liveOutputTokens).toBe(50);
  });

  it('counts a refused request (never started) without touching the in-flight count', () => {
    const { tracker, seen } = setup();
    tracker.requestFinished(record({ id: 'refused', status: 'error', httpStatus: 401, usage: null, attempts: 0 }));
    expect(tracker.inFlight).toBe(0);
    // Nothing was billed: exactly $0, as the writer stores it (one cost function for both).
    expect(seen[0]).toMatchObject({ name: 'request.finished', payload: { id: 'refused', costNanoUsd: 0, priced: true, usageEstimated: false } });
  });

  it('shows an estimated cost, marked so, for a success whose upstream reported no usage, as the writer stores it', () => {
    const { tracker, seen } = setup();
    tracker.requestFinished(
      record({
        id: 'estimated',
        usage: null,
        attempts: 1,
        requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say something long enough to count.' }] },
        upstreamRequestBody: null,
        responseBody: { choices: [{ index: 0, message: { role: 'assistant', content: 'Here is a reply with several words in it.' }, finish_reason: 'stop' }] },
      }),
    );
    const payload = seen[0]!.payload as { usageEstimated: boolean; inputTokens: number; outputTokens: number; costNanoUsd: number | null };
    expect(payload.usageEstimated).toBe(true);
    expect(payload.inputTokens).toBeGreaterThan(0);
    expect(payload.outputTokens).toBeGreaterThan(0);
    expect(payload.costNanoUsd).toBeGreaterThan(0);
  });

  it('with no window listening, works nothing out per request: a summary is made when asked for, or once when the record is let go', () => {
    const events = new EventHub();
    const priceBook = vi.fn(() => createPriceBook());
    const tracker = new LiveRequestTracker({ events, priceBook, maximumKept: 10, maximumRecordsKept: 2 });
    const begin = (id: string) =>
      tracker.requestStarted({ id, startedAt: 1000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: false, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: { 'x-tags': id } });
    for (const id of ['a', 'b', 'c']) {
      begin(id);
      tracker.requestRouted(record({ id, endedAt: 0, stream: false }));
      tracker.requestFinished(record({ id, stream: false }));
    }
    // 'a' left the records kept: its summary was made then, from its record; 'b' and 'c' not yet.
    expect(priceBook).toHaveBeenCalledTimes(1);
    expect(['a', 'b', 'c'].map((id) => tracker.extras(id)?.record?.id ?? null)).toEqual([null, 'b', 'c']);
    expect(tracker.summary('a')).toMatchObject({ id: 'a', status: 'success', inputTokens: 1000, outputTokens: 500, priced: true });
    expect(tracker.summary('c')).toMatchObject({ id: 'c', status: 'success', inputTokens: 1000, priced: true });
    expect(priceBook).toHaveBeenCalledTimes(2);
    // Asked again: the summary made is kept.
    tracker.summary('c');
    expect(priceBook).toHaveBeenCalledTimes(2);
    expect(tracker.extras('a')).toMatchObject({ headers: { 'x-tags': 'a' }, streamEvents: null, record: null });
    // A running request's summary follows the record as routed.
    begin('d');
    const routed = record({ id: 'd', endedAt: 0, stream: false, provider: 'anthropic', attempts: 1 });
    tracker.requestRouted(routed);
    expect(tracker.inFlightSummaries()).toMatchObject([{ id: 'd', status: 'pending', provider: 'anthropic', attempts: 1, endedAt: null }]);
    routed.attempts = 2;
    expect(tracker.summary('d')).toMatchObject({ attempts: 2 });
    expect(priceBook).toHaveBeenCalledTimes(2);
  });

  it('keeps only the most recent requests and records', () => {
    const { tracker, start } = setup();
    for (const id of ['a', 'b', 'c', 'd']) {
      start(id);
      tracker.requestFinished(record({ id }));
    }
    expect(tracker.summary('a')).toBeNull();
    expect(['b', 'c', 'd'].map((id) => tracker.extras(id)?.record?.id ?? null)).toEqual([null, null, 'd']);
    expect(tracker.finishedSummaries().map((finished) => finished.id)).toEqual(['b', 'c', 'd']);
  });

  it("describes a stream's events the same while it runs and once it finished (kept compactly), each named by its block", () => {
    const { tracker, start } = setup(0);
    start('request-1');
    const events: CoreStreamEvent[] = [
      { type: 'response-start', id: 'chatcmpl-1', model: 'gpt-4.1-mini' },
      { type: 'block-start', block: { id: 'b0', kind: 'text' } },
      { type: 'block-delta', id: 'b0', text: 'Looking "that" up' },
      { type: 'block-end', id: 'b0' },
      { type: 'block-start', block: { id: 'b1', kind: 'tool-call', callId: 'call_a', name: 'weather', toolKind: 'function' } },
      { type: 'block-start', block: { id: 'b2', kind: 'tool-call', callId: 'call_b', name: 'time', toolKind: 'function' } },
      { type: 'block-delta', id: 'b2', inputDelta: '{"zone":' },
      { type: 'block-delta', id: 'b1', inputDelta: '{"city":"Paris"}' },
      { type: 'block-delta', id: 'b2', inputDelta: '"CET"}' },
      { type: 'block-end', id: 'b1' },
      { type: 'block-end', id: 'b2' },
      { type: 'finish', finish: { unified: 'tool-calls', raw: 'tool_calls' } },
      { type: 'usage', usage: { inputTokens: 3, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 9, reasoningTokens: 0 } },
    ];
    events.forEach((event, index) => tracker.requestStreamEvent('request-1', event, 1000 + index * 10));
    const expected = [
      { offsetMs: 0, type: 'start', summary: 'gpt-4.1-mini' },
      { offsetMs: 10, type: 'text-start', summary: 'text' },
      { offsetMs: 20, type: 'text-delta', summary: '"Looking \\"that\\" up"' },
      { offsetMs: 30, type: 'text-end', summary: 'end' },
      { offsetMs: 40, type: 'tool-call-start', summary: '#0 weather (call_a)' },
      { offsetMs: 50, type: 'tool-call-start', summary: '#1 time (call_b)' },
      { offsetMs: 60, type: 'tool-call-delta', summary: '#1 {"zone":' },
      { offsetMs: 70, type: 'tool-call-delta', summary: '#0 {"city":"Paris"}' },
      { offsetMs: 80, type: 'tool-call-delta', summary: '#1 "CET"}' },
      { offsetMs: 90, type: 'tool-call-end', summary: 'end' },
      { offsetMs: 100, type: 'tool-call-end', summary: 'end' },
      { offsetMs: 110, type: 'finish', summary: 'tool-calls (tool_calls)' },
      { offsetMs: 120, type: 'usage', summary: 'in 3 · out 9' },
    ];
    expect(tracker.extras('request-1')?.streamEvents).toEqual(expected);
    tracker.requestFinished(record());
    expect(tracker.extras('request-1')?.streamEvents).toEqual(expected);
    // Events after the finish (a late upstream read) change nothing.
    tracker.requestStreamEvent('request-1', { type: 'block-delta', id: 'b0', text: 'late' }, 2000);
    expect(tracker.extras('request-1')?.streamEvents).toEqual(expected);
    // Nor once its record is no longer held (one record is kept here).
    for (const id of ['x1', 'x2']) {
      start(id);
      tracker.requestFinished(record({ id }));
    }
    expect(tracker.extras('request-1')?.record).toBeNull();
    tracker.requestStreamEvent('request-1', { type: 'block-delta', id: 'b0', text: 'later' }, 3000);
    expect(tracker.extras('request-1')?.streamEvents).toEqual(expected);
    expect(tracker.summary('request-1')?.status).toBe('success');
  });

  it("keeps at most maximumStreamEvents of a stream's events, the first ones, before and after it finished", () => {
    const tracker = new LiveRequestTracker({ events: new EventHub(), priceBook: () => createPriceBook(), maximumStreamEvents: 3 });
    tracker.requestStarted({ id: 'long', startedAt: 1000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: true, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: {} });
    tracker.requestStreamEvent('long', { type: 'block-start', block: { id: 'b0', kind: 'reasoning' } }, 1001);
    for (let index = 0; index < 10; index += 1) tracker.requestStreamEvent('long', { type: 'block-delta', id: 'b0', text: `step ${index}` }, 1002 + index);
    const running = tracker.extras('long')?.streamEvents;
    expect(running?.map((event) => [event.offsetMs, event.type, event.summary])).toEqual([
      [1, 'reasoning-start', 'reasoning'],
      [2, 'reasoning-delta', '"step 0"'],
      [3, 'reasoning-delta', '"step 1"'],
    ]);
    // The progress still counts every delta.
    expect(tracker.summary('long')?.liveOutputTokens).toBe(Math.ceil(('step 0'.length * 10) / 4));
    tracker.requestFinished(record({ id: 'long' }));
    expect(tracker.extras('long')?.streamEvents).toEqual(running);
  });

  it("with no window listening, keeps a finished stream's events for the last maximumStreamsKept requests; those finished while one listened, as long as the request", () => {
    const events = new EventHub();
    const tracker = new LiveRequestTracker({ events, priceBook: () => createPriceBook(), maximumKept: 10, maximumStreamsKept: 2 });
    const stream = (id: string) => {
      tracker.requestStarted({ id, startedAt: 1000, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: true, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: { 'x-id': id } });
      tracker.requestStreamEvent(id, { type: 'block-start', block: { id: 'b0', kind: 'text' } }, 1001);
      tracker.requestStreamEvent(id, { type: 'block-delta', id: 'b0', text: `hello ${id}` }, 1002);
      tracker.requestFinished(record({ id }));
    };
    const kept = (id: string) => tracker.extras(id)?.streamEvents?.map((event) => `${event.offsetMs} ${event.summary}`) ?? null;
    for (const id of ['u1', 'u2', 'u3']) stream(id);
    // u1 left the last two unwatched: its events are let go; its headers and summary stay.
    expect(kept('u1')).toBeNull();
    expect(tracker.extras('u1')?.headers).toEqual({ 'x-id': 'u1' });
    expect(tracker.summary('u1')?.status).toBe('success');
    expect(['u2', 'u3'].map(kept)).toEqual([['1 text', '2 "hello u2"'], ['1 text', '2 "hello u3"']]);
    // A window opens: the streams still kept stay, and those finished while it listens are kept as long as their request.
    const unsubscribe = events.subscribe(() => undefined);
    for (const id of ['w1', 'w2', 'w3', 'w4']) stream(id);
    unsubscribe();
    for (const id of ['v1', 'v2', 'v3']) stream(id);
    expect(['u1', 'u2', 'u3', 'w1', 'w2', 'w3', 'w4', 'v1', 'v2', 'v3'].map((id) => kept(id)?.[1] ?? null)).toEqual([
      null, '2 "hello u2"', '2 "hello u3"', '2 "hello w1"', '2 "hello w2"', '2 "hello w3"', '2 "hello w4"', null, '2 "hello v2"', '2 "hello v3"',
    ]);
  });

  it('describes stream events briefly', () => {
    expect(describeStreamEvent({ type: 'block-start', block: { id: 'b1', kind: 'tool-call', callId: 'call_1', name: 'weather', toolKind: 'function' } }, { kind: 'tool-call', index: 0 })).toBe('#0 weather (call_1)');
    expect(describeStreamEvent({ type: 'finish', finish: { unified: 'stop', raw: 'end_turn' } })).toBe('stop (end_turn)');
    expect(describeStreamEvent({ type: 'block-delta', id: 'b0', text: 'x'.repeat(500) }).length).toBeLessThanOrEqual(160);
    expect(describeStreamEvent({ type: 'usage', usage: { inputTokens: 3, cachedInputTokens: null, cacheWriteInputTokens: null, outputTokens: null, reasoningTokens: null } })).toBe('in 3 · out ?');
  });
});
