/**
 * HTTP requests as an attacker writes them: any Host (or none), any Origin, huge headers,
 * HTTP/1.0 — things fetch() will not send. Over node:http, or a raw socket when even
 * node:http would correct the request.
 */
import http from 'node:http';
import net from 'node:net';

export interface ProbeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

function parse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function probe(
  origin: string,
  options: { method?: string; path?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; setHost?: boolean },
): Promise<ProbeResponse> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/v1/models',
        headers: options.headers ?? {},
        setHost: options.setHost ?? true,
        agent: false,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: parse(text) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Sends `head` (request line and headers, CRLF-separated, without the blank line) and a body over a raw socket. */
export function rawProbe(origin: string, head: string, body = ''): Promise<{ status: number; text: string; json: any }> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(`${head}\r\n${body ? `content-length: ${Buffer.byteLength(body)}\r\n` : ''}connection: close\r\n\r\n${body}`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, text, json: parse(bodyText) });
    });
  });
}
