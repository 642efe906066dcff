/**
 * A concurrency limit per provider with a bounded queue: at most `limit` attempts in
 * flight; up to `queue` more wait in order (for at most `maxWaitMs`); beyond that the
 * request is refused at once with a 429 and a `retry-after`, so a burst can never pile up
 * unbounded work in the gateway. A provider without a limit costs one map lookup.
 */
import { GatewayError } from '../errors.js';

export interface ConcurrencyConfig {
  /** Attempts in flight at once. */
  limit: number;
  /** Waiting attempts beyond the limit (default: 4 × limit). */
  queue: number;
  /** How long one may wait for a slot before a 429 (ms, default 30 s). */
  maxWaitMs: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  onAbort: (() => void) | null;
  signal: AbortSignal | null;
}

class Gate {
  active = 0;
  readonly waiting: Waiter[] = [];
  constructor(
    readonly name: string,
    public config: ConcurrencyConfig,
  ) {}
}

function busy(name: string, config: ConcurrencyConfig, why: string): GatewayError {
  const seconds = Math.max(1, Math.ceil(config.maxWaitMs / 1000 / 4));
  return new GatewayError(429, `${name} is busy: ${why} (this gateway allows ${config.limit} requests at once to it, and ${config.queue} waiting). Try again shortly.`, {
    type: 'rate_limit_error',
    code: 'provider_concurrency_limit',
    headers: { 'retry-after': String(seconds) },
  });
}

export class ConcurrencyGates {
  private readonly gates = new Map<string, Gate>();

  /** Sets (or, with null, removes) the limit of one provider. In-flight attempts keep their slots. */
  configure(provider: string, name: string, config: ConcurrencyConfig | null): void {
    if (config === null) {
      const gate = this.gates.get(provider);
      this.gates.delete(provider);
      // Whoever waited goes ahead: there is no limit any more.
      if (gate) for (const waiter of gate.waiting.splice(0)) this.grant(gate, waiter, false);
      return;
    }
    const gate = this.gates.get(provider);
    if (gate) gate.config = config;
    else this.gates.set(provider, new Gate(name, config));
  }

  /**
   * Waits for a slot. Resolves with a release function to call exactly once when the
   * attempt ends; rejects with a 429 when the queue is full or the wait is too long, or with
   * an AbortError when the signal aborts while waiting. The signal is asked for only when
   * the attempt has to wait (making one costs an AbortController).
   */
  acquire(provider: string, abortSignal?: () => AbortSignal): Promise<() => void> | (() => void) {
    const gate = this.gates.get(provider);
    if (gate === undefined) return noop;
    if (gate.active < gate.config.limit) {
      gate.active += 1;
      return this.releaser(gate);
    }
    if (gate.waiting.length >= gate.config.queue) return Promise.reject(busy(gate.name, gate.config, 'its queue is full'));
    const signal = abortSignal?.();
    if (signal?.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal: signal ?? null,
        onAbort: null,
        timer: setTimeout(() => {
          this.remove(gate, waiter);
          reject(busy(gate.name, gate.config, `no slot came free within ${gate.config.maxWaitMs} ms`));
        }, gate.config.maxWaitMs),
      };
      if (signal) {
        waiter.onAbort = () => {
          this.remove(gate, waiter);
          clearTimeout(waiter.timer);
          reject(new DOMException('aborted', 'AbortError'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      gate.waiting.push(waiter);
    });
  }

  /** In flight and waiting, per provider with a limit (for the UI). */
  snapshot(): Array<{ provider: string; active: number; waiting: number; limit: number; queue: number }> {
    return [...this.gates.entries()].map(([provider, gate]) => ({ provider, active: gate.active, waiting: gate.waiting.length, limit: gate.config.limit, queue: gate.config.queue }));
  }

  private remove(gate: Gate, waiter: Waiter): void {
    const index = gate.waiting.indexOf(waiter);
    if (index !== -1) gate.waiting.splice(index, 1);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  private grant(gate: Gate, waiter: Waiter, counted: boolean): void {
    clearTimeout(waiter.timer);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(counted ? this.releaser(gate) : noop);
  }

  private releaser(gate: Gate): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = gate.waiting.shift();
      // The slot passes straight to the next waiter (active stays the same).
      if (next) this.grant(gate, next, true);
      else gate.active -= 1;
    };
  }
}

function noop(): void {}
