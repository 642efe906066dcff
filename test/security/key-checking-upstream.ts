/**
 * A provider fake that checks the key it receives and, like a careless real API, echoes
 * it back in its error messages: the tool for proving that no key leaks through the
 * gateway. One HTTP server on 127.0.0.1:0 answers three wire formats:
 *
 *   OpenAI-compatible  GET {base}/v1/models, POST {base}/v1/chat/completions (JSON + SSE),
 *                      POST {base}/v1/embeddings; key in `Authorization: Bearer`.
 *                      A bad key → 401 "Incorrect API key provided: <key>" (or, with
 *                      `badKeyStyle: 'xai'`, xAI's 400 {"code","error"}).
 *   Anthropic          POST {base}/v1/messages, GET {base}/v1/models; key in `x-api-key`.
 *                      Every call is refused: 401 "invalid x-api-key: <key>".
 *   Gemini             POST {base}/v1beta/models/<m>:generateContent, GET {base}/v1beta/models;
 *                      key in `x-goog-api-key` (or `?key=`). Every call is refused:
 *                      400 API_KEY_INVALID "API key not valid: <key>".
 *
 * Markers in the last user message (OpenAI-compatible chat): `[echo-error]` → a 500 whose
 * message holds the key; `[midstream-error]` (stream) → two chunks, then an error frame
 * holding the key. Streams send `chunks` pieces `chunkDelayMs` apart.
 *
 * `accept(keys)` changes which keys are valid at once (a provider rotating keys keeps the
 * old one valid for an overlap window: accept [old, new], later [new]).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyCheckingUpstream {
  /** `http://127.0.0.1:PORT` (OpenAI-compatible base URL: `${origin}/v1`). */
  origin: string;
  accept(keys: string[]): void;
  /** Every key received, in order, with the path and the last user message's text (chat). */
  received: Array<{ path: string; key: string | null; at: number; text: string }>;
  /** Requests refused for a bad key. */
  refused: number;
  close(): Promise<void>;
}

export interface KeyCheckingUpstreamOptions {
  accepted?: string[];
  chunks?: number;
  chunkDelayMs?: number;
  badKeyStyle?: 'openai' | 'xai';
}

function keyOf(request: http.IncomingMessage, url: URL): string | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^Bearer /i.test(authorization)) return authorization.slice(7).trim();
  for (const name of ['x-api-key', 'x-goog-api-key']) {
    const value = request.headers[name];
    if (typeof value === 'string') return value;
  }
  return url.searchParams.get('key');
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function lastUserText(body: any): string {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) return message.content.map((part: any) => part?.text ?? '').join(' ');
  }
  return '';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startKeyCheckingUpstream(options: KeyCheckingUpstreamOptions = {}): Promise<KeyCheckingUpstream> {
  let accepted = new Set(options.accepted ?? []);
  const chunks = options.chunks ?? 6;
  const chunkDelayMs = options.chunkDelayMs ?? 10;
  const received: KeyCheckingUpstream['received'] = [];
  const state = { refused: 0 };
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    let raw = '';
    for await (const chunk of request) raw += chunk;
    let body: any = null;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const key = keyOf(request, url);
    received.push({ path: url.pathname, key, at: Date.now(), text: lastUserText(body) });

    // Anthropic: refuse, echoing the key.
    if (url.pathname === '/v1/messages' || (url.pathname === '/v1/models' && request.headers['x-api-key'])) {
      state.refused += 1;
      return json(response, 401, { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${key}` } });
    }
    // Gemini: refuse, echoing the key.
    if (url.pathname.startsWith('/v1beta/')) {
      state.refused += 1;
      return json(response, 400, {
        error: {
          code: 400,
          message: `API key not valid: ${key}. Please pass a valid API key.`,
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com', key: String(key) } }],
        },
      });
    }

    // OpenAI-compatible.
    if (key === null || !accepted.has(key)) {
      state.refused += 1;
      if (options.badKeyStyle === 'xai') return json(response, 400, { code: 'Client specified an invalid argument', error: `Incorrect API key provided: ${key}. Obtain an API key from https://console.x.ai.` });
      return json(response, 401, {
        error: { message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      });
    }
    if (request.method === 'GET' && url.pathname === '/v1/models') {
      return json(response, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'fake' }, { id: 'gpt-4.1', object: 'model', created: 0, owned_by: 'fake' }] });
    }
    if (request.method === 'POST' && url.pathname === '/v1/embeddings') {
      const input = JSON.stringify(body?.input ?? '');
      if (input.includes('[echo-error]')) return json(response, 500, { error: { message: `embedding failed for key ${key}`, type: 'server_error', param: null, code: null } });
      return json(response, 200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: body?.model ?? 'x', usage: { prompt_tokens: 1, total_tokens: 1 } });
    }
    if (request.method === 'POST' && url.pathname === '/v1/chat/completions') {
      const text = lastUserText(body);
      if (text.includes('[echo-error]')) {
        return json(response, 500, { error: { message: `The server had an error processing the request made with key ${key} (Authorization: Bearer ${key})`, type: 'server_error', param: null, code: null } });
      }
      const model = String(body?.model ?? 'model');
      const usage = { prompt_tokens: 3, completion_tokens: chunks, total_tokens: 3 + chunks };
      if (body?.stream !== true) {
        return json(response, 200, {
          id: 'chatcmpl-fake',
          object: 'chat.completion',
          created: 1,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok '.repeat(chunks).trim() }, finish_reason: 'stop', logprobs: null }],
          usage,
        });
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const frame = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        frame({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
      chunk({ role: 'assistant', content: '' });
      for (let index = 0; index < chunks; index++) {
        if (response.destroyed) return;
        if (chunkDelayMs > 0) await sleep(chunkDelayMs);
        if (index === 2 && text.includes('[midstream-error]')) {
          frame({ error: { message: `stream interrupted for key ${key}`, type: 'server_error', param: null, code: null } });
          response.end();
          return;
        }
        chunk({ content: 'ok ' });
      }
      chunk({}, 'stop');
      frame({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [], usage });
      response.end('data: [DONE]\n\n');
      return;
    }
    json(response, 404, { error: { message: `no route ${url.pathname}`, type: 'invalid_request_error', param: null, code: null } });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    accept(keys) {
      accepted = new Set(keys);
    },
    received,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
