/** POST /v1/embeddings: float and base64 (the openai SDK asks for base64 by default), through the attempt loop. */
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import { runAttempts, type AttemptSuccess } from '../pipeline/attempt-loop.js';
import { validateEmbeddingsRequest } from '../request-validation.js';
import { RequestRecorder } from '../request-record.js';
import { transportError } from '../routing/upstream-client.js';
import { attemptFailure, byokKey, describeAttempt } from '../pipeline/run.js';
import { abortOnClientClose } from '../routing/client-abort.js';
import { sendError } from './send-error.js';

export function registerEmbeddings(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/embeddings', async (request, reply) => {
    const recorder = new RequestRecorder(context, request, '/v1/embeddings');
    reply.header('x-switchyard-request-id', recorder.id);
    const controller = abortOnClientClose(reply);
    let attempt: AttemptSuccess;
    let body: ReturnType<typeof validateEmbeddingsRequest>;
    try {
      body = validateEmbeddingsRequest(request.body);
      recorder.started(body);
      const embeddings = body;
      attempt = await runAttempts(context, {
        model: embeddings.model,
        byokKey: byokKey(request),
        identity: request.gatewayKey,
        signal: controller,
        prepare: ({ adapter, target }) => {
          if (!adapter.prepareEmbeddings || !adapter.parseEmbeddingsResponse) {
            throw new GatewayError(400, `Provider '${target.provider.id}' does not offer embeddings.`, { param: 'model', code: 'embeddings_not_supported' });
          }
          return adapter.prepareEmbeddings(embeddings, target);
        },
        onAttempt: (resolved, prepared) => recorder.routed(resolved.target.provider.id, resolved.target.model, prepared.request.json, prepared.warnings),
      });
    } catch (error) {
      const gatewayError = attemptFailure(error, recorder, controller);
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }
    recorder.attemptTrail(attempt.attempts);
    describeAttempt(reply, attempt, recorder);
    const { adapter, target } = attempt.resolved;
    const providerName = target.provider.name;
    const origin = new URL(target.provider.baseUrl).origin;
    try {
      const buffer = await context.upstream.readBody(attempt.response, { providerName, origin, signal: attempt.signal });
      const parsed = adapter.parseEmbeddingsResponse!(buffer, target, body);
      attempt.finish({ ok: true });
      recorder.succeeded({ usage: parsed.usage, finishReason: null, responseBody: { ...parsed.response, data: `[${parsed.response.data.length} embeddings]` } });
      reply.code(200).header('content-type', 'application/json').send(parsed.passthrough ?? JSON.stringify(parsed.response));
      return reply;
    } catch (error) {
      const gatewayError = attempt.timedOut() ? attempt.timeoutError() : transportError(error, providerName, origin, controller, 'body');
      attempt.finish({ ok: false, error: gatewayError });
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }
  });
}
