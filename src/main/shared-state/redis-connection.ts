/**
 * The one Redis connection of a `serve` instance (plus a second one for pub/sub, which a
 * subscribed connection needs to itself), set up so that a dead Redis costs milliseconds:
 * no offline queue (a command while disconnected fails at once), no retries of a command,
 * short connect and command timeouts, and reconnection in the background forever, so the
 * gateway uses Redis again as soon as it is back. Callers read `usable` before each use
 * and fall back to in-process state when it is false.
 */
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * ioredis, loaded on the first RedisLink: most `serve` starts have no Redis, and loading
 * it costs about 300 ms of CPU that would come before the gateway listens (issue 11).
 */
let redisClass: typeof Redis | null = null;
function RedisClient(): typeof Redis {
  redisClass ??= (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;
  return redisClass;
}

export interface RedisLinkStatus {
  /** The URL with any password masked. */
  url: string;
  state: 'connected' | 'unreachable';
  /** Epoch ms of the last change of state. */
  since: number;
  lastError: string | null;
}

export interface RedisLinkOptions {
  /** Connect timeout and command timeout (ms, default 1000 and 500). */
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Called when the link goes up or down. */
  onChange?(status: RedisLinkStatus): void;
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`: a URL fit for logs and the UI. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparseable URL)';
  }
}

/** Checks a URL given in SWITCHYARD_REDIS_URL or --redis-url; the message names what is wrong. */
export function validateRedisUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `the Redis URL is not a URL (expected redis://host:port or rediss://…)`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `the Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`;
  return null;
}

const SUSPEND_MS = 1000;

export class RedisLink {
  readonly client: Redis;
  private status: RedisLinkStatus;
  private readonly subscribers: Redis[] = [];
  private readonly options: RedisLinkOptions;
  private readonly url: string;
  private closed = false;
  /** After a command failed or timed out on a connection that looks up, Redis is skipped until then. */
  private suspendedUntil = 0;

  constructor(url: string, options: RedisLinkOptions = {}) {
    this.url = url;
    this.options = options;
    this.status = { url: maskRedisUrl(url), state: 'unreachable', since: Date.now(), lastError: 'connecting' };
    this.client = new (RedisClient())(url, this.clientOptions());
    this.client.on('ready', () => {
      this.suspendedUntil = 0;
      this.change('connected', null);
    });
    this.client.on('error', (error: Error) => {
      this.status.lastError = error.message;
    });
    this.client.on('close', () => this.change('unreachable', this.status.lastError ?? 'connection closed'));
  }

  private clientOptions(): RedisOptions {
    return {
      connectTimeout: this.options.connectTimeoutMs ?? 1000,
      // Only a Redis that hangs costs this (a closed or refused connection fails at once), and then once a second.
      commandTimeout: this.options.commandTimeoutMs ?? 500,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      // Try again soon, then every second: the gateway is back on Redis within a second of its return.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
      // A command never waits for a reconnection (no offline queue); this only quiets ioredis.
      reconnectOnError: () => false,
    };
  }

  /** True while connected: callers use Redis, else their in-process fallback. */
  get usable(): boolean {
    return this.client.status === 'ready' && (this.suspendedUntil === 0 || Date.now() >= this.suspendedUntil);
  }

  /**
   * A command failed although the connection looked up (a Redis that hangs answers nothing
   * until the command timeout): skip Redis for a second rather than pay that on every request.
   */
  failed(error: Error): void {
    this.status.lastError = error.message;
    this.suspendedUntil = Date.now() + SUSPEND_MS;
  }

  current(): RedisLinkStatus {
    const state = this.usable ? 'connected' : 'unreachable';
    if (state === this.status.state) return { ...this.status };
    // Suspended after a failed command while the connection stays up (or a change not yet told by an event).
    return { ...this.status, state, since: this.suspendedUntil > 0 ? this.suspendedUntil - SUSPEND_MS : Date.now() };
  }

  /** Resolves once connected or after `timeoutMs`, whichever is first (a gateway starts either way). */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.usable) return true;
    return new Promise((resolve) => {
      const done = (value: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(value);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(this.usable), timeoutMs);
      timer.unref?.();
      this.client.on('ready', onReady);
    });
  }

  /** A connection of its own for SUBSCRIBE (it resubscribes by itself after a reconnection). */
  subscriber(): Redis {
    // A subscribed connection may queue its SUBSCRIBE until connected: it is not on any request's path.
    const connection = new (RedisClient())(this.url, { ...this.clientOptions(), enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    connection.on('error', () => {
      // Reported through the main connection's status; this one only reconnects.
    });
    this.subscribers.push(connection);
    return connection;
  }

  private change(state: RedisLinkStatus['state'], error: string | null): void {
    if (this.closed || this.status.state === state) return;
    this.status = { ...this.status, state, since: Date.now(), lastError: error };
    this.options.onChange?.(this.current());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connection of [this.client, ...this.subscribers]) connection.disconnect();
  }
}
