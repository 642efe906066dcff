/** POST /v1/responses: the OpenAI Responses format handed to the pipeline (see pipeline/run.ts). */
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { responsesFormat } from '../formats/openai-responses/index.js';
import { runPipeline } from '../pipeline/run.js';

export function registerResponses(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/responses', (request, reply) => runPipeline(context, responsesFormat(), request, reply));
}
