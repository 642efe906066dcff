/** POST /v1/embeddings: float and base64 (the openai SDK asks for base64 by default). */
import type { FastifyInstance } from 'fastify';
import { targetFor, type GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import { validateEmbeddingsRequest } from '../request-validation.js';
import { RequestRecorder } from '../request-record.js';
import { readErrorBody, transportError } from '../routing/upstream-client.js';
import { byokKey } from './chat-completions.js';
import { abortOnClientClose } from '../routing/client-abort.js';
import { sendError } from './send-error.js';

export function registerEmbeddings(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/embeddings', async (request, reply) => {
    const recorder = new RequestRecorder(context, request, '/v1/embeddings');
    reply.header('x-switchyard-request-id', recorder.id);
    const controller = abortOnClientClose(reply);
    let providerName = 'upstream';
    let origin = '';
    try {
      const body = validateEmbeddingsRequest(request.body);
      recorder.started(body);
      const resolution = context.router.resolveCached(body.model) ?? (await context.router.resolve(body.model));
      const { adapter, target } = targetFor(context, resolution, byokKey(request), request.gatewayKey, body.model);
      providerName = target.provider.name;
      origin = new URL(target.provider.baseUrl).origin;
      if (!adapter.prepareEmbeddings || !adapter.parseEmbeddingsResponse) {
        throw new GatewayError(400, `Provider '${target.provider.id}' does not offer embeddings.`, { param: 'model', code: 'embeddings_not_supported' });
      }
      const prepared = adapter.prepareEmbeddings(body, target);
      recorder.routed(target.provider.id, target.model, prepared.request.json, prepared.warnings);
      const response = await context.upstream.request(prepared.request, { signal: controller, timeoutMs: target.provider.timeoutMs, providerName });
      if (response.status >= 400) {
        const text = await readErrorBody(response);
        throw adapter.parseError(response.status, text, response.headers, target);
      }
      const buffer = await context.upstream.readBody(response, { providerName, origin, signal: controller });
      const parsed = adapter.parseEmbeddingsResponse(buffer, target, body);
      recorder.succeeded({ usage: parsed.usage, finishReason: null, responseBody: { ...parsed.response, data: `[${parsed.response.data.length} embeddings]` } });
      reply.code(200).header('content-type', 'application/json').send(parsed.passthrough ?? JSON.stringify(parsed.response));
      return reply;
    } catch (error) {
      const gatewayError = error instanceof GatewayError ? error : transportError(error, providerName, origin, controller);
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }
  });
}
