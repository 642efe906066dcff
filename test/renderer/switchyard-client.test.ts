/** The contract client: the HTTP transport (token from the fragment, operations, errors, SSE events) and the IPC one. */
import { describe, expect, it } from 'vitest';
import { HttpClient, readAdminToken, ADMIN_TOKEN_HEADER } from '../../src/renderer/src/client/http-client.js';
import { IpcClient, unwrapIpcError } from '../../src/renderer/src/client/ipc-client.js';
import { SseParser } from '../../src/renderer/src/client/sse-parser.js';
import type { SwitchyardBridge } from '../../src/shared/contract.js';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

describe('readAdminToken', () => {
  it('takes the token from the fragment once, keeps it for reloads and removes it from the address', () => {
    const storage = memoryStorage();
    let hash = '#token=abc%2Fdef&x=1';
    expect(readAdminToken({ hash, replaceHash: (next) => (hash = next), storage })).toBe('abc/def');
    expect(hash).toBe('#x=1');
    expect(readAdminToken({ hash: '', replaceHash: () => undefined, storage })).toBe('abc/def');
    expect(readAdminToken({ hash: '', replaceHash: () => undefined, storage: memoryStorage() })).toBeNull();
  });
});

describe('HttpClient', () => {
  it('posts the input as JSON with the token and returns the output', async () => {
    const requests: Array<{ url: string; init: RequestInit }> = [];
    const fetchStub = (async (url: string, init: RequestInit) => {
      requests.push({ url, init });
      return new Response(JSON.stringify({ running: true }), { status: 200 });
    }) as unknown as typeof fetch;
    const client = new HttpClient({ baseUrl: 'http://127.0.0.1:1', token: 'secret-token', fetch: fetchStub, connectEvents: false });
    expect(await client.call('gateway.status', undefined)).toEqual({ running: true });
    expect(requests[0]?.url).toBe('http://127.0.0.1:1/admin/api/gateway.status');
    expect((requests[0]?.init.headers as Record<string, string>)[ADMIN_TOKEN_HEADER]).toBe('secret-token');
    expect(requests[0]?.init.body).toBe('null');
  });

  it('turns failures into errors with the server\'s message', async () => {
    const failing = (async () => new Response(JSON.stringify({ error: { message: 'Unknown provider "x".', code: 'unknown_provider' } }), { status: 404 })) as unknown as typeof fetch;
    const client = new HttpClient({ baseUrl: '', token: 't', fetch: failing, connectEvents: false });
    await expect(client.call('providers.test', { provider: 'x' })).rejects.toMatchObject({ message: 'Unknown provider "x".', code: 'unknown_provider' });
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(new HttpClient({ baseUrl: '', token: 't', fetch: down, connectEvents: false }).call('gateway.status', undefined)).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('delivers SSE events from the stream, split anywhere', async () => {
    const chunks = ['event: request.st', 'arted\ndata: {"id":"a"}\n', '\n: heartbeat\n\nevent: gateway.status-changed\r\ndata: {"running":true}\r\n\r\n'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      },
    });
    const streaming = (async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })) as unknown as typeof fetch;
    const client = new HttpClient({ baseUrl: '', token: 't', fetch: streaming });
    const received: unknown[] = [];
    client.on('request.started', (payload) => received.push(payload));
    await new Promise<void>((resolve) => client.on('gateway.status-changed', (payload) => {
      received.push(payload);
      resolve();
    }));
    client.close();
    expect(received).toEqual([{ id: 'a' }, { running: true }]);
  });
});

describe('SseParser', () => {
  it('handles CRLF, lone CR split across chunks, multi-line data and a final event without a blank line', () => {
    const parser = new SseParser();
    expect(parser.push('data: one\r')).toEqual([]);
    expect(parser.push('\ndata: two\r\n\r\n')).toEqual([{ event: 'message', data: 'one\ntwo' }]);
    expect(parser.push('data: [DONE]')).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'message', data: '[DONE]' }]);
  });
});

describe('IpcClient', () => {
  it('calls the preload\'s named function and unwraps Electron\'s error prefix', async () => {
    const bridge = {
      operations: {
        'gateway.status': async () => ({ running: true }),
        'providers.test': async () => {
          throw new Error("Error invoking remote method 'switchyard:providers.test': OperationError: Unknown provider \"x\".");
        },
      },
      call: async () => undefined,
      on: () => () => undefined,
    } as unknown as SwitchyardBridge;
    const client = new IpcClient(bridge);
    expect(await client.call('gateway.status', undefined)).toEqual({ running: true });
    await expect(client.call('providers.test', { provider: 'x' })).rejects.toThrow(/^Unknown provider "x"\.$/);
    expect(unwrapIpcError(new Error('plain')).message).toBe('plain');
  });
});
