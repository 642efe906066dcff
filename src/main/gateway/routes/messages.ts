/**
 * The Anthropic Messages API: `POST /v1/messages` (also `?beta=true`, as Claude Code calls
 * it) through the pipeline with the anthropic-messages format, and `POST
 * /v1/messages/count_tokens`: exact from the upstream where it has a count endpoint for this
 * format (Anthropic) or of its own (Gemini's countTokens, given the request it would be sent), else estimated (about 4 characters a token). The answer says which in
 * `x-switchyard-token-count: exact | estimated`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PreparedRequest } from '../providers/types.js';
import { targetFor, type GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import { anthropicMessagesFormat, validateCountTokensRequest } from '../formats/anthropic-messages/index.js';
import { ANTHROPIC_HEADER_FIELDS, decodeMessagesRequest } from '../formats/anthropic-messages/decode.js';
import { sendAnthropicError } from '../formats/anthropic-messages/errors.js';
import type { MessagesRequestWire } from '../formats/anthropic-messages/schema.js';
import { estimateInputTokens } from '../formats/anthropic-messages/stream-encoder.js';
import { byokKey, runPipeline } from '../pipeline/run.js';
import { transportError } from '../routing/upstream-client.js';

const COUNT_TIMEOUT_MS = 30_000;

export function registerMessages(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/messages', (request, reply) => runPipeline(context, anthropicMessagesFormat, request, reply));

  app.post('/v1/messages/count_tokens', async (request, reply) => {
    try {
      const body = validateCountTokensRequest(request.body);
      const resolution = context.router.resolveCached(body.model) ?? (await context.router.resolve(body.model));
      const resolved = targetFor(context, resolution, byokKey(request), request.gatewayKey, body.model);
      const adapter = resolved.core;
      const ask = async (prepared: PreparedRequest): Promise<unknown> => {
        let answer: { status: number; json: unknown };
        try {
          answer = await context.upstream.fetchJson(prepared, COUNT_TIMEOUT_MS);
        } catch (error) {
          throw transportError(error, resolved.target.provider.name, new URL(resolved.target.provider.baseUrl).origin);
        }
        if (answer.status >= 400) throw resolved.adapter.parseError(answer.status, JSON.stringify(answer.json ?? ''), {}, resolved.target);
        return answer.json;
      };
      const send = (count: number, how: 'exact' | 'estimated'): FastifyReply =>
        reply.header('x-switchyard-token-count', how).header('content-type', 'application/json').send(JSON.stringify({ input_tokens: count }));
      const missing = (): GatewayError => new GatewayError(502, `${resolved.target.provider.name} returned a token count without a number of tokens`, { type: 'upstream_error' });
      if (adapter.nativeFormat === 'anthropic-messages' && adapter.prepareCountTokens) {
        const headers: Record<string, string> = {};
        for (const name of ANTHROPIC_HEADER_FIELDS) {
          const value = request.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const count = ((await ask(adapter.prepareCountTokens(body, resolved.target, headers))) as { input_tokens?: unknown } | null)?.input_tokens;
        if (typeof count !== 'number') throw missing();
        return send(count, 'exact');
      }
      const core = decodeMessagesRequest({ ...body, max_tokens: 1 } as MessagesRequestWire, request.headers);
      if (adapter.prepareCoreCountTokens && adapter.readTokenCount) {
        // An upstream with a count endpoint of its own (Gemini's countTokens) counts the request it would be sent.
        const count = adapter.readTokenCount(await ask(adapter.prepareCoreCountTokens(core, resolved.target)));
        if (count === null) throw missing();
        return send(count, 'exact');
      }
      return send(estimateInputTokens(core), 'estimated');
    } catch (error) {
      if (error instanceof GatewayError) return sendAnthropicError(reply, error);
      throw error;
    }
  });
}
