/**
 * The OpenAI Responses API: `POST /v1/responses` (the format handed to the pipeline, see
 * pipeline/run.ts) and `GET /v1/responses/{id}` (a stored response, from the request log).
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import { responsesFormat } from '../formats/openai-responses/index.js';
import { findResponse } from '../formats/openai-responses/previous-response.js';
import { runPipeline } from '../pipeline/run.js';
import { sendError } from './send-error.js';

export function registerResponses(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/responses', (request, reply) => runPipeline(context, responsesFormat(context.responses), request, reply));
  app.get<{ Params: { id: string } }>('/v1/responses/:id', async (request, reply) => {
    const id = request.params.id;
    const found = await findResponse(context.responses, id, request.gatewayKey);
    if (!found?.responseBody) {
      const error = found
        ? new GatewayError(404, `Response with id '${id}' was logged without its body (storing bodies was off), so it cannot be returned.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_without_body' })
        : new GatewayError(404, `Response with id '${id}' not found.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_not_found' });
      return sendError(reply, error);
    }
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(found.responseBody));
  });
}
