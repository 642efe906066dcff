/** The inspector store: live rows arrive at the top, settle in place, respect filters and pause, and load older pages. */
import { describe, expect, it } from 'vitest';
import { applyRequestEvents, connectInspectorEvents, createInspectorStore } from '../../src/renderer/src/stores/inspector-store.js';
import { FakeClient } from './fake-client.js';
import { summary } from './request-summary-fixture.js';

describe('applyRequestEvents', () => {
  it('puts new requests on top, newest first, and counts them', () => {
    const result = applyRequestEvents(
      ['old'],
      { old: summary({ id: 'old', startedAt: 1 }) },
      [
        { kind: 'started', summary: summary({ id: 'a', startedAt: 5, endedAt: null, status: 'pending' }) },
        { kind: 'started', summary: summary({ id: 'b', startedAt: 6, endedAt: null, status: 'pending' }) },
      ],
      {},
    );
    expect(result.order).toEqual(['b', 'a', 'old']);
    expect(result.prepended).toBe(2);
  });

  it('updates rows in place and never lets a late update undo a finish', () => {
    const finished = summary({ id: 'a', status: 'success' });
    const result = applyRequestEvents(['a'], { a: finished }, [{ kind: 'updated', summary: summary({ id: 'a', endedAt: null, status: 'streaming' }) }], {});
    expect(result.rows.a?.status).toBe('success');
    expect(result.prepended).toBe(0);
  });

  it('skips requests the filters exclude and caps the list', () => {
    const events = Array.from({ length: 5 }, (_unused, index) => ({ kind: 'finished' as const, summary: summary({ id: `r${index}`, startedAt: index, provider: index % 2 ? 'anthropic' : 'openai' }) }));
    const filtered = applyRequestEvents([], {}, events, { provider: ['anthropic'] });
    expect(filtered.order).toEqual(['r3', 'r1']);
    const capped = applyRequestEvents([], {}, events, {}, 3);
    expect(capped.order).toEqual(['r4', 'r3', 'r2']);
    expect(Object.keys(capped.rows)).toHaveLength(3);
  });
});

describe('the inspector store', () => {
  it('loads, applies live events in one batch, holds new rows while paused', async () => {
    const client = new FakeClient({ 'requests.list': () => ({ items: [summary({ id: 'stored', startedAt: 1 })], hasMore: false }) });
    const store = createInspectorStore(client);
    await store.getState().load();
    let flush: (() => void) | null = null;
    connectInspectorEvents(client, store, (callback) => (flush = callback));
    client.emit('request.started', summary({ id: 'live', startedAt: 10, endedAt: null, status: 'pending' }));
    client.emit('request.updated', summary({ id: 'live', startedAt: 10, endedAt: null, status: 'streaming', liveOutputTokens: 7 }));
    expect(store.getState().order).toEqual(['stored']);
    flush!();
    expect(store.getState().order).toEqual(['live', 'stored']);
    expect(store.getState().rows.live?.liveOutputTokens).toBe(7);

    store.getState().setPaused(true);
    store.getState().applyEvents([
      { kind: 'finished', summary: summary({ id: 'live', startedAt: 10 }) },
      { kind: 'started', summary: summary({ id: 'later', startedAt: 20, endedAt: null, status: 'pending' }) },
    ]);
    expect(store.getState().rows.live?.status).toBe('success');
    expect(store.getState().order).toEqual(['live', 'stored']);
    expect(store.getState().held).toHaveLength(1);
    store.getState().setPaused(false);
    expect(store.getState().order).toEqual(['later', 'live', 'stored']);
  });

  it('reloads with the filters and loads older pages by start time', async () => {
    const client = new FakeClient({
      'requests.list': (input) =>
        input.before === undefined
          ? { items: [summary({ id: 'b', startedAt: 20 })], hasMore: true }
          : { items: [summary({ id: 'a', startedAt: 10 })], hasMore: false },
    });
    const store = createInspectorStore(client);
    store.getState().setFilters({ model: ['gpt-4.1-mini'] });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(client.calls[0]).toMatchObject({ name: 'requests.list', input: { filters: { model: ['gpt-4.1-mini'] } } });
    await store.getState().loadOlder();
    expect(client.calls[1]).toMatchObject({ input: { before: 20 } });
    expect(store.getState().order).toEqual(['b', 'a']);
    expect(store.getState().hasMore).toBe(false);
  });

  it('selects a request and refreshes its detail when it finishes', async () => {
    let finished = false;
    const client = new FakeClient({
      'requests.get': ({ id }) => ({ ...summary({ id, status: finished ? 'success' : 'streaming' }), finishReason: null, traceId: null, errorType: null, requestBody: {}, upstreamRequestBody: {}, responseBody: null, bodiesAvailable: true, warnings: [], attemptDetails: [], requestHeaders: null, streamEvents: [] }),
    });
    const store = createInspectorStore(client);
    store.getState().select('x');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().detail?.status).toBe('streaming');
    finished = true;
    store.getState().applyEvents([{ kind: 'finished', summary: summary({ id: 'x' }) }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().detail?.status).toBe('success');
  });

  it('shows an error a retry can clear', async () => {
    let fail = true;
    const client = new FakeClient({
      'requests.list': () => {
        if (fail) throw new Error('Switchyard is not reachable');
        return { items: [], hasMore: false };
      },
    });
    const store = createInspectorStore(client);
    await store.getState().load();
    expect(store.getState().error).toContain('not reachable');
    fail = false;
    await store.getState().load();
    expect(store.getState().error).toBeNull();
  });
});
