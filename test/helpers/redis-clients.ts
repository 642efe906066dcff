/**
 * One throwaway Redis for a vitest file (started before its tests, stopped after them) and
 * fresh clients on it, each with a key namespace of its own so tests never see each other's
 * keys. Kept apart from throwaway-redis.ts, which Playwright specs import (no vitest there).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.js';

export interface RedisClients {
  /** A new client (no command retries) and a namespace no other client of the file has. */
  next(): { client: Redis; namespace: string };
  /** A plain client, disconnected with the others at the end. */
  connect(): Redis;
}

export function throwawayRedisForFile(prefix: string): RedisClients {
  let redis: ThrowawayRedis | null = null;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startThrowawayRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });
  const open = (options: { maxRetriesPerRequest?: number } = {}): Redis => {
    const client = new Redis(redis!.url, options);
    clients.push(client);
    return client;
  };
  return {
    next: () => ({ client: open({ maxRetriesPerRequest: 0 }), namespace: `${prefix}-${clients.length}:` }),
    connect: () => open(),
  };
}
