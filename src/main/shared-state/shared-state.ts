/**
 * The one place a gateway chooses where its shared state lives, once, at start: in this
 * process (the desktop app, a single `serve`), or in Redis (`serve` with
 * SWITCHYARD_REDIS_URL or --redis-url, several instances behind a load balancer). Limits'
 * counters, the response cache's store and circuit-breaker sharing come from here; with
 * Redis, each falls back to this instance's own state while Redis is unreachable.
 */
import type { SharedStateStatus } from '../../shared/contract.js';
import type { CacheConfig } from '../gateway/config.js';
import { MemoryResponseCacheStore, type ResponseCacheStore } from '../gateway/policies/cache-store.js';
import type { BreakerSnapshot, CircuitBreakers } from '../gateway/routing/circuit-breaker.js';
import type { SharedCounters } from './counters.js';
import { InProcessCounters } from './in-process-counters.js';
import { RedisBreakerSync } from './redis-breakers.js';
import { RedisResponseCacheStore } from './redis-cache-store.js';
import { RedisLink, type RedisLinkStatus } from './redis-connection.js';
import { RedisSharedCounters } from './redis-counters.js';
import { FallbackCacheStore, FallbackCounters } from './redis-fallback.js';

export interface SharedState {
  readonly backend: 'in-process' | 'redis';
  counters: SharedCounters;
  /** The response cache's store for this configuration (bounds from the config). */
  cacheStore(config: CacheConfig): ResponseCacheStore;
  /** Shares these breakers' changes with the other instances (nothing in process). */
  shareBreakers(breakers: CircuitBreakers, openMs: () => number): void;
  /** A breaker changed here (the reliability's onChange). */
  breakerChanged(snapshot: BreakerSnapshot): void;
  status(): SharedStateStatus;
  /** Resolves once Redis is connected, or after `timeoutMs` (true when connected; always true in process). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface SharedStateOptions {
  /** redis://… to share through Redis; null or empty for in-process state. */
  redisUrl: string | null | undefined;
  /** How long a Redis command may take before the instance falls back (ms, default 500). */
  commandTimeoutMs?: number;
  /** Redis went away or came back (the gateway's status reaches the UI). */
  onChange?(status: SharedStateStatus): void;
  /** One line for the operator (stderr). */
  log?(message: string): void;
}

const IN_PROCESS_STATUS: SharedStateStatus = {
  backend: 'in-process',
  state: 'in-process',
  url: null,
  since: null,
  lastError: null,
  message: "Limits, budgets, the response cache and circuit breakers are this gateway's own (no Redis configured).",
};

function describeRedis(link: RedisLinkStatus): SharedStateStatus {
  const message =
    link.state === 'connected'
      ? `Shared through Redis at ${link.url}: limits, budgets, the response cache and circuit breakers count across every gateway instance.`
      : `Redis at ${link.url} is unreachable${link.lastError ? ` (${link.lastError})` : ''}: limits and budgets are counted by this instance alone and its response cache is its own until Redis returns.`;
  return { backend: 'redis', state: link.state, url: link.url, since: link.since, lastError: link.lastError, message };
}

export function createSharedState(options: SharedStateOptions): SharedState {
  const url = options.redisUrl?.trim();
  if (!url) {
    return {
      backend: 'in-process',
      counters: new InProcessCounters(),
      cacheStore: (config) => new MemoryResponseCacheStore({ maxEntries: config.maxEntries, maxBytes: config.maxBytes }),
      shareBreakers: () => undefined,
      breakerChanged: () => undefined,
      status: () => IN_PROCESS_STATUS,
      ready: async () => true,
      close: async () => undefined,
    };
  }
  const link = new RedisLink(url, {
    commandTimeoutMs: options.commandTimeoutMs,
    onChange(status) {
      const described = describeRedis(status);
      options.log?.(described.message);
      options.onChange?.(described);
    },
  });
  const counters = FallbackCounters.over(link, new RedisSharedCounters(link.client), new InProcessCounters());
  let breakers: RedisBreakerSync | null = null;
  return {
    backend: 'redis',
    counters,
    cacheStore: (config) => {
      const bounds = { maxEntries: config.maxEntries, maxBytes: config.maxBytes };
      return FallbackCacheStore.over(link, new RedisResponseCacheStore(link.client, bounds), new MemoryResponseCacheStore(bounds));
    },
    shareBreakers(own, openMs) {
      breakers = new RedisBreakerSync(link, { openMs });
      breakers.share(own);
    },
    breakerChanged: (snapshot) => breakers?.changed(snapshot),
    status: () => describeRedis(link.current()),
    ready: (timeoutMs) => link.ready(timeoutMs),
    async close() {
      await breakers?.close();
      await link.close();
    },
  };
}
