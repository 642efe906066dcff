/**
 * buildGateway(deps) → a Fastify instance serving the OpenAI-compatible API. Listening is
 * the caller's job (CLI, Electron shell, tests), so the same gateway runs everywhere.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate, HostPolicy, OriginPolicy, type GatewayAuth, type GatewayKeyIdentity } from './access.js';
import type { GatewayConfig } from './config.js';
import type { Policy } from './pipeline/policy.js';
import { createReliability, type GatewayContext, type Reliability, type RequestObserver } from './context.js';
import { GatewayError } from './errors.js';
import { parseJsonCounted } from './json-body.js';
import { ModelCatalog } from './routing/model-catalog.js';
import { ModelRouter } from './routing/model-router.js';
import { UpstreamClient } from './routing/upstream-client.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerModels } from './routes/models.js';
import { registerMessages } from './routes/messages.js';
import { registerResponses } from './routes/responses.js';
import { sendError as sendOpenAIError } from './routes/send-error.js';
import { anthropicErrorBody, sendAnthropicError } from './formats/anthropic-messages/errors.js';
import { RequestRecorder } from './request-record.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { StoredResponses } from '../storage/stored-responses.js';
import { redactSecrets } from '../secrets/redact.js';
import { redactGatewayError } from '../secrets/redacting-adapter.js';

declare module 'fastify' {
  interface FastifyRequest {
    gatewayKey: GatewayKeyIdentity | null;
    /** The JSON text `body` was parsed from (the request log keeps it instead of serialising the body again). */
    bodyText: string | null;
    /**
     * The keys `bodyText`'s objects were written with (jsonShape). Equal to jsonKeyCount(body)
     * when no object repeats a key: only then may the text go to an upstream in place of the
     * body serialised again, as any JSON reader reads it as the gateway did (a repeated `model`
     * or `content` could mean another model or prompt to a reader that keeps the first, past
     * the checks, policies and cache key the gateway applied to the last).
     */
    bodyKeys: number;
  }
  interface FastifyInstance {
    gateway: GatewayContext;
  }
}

export interface GatewayDeps {
  config: GatewayConfig;
  auth: GatewayAuth;
  secrets: SecretStore;
  observers?: RequestObserver[];
  upstream?: UpstreamClient;
  /** Retries, circuit breakers and concurrency gates (default: built from the config). */
  reliability?: Reliability;
  /** Policies every model call passes (limits, cache, tracing). */
  policies?: Policy[];
  /** Stored Responses answers (previous_response_id, GET /v1/responses/{id}); none when not given. */
  responses?: StoredResponses;
}

const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-api-key, x-tags, x-switchyard-tags, x-conversation-id, x-user-id, x-provider-api-key, openai-organization, openai-project, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout';

/**
 * Limits on what a client may send before a route runs. Header bytes: Node's parser
 * answers 431 beyond MAX_HEADER_BYTES (set here so a --max-http-header-size flag cannot
 * loosen it). Header count: the onRequest hook refuses more than MAX_HEADER_COUNT fields
 * with a 431 (Node's own count limit is lifted so that none is silently dropped: the
 * byte limit already bounds the work). Time: a request (headers and body) must arrive
 * within REQUEST_TIMEOUT_MS and its headers within HEADERS_TIMEOUT_MS (slow-loris); once
 * the request is in, nothing times the response, so long streams and slow thinking
 * models are never cut (there is no socket idle timeout: connectionTimeout stays 0).
 */
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_HEADER_COUNT = 100;
const REQUEST_TIMEOUT_MS = 120_000;
const HEADERS_TIMEOUT_MS = 30_000;

/** Whether a path belongs to the Anthropic Messages API (its errors are in Anthropic's shape). */
function isMessagesPath(path: string): boolean {
  return path === '/v1/messages' || path.startsWith('/v1/messages?') || path.startsWith('/v1/messages/');
}

/**
 * The path of a request Node's parser gave up on: from the bytes it had read (a header
 * overflow keeps them in `rawPacket`), else from the request it had already parsed (a
 * request whose body did not arrive in time).
 */
function failedRequestPath(error: Error, socket: import('node:net').Socket): string {
  const raw = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 2048).toString('latin1');
  const line = raw ? /^[A-Z]+ (\S+) HTTP\//.exec(raw) : null;
  if (line) return line[1]!;
  const incoming = (socket as unknown as { parser?: { incoming?: { url?: string } } }).parser?.incoming;
  return incoming?.url ?? '';
}

/** Errors Node's HTTP parser raises before Fastify sees a request, in the shape of the API the path belongs to. */
export function clientErrorHandler(error: Error & { code?: string }, socket: import('node:net').Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let body = new GatewayError(400, 'The request could not be parsed as HTTP.', { type: 'invalid_request_error', code: 'bad_request' });
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    body = new GatewayError(431, `The request's headers are larger than this gateway's limit of ${MAX_HEADER_BYTES} bytes.`, {
      type: 'invalid_request_error',
      code: 'request_header_fields_too_large',
    });
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    body = new GatewayError(408, 'The request did not arrive in time.', { type: 'invalid_request_error', code: 'request_timeout' });
  }
  const status = body.status;
  // Anthropic's shape keeps the status (431 is not one of Anthropic's, but a client reads the body's type and message).
  const json = isMessagesPath(failedRequestPath(error, socket)) ? JSON.stringify(anthropicErrorBody(body).body) : body.toJson();
  if (socket.writable) {
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
  }
  socket.destroy();
}

/**
 * Errors raised before a route runs (key, Host, Origin, body size, JSON) in the shape of the API
 * the URL belongs to: Anthropic's on /v1/messages, OpenAI's everywhere else.
 */
function sendError(reply: FastifyReply, error: GatewayError): FastifyReply | void {
  if (isMessagesPath(reply.request.url)) return sendAnthropicError(reply, error);
  return sendOpenAIError(reply, error);
}

/** A body over the limit is still read (and discarded) up to max(4 × limit, this) before the 413 goes out. */
const MIN_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads and discards the rest of a request body: a client still sending gets EPIPE, not
 * the answer, if the gateway closes before reading. Resolves true at the body's end (or
 * when it had already ended), false once `bound` more bytes arrived or the client went.
 * The server's request timeout still bounds a slow sender.
 */
export function drainRequestBody(raw: import('node:http').IncomingMessage, bound: number): Promise<boolean> {
  if (raw.readableEnded || raw.complete) return Promise.resolve(true);
  if (raw.destroyed) return Promise.resolve(false);
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > bound) return Promise.resolve(false);
  return new Promise((resolve) => {
    let received = 0;
    const finish = (drained: boolean): void => {
      raw.removeListener('data', onData);
      raw.removeListener('end', onEnd);
      raw.removeListener('error', onGone);
      raw.removeListener('close', onGone);
      if (!drained) raw.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer | string): void => {
      received += chunk.length;
      if (received > bound) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onGone = (): void => finish(raw.complete);
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onGone);
    raw.once('close', onGone);
    raw.resume();
  });
}

const CORS_EXPOSED_HEADERS = 'x-switchyard-request-id, x-switchyard-warnings, retry-after, retry-after-ms';

/** U+FEFF, what a UTF-8 byte-order mark (EF BB BF) decodes to. */
const BYTE_ORDER_MARK = 0xfeff;

function parseJsonBody(request: FastifyRequest, text: string, done: (error: Error | null, value?: unknown) => void): void {
  // Some Windows tools start their UTF-8 JSON with a byte-order mark, which JSON.parse refuses:
  // one leading mark is dropped (a slice of a string shares its characters: nothing is copied).
  const body = text.charCodeAt(0) === BYTE_ORDER_MARK ? text.slice(1) : text;
  // A DELETE (or GET) sent with a JSON content type and no body has nothing to parse.
  if (body.length === 0 && (request.method === 'DELETE' || request.method === 'GET')) {
    done(null, undefined);
    return;
  }
  if (body.length === 0) {
    done(new GatewayError(400, 'The request body is empty; send a JSON object.', { code: 'invalid_json' }));
    return;
  }
  try {
    const { value, keys } = parseJsonCounted(body);
    request.bodyText = body;
    request.bodyKeys = keys;
    done(null, value);
  } catch (error) {
    if (error instanceof GatewayError) {
      done(error);
      return;
    }
    done(
      // V8's message quotes part of the body; mask anything in it that looks like a key.
      new GatewayError(400, `We could not parse the JSON body of your request (${redactSecrets((error as Error).message)}). Send a valid JSON object with Content-Type: application/json.`, {
        code: 'invalid_json',
      }),
    );
  }
}

export function buildGateway(deps: GatewayDeps): FastifyInstance {
  const { config } = deps;
  const upstream = deps.upstream ?? new UpstreamClient();
  const catalog = new ModelCatalog(config.providers, deps.secrets, upstream.fetchJson, config.modelListTtlMs);
  const router = new ModelRouter(config, catalog);
  const reliability = deps.reliability ?? createReliability(config);
  const context: GatewayContext = { config, reliability, auth: deps.auth, secrets: deps.secrets, router, catalog, upstream, observers: deps.observers ?? [], policies: deps.policies ?? [], responses: deps.responses ?? null };
  const hosts = new HostPolicy(config.host, config.allowedHosts);
  const origins = new OriginPolicy(config.allowedOrigins);

  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    keepAliveTimeout: 75_000,
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS },
    clientErrorHandler,
    routerOptions: { maxParamLength: 500 },
    requestIdHeader: false,
    schemaController: { compilersFactory: lazySchemaCompilers },
    // URLs the router cannot decode (or params over maxParamLength) get OpenAI's error shape too.
    frameworkErrors: (error, _request, reply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      sendError(reply, new GatewayError(status, `The request URL is not valid: ${redactSecrets(error.message)}`, { type: 'invalid_request_error', code: 'invalid_url' }));
    },
  });
  app.server.maxHeadersCount = 0;
  app.decorate('gateway', context);
  app.decorateRequest('gatewayKey', null);
  app.decorateRequest('bodyText', null);
  app.decorateRequest('bodyKeys', 0);

  // Every body is read as JSON, whatever the content type: curl's -d sends a form type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJsonBody);

  // Deny by default: every route needs a gateway key unless it is marked public.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    try {
      if (request.raw.rawHeaders.length > MAX_HEADER_COUNT * 2) {
        throw new GatewayError(431, `The request has more than ${MAX_HEADER_COUNT} header fields.`, { type: 'invalid_request_error', code: 'request_header_fields_too_large' });
      }
      const host = request.headers.host;
      hosts.check(host);
      const origin = request.headers.origin;
      if (origin !== undefined) {
        const { cors } = origins.check(origin, host);
        if (cors) {
          reply.header('access-control-allow-origin', origin);
          reply.header('access-control-expose-headers', CORS_EXPOSED_HEADERS);
          reply.header('vary', 'origin');
          if (request.method === 'OPTIONS') {
            reply
              .code(204)
              .header('access-control-allow-methods', 'GET, POST, OPTIONS')
              .header('access-control-allow-headers', CORS_ALLOWED_HEADERS)
              .header('access-control-max-age', '600')
              .send();
            return;
          }
        }
      }
      if (config.auth && (request.routeOptions.config as { public?: boolean } | undefined)?.public !== true) {
        const identity = authenticate(deps.auth, request.headers);
        if (identity instanceof Promise) {
          // A shared key store (PostgreSQL) answers asynchronously.
          identity.then((found) => {
            request.gatewayKey = found;
            done();
          }, done);
          return;
        }
        request.gatewayKey = identity;
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  });

  // Refusals that happen before a route runs (key, Host, Origin, body size, JSON) are logged too.
  const refuse = (request: FastifyRequest, reply: FastifyReply, refusal: GatewayError): FastifyReply | void => {
    // A refusal may quote what the client sent (a Host, a URL, a JSON fragment): no key-shaped text leaves or is logged.
    const error = redactGatewayError(refusal, []);
    if (request.url.startsWith('/v1/') && context.observers.length > 0) {
      const recorder = new RequestRecorder(context, request, (request.routeOptions.url ?? request.url.split('?')[0]) as string);
      recorder.failed(error);
    }
    return sendError(reply, error);
  };

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof GatewayError) return refuse(request, reply, error);
    const fastifyError = error as { code?: string; statusCode?: number; message?: string };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const tooLarge = new GatewayError(413, `The request body is larger than this gateway's limit of ${config.bodyLimitBytes} bytes.`, { type: 'invalid_request_error', code: 'request_too_large' });
      // Answer once the client has sent everything (read and thrown away), so it reads the 413 instead of EPIPE.
      return drainRequestBody(request.raw, Math.max(4 * config.bodyLimitBytes, MIN_DRAIN_BYTES)).then((drained) => {
        // Past the bound the connection goes once the answer is written: the client may not see it.
        if (!drained) reply.raw.once('finish', () => request.raw.socket?.destroy());
        refuse(request, reply, tooLarge);
      });
    }
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return refuse(request, reply, new GatewayError(fastifyError.statusCode, fastifyError.message ?? 'bad request', { code: fastifyError.code?.toLowerCase() ?? null }));
    }
    process.stderr.write(`switchyard: internal error: ${redactSecrets((error as Error)?.stack ?? String(error))}\n`);
    return sendError(reply, new GatewayError(500, 'The gateway hit an internal error while handling this request.', { type: 'server_error', code: 'internal_error' }));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return sendError(reply, new GatewayError(404, `Unknown request URL: ${request.method} ${path}. Switchyard serves /v1/chat/completions, /v1/messages, /v1/responses, /v1/embeddings and /v1/models.`, { code: 'unknown_url' }));
  });

  app.get('/health', { config: { public: true } }, async (_request, reply) => reply.send({ status: 'ok' }));
  registerChatCompletions(app, context);
  registerMessages(app, context);
  registerResponses(app, context);
  registerEmbeddings(app, context);
  registerModels(app, context);

  app.addHook('onClose', async () => {
    await upstream.close();
  });
  return app;
}
