/**
 * Circuit breakers, one per provider and one per provider model, so that a provider that
 * fails for one model only (a model overloaded, a model retired) does not close the door
 * on its other models.
 *
 * closed → open: `failureThreshold` failures in a row (a success in between resets the
 * count), or a failure rate at or above `failureRate` over the last `window` outcomes once
 * at least `minimumRequests` are in it. open → half-open: after `openMs`; one probe attempt
 * is let through (others still see the circuit open). half-open → closed on the probe's
 * success, back to open (for `openMs` again) on its failure.
 *
 * Outcomes are remembered from a circuit's first failure on, so a provider that never
 * failed costs nothing per request.
 *
 * Only failures that say something about the upstream count (5xx, 529, 429, timeouts,
 * connection failures), never a client's own 4xx; the caller decides that.
 *
 * This is the in-process state, always consulted locally (no request waits for Redis); with
 * Redis, state changes are published to the other instances, which `adopt` them
 * (shared-state/redis-breakers.ts). Time is a parameter for exact tests.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerConfig {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold: number;
  /** Failure rate over the window that opens the circuit (default 0.5). */
  failureRate: number;
  /** Outcomes remembered for the rate (default 20). */
  window: number;
  /** Outcomes needed in the window before the rate counts (default 10). */
  minimumRequests: number;
  /** How long the circuit stays open before a probe (ms, default 30 s). */
  openMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = { failureThreshold: 5, failureRate: 0.5, window: 20, minimumRequests: 10, openMs: 30_000 };

export interface BreakerSnapshot {
  key: string;
  provider: string;
  model: string | null;
  state: BreakerState;
  consecutiveFailures: number;
  /** Failures among the remembered outcomes. */
  recentFailures: number;
  recentTotal: number;
  /** When an open circuit lets its probe through (epoch ms), else null. */
  retryAt: number | null;
  openedAt: number | null;
  lastError: string | null;
}

interface Circuit {
  provider: string;
  model: string | null;
  state: BreakerState;
  consecutiveFailures: number;
  /** Ring of the last outcomes: true = failure. */
  outcomes: boolean[];
  next: number;
  failuresInWindow: number;
  openedAt: number | null;
  probeStartedAt: number | null;
  lastError: string | null;
}

export function breakerKey(provider: string, model: string | null): string {
  return model === null ? provider : `${provider}\u0000${model}`;
}

export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();

  constructor(
    private config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
    private readonly now: () => number = Date.now,
    /** Called when a circuit changes state (the UI's live status). */
    private readonly onChange?: (snapshot: BreakerSnapshot) => void,
  ) {}

  setConfig(config: BreakerConfig): void {
    this.config = config;
  }

  private circuit(provider: string, model: string | null): Circuit {
    const key = breakerKey(provider, model);
    let circuit = this.circuits.get(key);
    if (!circuit) {
      circuit = { provider, model, state: 'closed', consecutiveFailures: 0, outcomes: [], next: 0, failuresInWindow: 0, openedAt: null, probeStartedAt: null, lastError: null };
      this.circuits.set(key, circuit);
    }
    return circuit;
  }

  /**
   * Whether an attempt may go to this provider and model now. An open circuit past its
   * time lets exactly one probe through and turns half-open; the caller then reports the
   * probe's outcome with `success` or `failure`.
   */
  allow(provider: string, model: string): boolean {
    // Nothing recorded yet: the common case costs two map misses.
    const byProvider = this.circuits.get(provider);
    const byModel = this.circuits.get(breakerKey(provider, model));
    if (byProvider === undefined && byModel === undefined) return true;
    if (this.blocks(byProvider) || this.blocks(byModel)) return false;
    this.probe(byProvider);
    this.probe(byModel);
    return true;
  }

  private blocks(circuit: Circuit | undefined): boolean {
    if (circuit === undefined || circuit.state === 'closed') return false;
    // Half-open: its one probe is out, unless that probe never reported back (a client that
    // went away mid-attempt), in which case another may go after the same wait.
    const since = circuit.state === 'half-open' ? circuit.probeStartedAt : circuit.openedAt;
    return this.now() - (since ?? 0) < this.config.openMs;
  }

  private probe(circuit: Circuit | undefined): void {
    if (circuit === undefined || circuit.state === 'closed') return;
    const wasOpen = circuit.state === 'open';
    circuit.state = 'half-open';
    circuit.probeStartedAt = this.now();
    if (wasOpen) this.changed(circuit);
  }

  /** When the earliest of the circuits in the way lets a probe through (epoch ms), or null if none is open. */
  retryAt(provider: string, model: string): number | null {
    let at: number | null = null;
    for (const circuit of [this.circuits.get(provider), this.circuits.get(breakerKey(provider, model))]) {
      if (circuit?.state === 'open' && circuit.openedAt !== null) at = Math.max(at ?? 0, circuit.openedAt + this.config.openMs);
    }
    return at;
  }

  success(provider: string, model: string): void {
    for (const circuit of [this.circuits.get(provider), this.circuits.get(breakerKey(provider, model))]) {
      if (circuit === undefined) continue;
      this.remember(circuit, false);
      circuit.consecutiveFailures = 0;
      if (circuit.state !== 'closed') this.close(circuit);
    }
  }

  /**
   * A failure that says something about the upstream. `scope` 'model' counts it against the
   * model only (a per-model error such as a 404 for a retired model or an overloaded
   * model), 'provider' against both.
   */
  failure(provider: string, model: string, message: string, scope: 'provider' | 'model' = 'provider'): void {
    const circuits = scope === 'model' ? [this.circuit(provider, model)] : [this.circuit(provider, null), this.circuit(provider, model)];
    for (const circuit of circuits) {
      circuit.lastError = message;
      this.remember(circuit, true);
      circuit.consecutiveFailures += 1;
      if (circuit.state === 'half-open') {
        this.open(circuit);
        continue;
      }
      if (circuit.state === 'open') continue;
      const total = circuit.outcomes.length;
      const rateTripped = total >= this.config.minimumRequests && circuit.failuresInWindow / total >= this.config.failureRate;
      if (circuit.consecutiveFailures >= this.config.failureThreshold || rateTripped) this.open(circuit);
    }
  }

  private open(circuit: Circuit, at = this.now()): void {
    circuit.state = 'open';
    circuit.openedAt = at;
    circuit.probeStartedAt = null;
    this.changed(circuit);
  }

  /** Closed with a fresh window: what was counted before belongs to the outage. */
  private close(circuit: Circuit): void {
    circuit.state = 'closed';
    circuit.consecutiveFailures = 0;
    circuit.openedAt = null;
    circuit.probeStartedAt = null;
    circuit.outcomes = [];
    circuit.next = 0;
    circuit.failuresInWindow = 0;
    this.changed(circuit);
  }

  private remember(circuit: Circuit, failed: boolean): void {
    const size = this.config.window;
    if (circuit.outcomes.length < size) {
      circuit.outcomes.push(failed);
    } else {
      if (circuit.outcomes[circuit.next]) circuit.failuresInWindow -= 1;
      circuit.outcomes[circuit.next] = failed;
      circuit.next = (circuit.next + 1) % size;
    }
    if (failed) circuit.failuresInWindow += 1;
  }

  /** Closes every circuit (or one provider's), as an admin operation. */
  reset(provider?: string): void {
    for (const [key, circuit] of this.circuits) {
      if (provider !== undefined && circuit.provider !== provider) continue;
      this.circuits.delete(key);
      if (circuit.state !== 'closed') {
        circuit.state = 'closed';
        circuit.openedAt = null;
        this.changed(circuit);
      }
    }
  }

  /**
   * Takes a circuit's state from another gateway instance (shared through Redis): an open
   * circuit opens here too, from the same moment, and a closed one closes. Half-open is not
   * taken: each instance sends its own probe once the open time is up. Calls `onChange` like
   * any local change (the UI's notice; the sharing ignores what it is applying itself).
   */
  adopt(remote: Pick<BreakerSnapshot, 'provider' | 'model' | 'state' | 'openedAt' | 'lastError'>): void {
    if (remote.state === 'open' && remote.openedAt !== null) {
      const circuit = this.circuit(remote.provider, remote.model);
      if (circuit.state === 'open' && (circuit.openedAt ?? 0) >= remote.openedAt) return;
      circuit.lastError = remote.lastError;
      this.open(circuit, remote.openedAt);
      return;
    }
    if (remote.state !== 'closed') return;
    const circuit = this.circuits.get(breakerKey(remote.provider, remote.model));
    if (circuit === undefined || circuit.state === 'closed') return;
    this.close(circuit);
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.circuits.values()].map((circuit) => this.describe(circuit));
  }

  private describe(circuit: Circuit): BreakerSnapshot {
    let state = circuit.state;
    // An open circuit whose time is up reads as half-open: the next request probes it.
    if (state === 'open' && circuit.openedAt !== null && this.now() - circuit.openedAt >= this.config.openMs) state = 'half-open';
    return {
      key: breakerKey(circuit.provider, circuit.model),
      provider: circuit.provider,
      model: circuit.model,
      state,
      consecutiveFailures: circuit.consecutiveFailures,
      recentFailures: circuit.failuresInWindow,
      recentTotal: circuit.outcomes.length,
      retryAt: circuit.state === 'open' && circuit.openedAt !== null ? circuit.openedAt + this.config.openMs : null,
      openedAt: circuit.openedAt,
      lastError: circuit.lastError,
    };
  }

  private changed(circuit: Circuit): void {
    this.onChange?.(this.describe(circuit));
  }
}
