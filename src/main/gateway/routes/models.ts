/**
 * GET /v1/models and /v1/models/{id}: every usable provider's models plus the aliases.
 * A model is listed under its plain id when that id routes back to the same provider,
 * otherwise as `provider/id`, so every listed id can be sent back as `model`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendAnthropicError } from '../formats/anthropic-messages/errors.js';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import type { ModelEntry } from '../openai-types.js';
import { sendError } from './send-error.js';

export async function listAllModels(context: GatewayContext): Promise<ModelEntry[]> {
  const lists = await context.catalog.loadAll();
  const seen = new Set<string>();
  const data: ModelEntry[] = [];
  for (const { provider, models } of lists) {
    for (const model of models) {
      const routed = context.router.resolveCached(model.id);
      const id = routed && routed.provider.id === provider.id && routed.model === model.id ? model.id : `${provider.id}/${model.id}`;
      if (seen.has(id)) continue;
      seen.add(id);
      data.push({ ...model, id, owned_by: model.owned_by || provider.id });
    }
  }
  const usable = new Set(lists.map((list) => list.provider.id));
  for (const alias of Object.keys(context.config.aliases)) {
    if (seen.has(alias)) continue;
    const routed = context.router.resolveCached(alias);
    if (!routed || !usable.has(routed.provider.id)) continue;
    seen.add(alias);
    data.push({ id: alias, object: 'model', created: 0, owned_by: routed.provider.id });
  }
  return data;
}

/**
 * A model in Anthropic's `ModelInfo` shape, for clients that speak the Messages API (they send
 * `anthropic-version`; Claude Code lists models this way). Every id is one the gateway routes, so
 * any provider's model can be picked by Claude Code.
 */
export function anthropicModelInfo(model: ModelEntry): Record<string, unknown> {
  const created = typeof model.created === 'number' && model.created > 0 ? new Date(model.created * 1000) : new Date(0);
  const named = (model as { display_name?: unknown }).display_name;
  const displayName = typeof named === 'string' ? named : model.id;
  const limit = (name: string): number | null => (typeof model[name] === 'number' ? (model[name] as number) : null);
  return {
    type: 'model',
    id: model.id,
    display_name: displayName,
    created_at: created.toISOString().replace('.000Z', 'Z'),
    max_input_tokens: limit('max_input_tokens') ?? limit('context_length'),
    max_tokens: limit('max_tokens') ?? limit('max_output_tokens'),
    capabilities: null,
  };
}

const DEFAULT_PAGE = 20;
const MAX_PAGE = 1000;

/**
 * One page of Anthropic's model list: `limit` (1–1000, default 20), and at most one of
 * `after_id` (the models after that id) or `before_id` (the `limit` models just before it),
 * answered as `{data, has_more, first_id, last_id}` the way Anthropic pages.
 */
export function anthropicModelPage(models: Array<Record<string, unknown> & { id: string }>, query: Record<string, unknown>): Record<string, unknown> {
  const invalid = (message: string, param: string): GatewayError => new GatewayError(400, message, { type: 'invalid_request_error', param });
  let limit = DEFAULT_PAGE;
  if (query.limit !== undefined) {
    limit = typeof query.limit === 'string' && /^\d+$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`limit: Input should be an integer between 1 and ${MAX_PAGE}`, 'limit');
  }
  const cursor = (name: 'after_id' | 'before_id'): number | undefined => {
    const id = query[name];
    if (id === undefined) return undefined;
    const at = typeof id === 'string' ? models.findIndex((model) => model.id === id) : -1;
    if (at < 0) throw invalid(`${name}: invalid cursor '${String(id)}'`, name);
    return at;
  };
  if (query.after_id !== undefined && query.before_id !== undefined) throw invalid('Only one of after_id and before_id may be specified', 'after_id');
  const before = cursor('before_id');
  const after = cursor('after_id');
  const start = before !== undefined ? Math.max(0, before - limit) : after !== undefined ? after + 1 : 0;
  const end = before !== undefined ? before : Math.min(models.length, start + limit);
  const page = models.slice(start, end);
  return { data: page, has_more: before !== undefined ? start > 0 : end < models.length, first_id: page[0]?.id ?? null, last_id: page[page.length - 1]?.id ?? null };
}

function wantsAnthropic(request: FastifyRequest): boolean {
  return typeof request.headers['anthropic-version'] === 'string';
}

export function registerModels(app: FastifyInstance, context: GatewayContext): void {
  app.get('/v1/models', async (request, reply) => {
    const data = await listAllModels(context);
    if (wantsAnthropic(request)) {
      try {
        const page = anthropicModelPage(data.map(anthropicModelInfo) as Array<Record<string, unknown> & { id: string }>, request.query as Record<string, unknown>);
        return reply.header('content-type', 'application/json').send(JSON.stringify(page));
      } catch (error) {
        if (error instanceof GatewayError) return sendAnthropicError(reply, error);
        throw error;
      }
    }
    return reply.header('content-type', 'application/json').send(JSON.stringify({ object: 'list', data }));
  });

  app.get('/v1/models/*', async (request, reply) => {
    // The router has already decoded the path (`%2F` → `/`); decoding again breaks ids holding '%'.
    const id = (request.params as { '*': string })['*'];
    const data = await listAllModels(context);
    let found = data.find((model) => model.id === id);
    if (!found) {
      // Any name a client may send as `model` finds its entry: `xai/grok-3` is listed as `grok-3`.
      const routed = context.router.resolveCached(id);
      const listed = routed
        ? data.find((model) => model.id === `${routed.provider.id}/${routed.model}`) ??
          data.find((model) => model.id === routed.model && context.router.resolveCached(model.id)?.provider.id === routed.provider.id)
        : undefined;
      if (listed) found = { ...listed, id };
    }
    if (found) return reply.header('content-type', 'application/json').send(JSON.stringify(wantsAnthropic(request) ? anthropicModelInfo(found) : found));
    const notFound = (wantsAnthropic(request) ? sendAnthropicError : sendError) as typeof sendError;
    return notFound(
      reply,
      new GatewayError(404, `The model '${id}' does not exist or no configured provider lists it.`, { type: 'invalid_request_error', param: 'model', code: 'model_not_found' }),
    );
  });
}
