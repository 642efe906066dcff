/**
 * buildGateway(deps) → a Fastify instance serving the OpenAI-compatible API. Listening is
 * the caller's job (CLI, Electron shell, tests), so the same gateway runs everywhere.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate, HostPolicy, OriginPolicy, type GatewayAuth, type GatewayKeyIdentity } from './access.js';
import type { GatewayConfig } from './config.js';
import type { GatewayContext, RequestObserver } from './context.js';
import { GatewayError } from './errors.js';
import { ModelCatalog } from './routing/model-catalog.js';
import { ModelRouter } from './routing/model-router.js';
import { UpstreamClient } from './routing/upstream-client.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerModels } from './routes/models.js';
import { sendError } from './routes/send-error.js';
import type { SecretStore } from '../secrets/secret-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    gatewayKey: GatewayKeyIdentity | null;
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
}

const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-api-key, x-tags, x-switchyard-tags, x-conversation-id, x-user-id, x-provider-api-key, openai-organization, openai-project, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout';

const CORS_EXPOSED_HEADERS = 'x-switchyard-request-id, x-switchyard-warnings, retry-after, retry-after-ms';

function parseJsonBody(_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  if (body.length === 0) {
    done(new GatewayError(400, 'The request body is empty; send a JSON object.', { code: 'invalid_json' }));
    return;
  }
  try {
    done(null, JSON.parse(body));
  } catch (error) {
    done(
      new GatewayError(400, `We could not parse the JSON body of your request (${(error as Error).message}). Send a valid JSON object with Content-Type: application/json.`, {
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
  const context: GatewayContext = { config, auth: deps.auth, secrets: deps.secrets, router, catalog, upstream, observers: deps.observers ?? [] };
  const hosts = new HostPolicy(config.host, config.allowedHosts);
  const origins = new OriginPolicy(config.allowedOrigins);

  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    keepAliveTimeout: 75_000,
    routerOptions: { maxParamLength: 500 },
    requestIdHeader: false,
    // URLs the router cannot decode (or params over maxParamLength) get OpenAI's error shape too.
    frameworkErrors: (error, _request, reply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      sendError(reply, new GatewayError(status, `The request URL is not valid: ${error.message}`, { type: 'invalid_request_error', code: 'invalid_url' }));
    },
  });
  app.decorate('gateway', context);
  app.decorateRequest('gatewayKey', null);

  // Every body is read as JSON, whatever the content type: curl's -d sends a form type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJsonBody);

  // Deny by default: every route needs a gateway key unless it is marked public.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    try {
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
        request.gatewayKey = authenticate(deps.auth, request.headers);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  });

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof GatewayError) return sendError(reply, error);
    const fastifyError = error as { code?: string; statusCode?: number; message?: string };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        new GatewayError(413, `The request body is larger than this gateway's limit of ${config.bodyLimitBytes} bytes.`, { type: 'invalid_request_error', code: 'request_too_large' }),
      );
    }
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return sendError(reply, new GatewayError(fastifyError.statusCode, fastifyError.message ?? 'bad request', { code: fastifyError.code?.toLowerCase() ?? null }));
    }
    process.stderr.write(`switchyard: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return sendError(reply, new GatewayError(500, 'The gateway hit an internal error while handling this request.', { type: 'server_error', code: 'internal_error' }));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return sendError(reply, new GatewayError(404, `Unknown request URL: ${request.method} ${path}. Switchyard serves /v1/chat/completions, /v1/embeddings and /v1/models.`, { code: 'unknown_url' }));
  });

  app.get('/health', { config: { public: true } }, async (_request, reply) => reply.send({ status: 'ok' }));
  registerChatCompletions(app, context);
  registerEmbeddings(app, context);
  registerModels(app, context);

  app.addHook('onClose', async () => {
    await upstream.close();
  });
  return app;
}
