/**
 * A fault-injecting proxy in front of a provider fake: each request either fails on cue or
 * is forwarded to the real fake, which answers in its exact wire format. Faults come from a
 * queue (`fail(...)`, one per request, in order) or from a rate (`failEvery`).
 *
 * Faults:
 *   { status, headers?, body? }  an HTTP error answer (body given as the provider would send it)
 *   { reset: true }              the socket is destroyed before any answer (ECONNRESET)
 *   { delayMs }                  the request is forwarded after a delay (slow first byte)
 *   { stallAfterBytes }          the answer's headers and first bytes are forwarded, then nothing
 *                                more is sent (a stalled stream) until the client gives up
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { reset: true }
  | { delayMs: number }
  | { stallAfterBytes: number };

export interface FaultProxy {
  /** Base URL with the target's path prefix (e.g. `http://127.0.0.1:PORT/v1`). */
  url: string;
  /** Requests that reached the proxy, and how each was answered. */
  log: Array<{ path: string; fault: Fault | null; at: number }>;
  fail(...faults: Fault[]): void;
  /** Every `n`th request (1-based count of requests so far) gets `fault`; 0 turns it off. */
  failEvery(n: number, fault: Fault): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetBaseUrl: string): Promise<FaultProxy> {
  const target = new URL(targetBaseUrl);
  const queue: Fault[] = [];
  let every: { n: number; fault: Fault } | null = null;
  let count = 0;
  const log: FaultProxy['log'] = [];
  const stalled = new Set<http.ServerResponse>();

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      count += 1;
      const fault = queue.shift() ?? (every && every.n > 0 && count % every.n === 0 ? every.fault : null);
      log.push({ path: request.url ?? '', fault, at: Date.now() });
      if (fault && 'reset' in fault) {
        request.socket.destroy();
        return;
      }
      if (fault && 'status' in fault) {
        const body = fault.body === undefined ? { error: { message: `injected ${fault.status}`, type: 'server_error', param: null, code: null } } : fault.body;
        response.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
        return;
      }
      const forward = (): void => {
        const headers = { ...request.headers, host: target.host };
        const upstream = http.request(
          { host: target.hostname, port: target.port, method: request.method, path: request.url, headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            if (fault && 'stallAfterBytes' in fault) {
              let sent = 0;
              stalled.add(response);
              answer.on('data', (chunk: Buffer) => {
                if (sent >= fault.stallAfterBytes) return;
                const piece = chunk.subarray(0, fault.stallAfterBytes - sent);
                sent += piece.length;
                response.write(piece);
              });
              response.on('close', () => {
                stalled.delete(response);
                answer.destroy();
              });
              return;
            }
            answer.pipe(response);
          },
        );
        upstream.on('error', () => response.destroy());
        response.on('close', () => upstream.destroy());
        upstream.end(Buffer.concat(chunks));
      };
      if (fault && 'delayMs' in fault) {
        const timer = setTimeout(forward, fault.delayMs);
        response.on('close', () => clearTimeout(timer));
      } else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    log,
    fail: (...faults) => queue.push(...faults),
    failEvery: (n, fault) => {
      every = { n, fault };
    },
    close: async () => {
      for (const response of stalled) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
