/**
 * Circuit-breaker state shared between gateway instances through Redis, off the request
 * path: every instance keeps deciding from its own in-process breakers (no request waits for
 * Redis), publishes each change of its own (opened, closed, reset) and adopts the others'.
 *
 * A change is published on a channel (the others adopt it at once) and an open circuit is
 * also stored under its own key with a time to live (its open time plus a margin), so an
 * instance that starts, or reconnects after an outage, reads the circuits open right now.
 * Publishing is fire-and-forget; while Redis is unreachable each instance's breakers are its
 * own, and they converge again on the next changes after Redis returns.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BreakerSnapshot, CircuitBreakers } from '../gateway/routing/circuit-breaker.js';
import type { RedisLink } from './redis-connection.js';

interface BreakerMessage {
  from: string;
  circuit: Pick<BreakerSnapshot, 'provider' | 'model' | 'state' | 'openedAt' | 'lastError'>;
}

export interface RedisBreakerOptions {
  /** Prefix of the keys and the channel (default `switchyard:breakers:`). */
  namespace?: string;
  /** How long an open circuit stays open (the config's openMs): the stored key outlives it a little. */
  openMs: () => number;
}

const CATCH_UP_ATTEMPTS = 5;

export class RedisBreakerSync {
  private readonly instance = randomUUID();
  private readonly namespace: string;
  private readonly channel: string;
  private breakers: CircuitBreakers | null = null;
  private subscriber: Redis | null = null;
  /** True while adopting another instance's change, whose onChange must not be published back. */
  private applying = false;
  private closed = false;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisBreakerOptions,
  ) {
    this.namespace = options.namespace ?? 'switchyard:breakers:';
    this.channel = `${this.namespace}changes`;
  }

  /** Starts sharing these breakers: subscribes, and reads the circuits open now on every (re)connection. */
  share(breakers: CircuitBreakers): void {
    this.breakers = breakers;
    const subscriber = this.link.subscriber();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text);
    });
    this.link.client.on('ready', () => void this.catchUp());
    if (this.link.usable) void this.catchUp();
    subscriber.subscribe(this.channel).catch(() => {
      // Retried by ioredis on reconnection (autoResubscribe).
    });
  }

  /** A breaker changed here (the reliability's onChange): tell the others, without waiting. */
  changed(snapshot: BreakerSnapshot): void {
    if (this.applying || this.breakers === null || !this.link.usable) return;
    if (snapshot.state === 'half-open') return;
    const circuit = { provider: snapshot.provider, model: snapshot.model, state: snapshot.state, openedAt: snapshot.openedAt, lastError: snapshot.lastError };
    const message = JSON.stringify({ from: this.instance, circuit } satisfies BreakerMessage);
    const key = `${this.namespace}open:${snapshot.key}`;
    const transaction = this.link.client.multi();
    if (snapshot.state === 'open') transaction.set(key, message, 'PX', this.options.openMs() + 1000);
    else transaction.del(key);
    transaction.publish(this.channel, message);
    transaction.exec().catch((error: Error) => this.link.failed(error));
  }

  private receive(text: string): void {
    let message: BreakerMessage;
    try {
      message = JSON.parse(text) as BreakerMessage;
    } catch {
      return;
    }
    if (message.from === this.instance || !message.circuit || typeof message.circuit.provider !== 'string') return;
    this.applying = true;
    try {
      this.breakers?.adopt(message.circuit);
    } finally {
      this.applying = false;
    }
  }

  /** The circuits open right now, stored by whichever instance opened them (a few tries: a busy Redis may time a command out). */
  private async catchUp(): Promise<void> {
    for (let attempt = 0; attempt < CATCH_UP_ATTEMPTS && !this.closed; attempt += 1) {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await this.link.client.scan(cursor, 'MATCH', `${this.namespace}open:*`, 'COUNT', 200);
          cursor = next;
          if (keys.length === 0) continue;
          for (const text of await this.link.client.mget(...keys)) if (text) this.receive(text);
        } while (cursor !== '0');
        return;
      } catch {
        // Not connected after all (the next reconnection catches up), or a command timed out: again soon.
        if (!this.link.usable) return;
        await new Promise((resolve) => setTimeout(resolve, 200).unref());
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscriber?.disconnect();
  }
}
