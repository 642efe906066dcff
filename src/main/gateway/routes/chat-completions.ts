/**
 * POST /v1/chat/completions: the OpenAI chat format handed to the pipeline (see
 * pipeline/run.ts): decode to the core, attempt loop, encode back, or the same-format
 * pass-through for OpenAI-compatible upstreams.
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { openAIChatFormat } from '../formats/openai-chat/index.js';
import { runPipeline } from '../pipeline/run.js';

export { attemptFailure, byokKey, describeAttempt } from '../pipeline/run.js';

export function registerChatCompletions(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/chat/completions', (request, reply) => runPipeline(context, openAIChatFormat, request, reply));
}
