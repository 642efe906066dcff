/**
 * Gateway keys (what clients send): create (the full key returned once), list, revoke,
 * and the desktop app's first key, handed to the first-run dialog once (first-run-key.ts);
 * plus the playground's connection (its internal key) and the model prices the
 * playground's model picker shows. The environment's SWITCHYARD_API_KEY is listed as a
 * read-only entry so the user sees every key that opens the gateway.
 */
import type { GatewayKeySummary, ModelPriceView } from '../../shared/contract.js';
import { PLAYGROUND_TAGS } from './gateway-auth.js';
import type { GatewayKeyRecord } from './key-managers.js';
import { OperationError, isRecord, requireString } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

function summaryOf(record: GatewayKeyRecord): GatewayKeySummary {
  return { ...record, prefix: `${record.prefix}…`, source: 'app' };
}

export async function listGatewayKeys(context: ServiceContext): Promise<GatewayKeySummary[]> {
  const keys = (await context.gatewayKeys.list()).map(summaryOf);
  if (context.auth.hasEnvironmentKey) {
    keys.push({
      id: 'env',
      name: 'SWITCHYARD_API_KEY',
      prefix: 'environment',
      tags: [],
      allowedModels: null,
      createdAt: 0,
      lastUsedAt: null,
      expiresAt: null,
      revokedAt: null,
      source: 'environment',
    });
  }
  return keys;
}

function readTags(value: unknown): Array<{ key: string; value: string }> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OperationError('tags must be a list of {key, value}');
  return value.slice(0, 32).map((tag) => {
    if (!isRecord(tag)) throw new OperationError('each tag must be {key, value}');
    const key = requireString(tag.key, 'tag key', { maximumLength: 100 });
    if (/[,:]/.test(key)) throw new OperationError('a tag key cannot hold "," or ":"');
    return { key, value: typeof tag.value === 'string' ? tag.value.trim().slice(0, 200) : '' };
  });
}

export function createGatewayKeyService(
  context: ServiceContext,
): Pick<
  OperationHandlers,
  'gateway-keys.list' | 'gateway-keys.create' | 'gateway-keys.revoke' | 'gateway-keys.take-first-run-key' | 'playground.connection' | 'models.prices'
> {
  const changed = async (): Promise<GatewayKeySummary[]> => {
    const keys = await listGatewayKeys(context);
    context.events.emit('gateway-keys.changed', keys);
    return keys;
  };
  return {
    'gateway-keys.list': () => listGatewayKeys(context),
    'gateway-keys.create': async (input) => {
      const name = requireString(input?.name, 'name', { maximumLength: 100 });
      const expiresAt = input?.expiresAt ?? null;
      if (expiresAt !== null && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= Date.now())) {
        throw new OperationError('expiresAt must be a future time');
      }
      const allowedModels = Array.isArray(input?.allowedModels)
        ? input.allowedModels.filter((model): model is string => typeof model === 'string' && model.trim().length > 0).map((model) => model.trim())
        : null;
      const created = await context.gatewayKeys.create({ name, tags: readTags(input?.tags), expiresAt, allowedModels });
      await changed();
      return { key: created.key, record: summaryOf(created.record) };
    },
    'gateway-keys.revoke': async (input) => {
      const id = requireString(input?.id, 'id', { maximumLength: 100 });
      if (id === 'env') throw new OperationError('SWITCHYARD_API_KEY comes from the environment; unset it and restart to remove it.', 'not_revocable');
      await context.gatewayKeys.revoke(id);
      return changed();
    },
    'gateway-keys.take-first-run-key': async () => {
      const taken = await context.firstRunKey.take();
      return taken ? { key: taken.key, record: summaryOf(taken.record) } : null;
    },
    'playground.connection': async () => ({
      baseUrl: context.runtime.origin ? `${context.runtime.origin}/v1` : null,
      key: context.auth.playgroundKey,
      tags: PLAYGROUND_TAGS.map((tag) => `${tag.key}:${tag.value}`).join(', '),
    }),
    'models.prices': async (input) => {
      const models = Array.isArray(input?.models) ? input.models.slice(0, 2000) : [];
      const book = context.priceBook();
      return models.map((query): ModelPriceView => {
        const model = typeof query?.model === 'string' ? query.model : '';
        const provider = typeof query?.provider === 'string' ? query.provider : null;
        const price = model ? book.lookup({ provider, model }) : null;
        return { provider, model, inputPerMillion: price?.input ?? null, outputPerMillion: price?.output ?? null };
      });
    },
  };
}
