/**
 * Tells the UI when a circuit breaker changes, without flooding it: a burst of failures
 * across many models opens many circuits at once, and each change is one
 * 'providers.changed' with every provider's state. So changes are throttled (the first on the
 * next turn of the event loop, the rest folded into one at the end of the interval), and because an open circuit
 * turns half-open by time alone (no call reports it), one more notice is scheduled for the
 * soonest moment an open circuit lets its probe through.
 */

export interface CircuitNoticesOptions {
  /** Sends the notice (the application emits 'providers.changed' with the providers' state). */
  emit(): void;
  /** The soonest time (epoch ms) an open circuit turns half-open, or null when none is open. */
  nextProbeAt(): number | null;
  /** At most one notice per this many ms (default 250). */
  intervalMs?: number;
  now?: () => number;
}

/** Past the probe time, so the circuit reads half-open when the notice is built. */
const PROBE_MARGIN_MS = 20;

export class CircuitNotices {
  private lastEmitAt = Number.NEGATIVE_INFINITY;
  private pending: NodeJS.Timeout | null = null;
  private wake: NodeJS.Timeout | null = null;
  private wakeAt: number | null = null;
  private closed = false;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CircuitNoticesOptions) {
    this.intervalMs = options.intervalMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /**
   * A circuit changed: notify soon (off the request's path, and after the provider's and
   * the model's circuits have both changed), or once at the end of the current interval.
   */
  changed(): void {
    if (this.closed || this.pending !== null) return;
    const wait = Math.max(0, this.lastEmitAt + this.intervalMs - this.now());
    this.pending = setTimeout(() => {
      this.pending = null;
      this.send();
    }, wait);
    this.pending.unref?.();
  }

  close(): void {
    this.closed = true;
    if (this.pending !== null) clearTimeout(this.pending);
    if (this.wake !== null) clearTimeout(this.wake);
    this.pending = null;
    this.wake = null;
  }

  private send(): void {
    if (this.closed) return;
    this.lastEmitAt = this.now();
    try {
      this.options.emit();
    } finally {
      this.scheduleWake();
    }
  }

  private scheduleWake(): void {
    const next = this.options.nextProbeAt();
    if (next === this.wakeAt) return;
    if (this.wake !== null) clearTimeout(this.wake);
    this.wake = null;
    this.wakeAt = next;
    if (next === null) return;
    this.wake = setTimeout(
      () => {
        this.wake = null;
        this.wakeAt = null;
        this.changed();
      },
      Math.max(0, next - this.now()) + PROBE_MARGIN_MS,
    );
    this.wake.unref?.();
  }
}
