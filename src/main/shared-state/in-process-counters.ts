/**
 * SharedCounters in this process: one time-ordered list of (time, amount) per key. Each
 * operation runs to its end without awaiting anything, so on Node's single thread a
 * check and its add can never interleave with another request's: `consume` is exact
 * under any concurrency. Entries at the same millisecond are merged (a budget adds all of
 * a period's spend at the period's start, so it holds one entry), and a list is pruned to
 * its window on every touch; keys untouched for longer than their window are swept.
 */
import type { ConsumeResult, CounterCharge, SharedCounters } from './counters.js';

interface Entry {
  at: number;
  amount: number;
}

interface Counter {
  entries: Entry[];
  /** The longest window this key was used with (entries older than it are dropped). */
  windowMs: number;
}

const SWEEP_EVERY = 1024;

export class InProcessCounters implements SharedCounters {
  private readonly counters = new Map<string, Counter>();
  private operations = 0;
  private readonly seeded = new Map<string, Promise<void>>();

  consume(charges: readonly CounterCharge[], now: number): Promise<ConsumeResult> {
    return Promise.resolve(this.consumeNow(charges, now));
  }

  add(key: string, amount: number, windowMs: number, at: number): Promise<void> {
    this.insert(this.counter(key, windowMs, at), at, amount);
    return Promise.resolve();
  }

  read(key: string, windowMs: number, now: number): Promise<number> {
    return Promise.resolve(this.total(key, windowMs, now));
  }

  /**
   * Every caller waits for the one seed in progress (the amount is a read of the log, which
   * may be asynchronous): a request arriving meanwhile must not see the counter unseeded. A
   * seed that fails is forgotten, so the next caller tries again.
   */
  seedOnce(key: string, windowMs: number, at: number, amount: () => number | Promise<number>): Promise<void> {
    let seeding = this.seeded.get(key);
    if (seeding === undefined) {
      seeding = (async () => {
        const value = await amount();
        if (value !== 0) this.insert(this.counter(key, windowMs, at), at, value);
      })();
      this.seeded.set(key, seeding);
      seeding.catch(() => {
        if (this.seeded.get(key) === seeding) this.seeded.delete(key);
      });
    }
    return seeding;
  }

  clear(prefix: string): Promise<void> {
    for (const key of [...this.counters.keys()]) if (key.startsWith(prefix)) this.counters.delete(key);
    for (const key of [...this.seeded.keys()]) if (key.startsWith(prefix)) this.seeded.delete(key);
    return Promise.resolve();
  }

  /** The synchronous core of `consume`: no await between the check and the add. */
  consumeNow(charges: readonly CounterCharge[], now: number): ConsumeResult {
    const counts = charges.map((charge) => this.total(charge.key, charge.windowMs, now));
    for (let index = 0; index < charges.length; index += 1) {
      const charge = charges[index]!;
      if (counts[index]! + charge.amount > charge.limit) {
        return { allowed: false, counts, refused: index, retryAfterMs: this.timeToFit(charge, now) };
      }
    }
    charges.forEach((charge, index) => {
      this.insert(this.counter(charge.key, charge.windowMs, now), now, charge.amount);
      counts[index] = counts[index]! + charge.amount;
    });
    return { allowed: true, counts, refused: -1, retryAfterMs: 0 };
  }

  private total(key: string, windowMs: number, now: number): number {
    const counter = this.counters.get(key);
    if (!counter) return 0;
    this.prune(counter, now);
    let sum = 0;
    for (const entry of counter.entries) if (entry.at > now - windowMs) sum += entry.amount;
    return sum;
  }

  /** When enough of the window's oldest entries will have left it for the charge to fit. */
  private timeToFit(charge: CounterCharge, now: number): number {
    if (charge.amount > charge.limit) return 0;
    const counter = this.counters.get(charge.key);
    if (!counter) return 0;
    let total = this.total(charge.key, charge.windowMs, now);
    for (const entry of counter.entries) {
      if (entry.at <= now - charge.windowMs) continue;
      total -= entry.amount;
      if (total + charge.amount <= charge.limit) return Math.max(1, entry.at + charge.windowMs - now);
    }
    return charge.windowMs;
  }

  private counter(key: string, windowMs: number, now: number): Counter {
    let counter = this.counters.get(key);
    if (!counter) {
      counter = { entries: [], windowMs };
      this.counters.set(key, counter);
    }
    counter.windowMs = Math.max(counter.windowMs, windowMs);
    this.operations += 1;
    if (this.operations % SWEEP_EVERY === 0) this.sweep(now);
    return counter;
  }

  private insert(counter: Counter, at: number, amount: number): void {
    const entries = counter.entries;
    let index = entries.length;
    while (index > 0 && entries[index - 1]!.at > at) index -= 1;
    if (index > 0 && entries[index - 1]!.at === at) entries[index - 1]!.amount += amount;
    else entries.splice(index, 0, { at, amount });
  }

  private prune(counter: Counter, now: number): void {
    let drop = 0;
    while (drop < counter.entries.length && counter.entries[drop]!.at <= now - counter.windowMs) drop += 1;
    if (drop > 0) counter.entries.splice(0, drop);
  }

  private sweep(now: number): void {
    for (const [key, counter] of this.counters) {
      this.prune(counter, now);
      if (counter.entries.length === 0) this.counters.delete(key);
    }
  }
}
