/**
 * Where the response cache keeps its answers. An interface (async, so a shared Redis store
 * can replace the in-process one for several `serve` instances) and the default: an
 * in-process map bounded in entries and bytes, evicting the least recently used entry,
 * with a time to live checked on read against an injected clock.
 */
import type { CoreResponse } from '../../core/types.js';

/** One cached answer: the core response and who gave it (for the log of a hit). */
export interface CachedAnswer {
  response: CoreResponse;
  /** The provider id and the model that answered the original request. */
  provider: string | null;
  model: string;
  /** Epoch milliseconds the answer was stored. */
  storedAt: number;
}

/** What an answer counts against a store's byte bound (its response's JSON length), the same in every store. */
export function answerBytes(answer: CachedAnswer): number {
  return JSON.stringify(answer.response).length;
}

export interface CacheStoreStats {
  entries: number;
  /** Approximate size of the stored answers (their JSON length). */
  bytes: number;
  maxEntries: number;
  maxBytes: number;
}

export interface ResponseCacheStore {
  get(key: string): Promise<CachedAnswer | null>;
  /** Stores an answer that expires after `ttlMs`. */
  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  clear(): Promise<void>;
  stats(): Promise<CacheStoreStats>;
  /** The same store, calling `notice` when an operation through it used this instance's own store instead of the shared one. */
  noticing?(notice: (warning: string) => void): ResponseCacheStore;
}

export interface MemoryCacheOptions {
  maxEntries: number;
  maxBytes: number;
  /** Epoch milliseconds now (tests move time instead of sleeping). */
  now?: () => number;
}

interface Slot {
  answer: CachedAnswer;
  expiresAt: number;
  bytes: number;
}

/**
 * A Map keeps insertion order, so re-inserting an entry on every read makes its first key
 * the least recently used one: eviction is O(1) without a linked list of our own.
 */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  private readonly slots = new Map<string, Slot>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: MemoryCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(key: string): Promise<CachedAnswer | null> {
    const slot = this.slots.get(key);
    if (!slot) return null;
    this.remove(key, slot);
    if (slot.expiresAt <= this.now()) return null;
    this.slots.set(key, slot);
    this.bytes += slot.bytes;
    return slot.answer;
  }

  async set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    const bytes = answerBytes(answer);
    const known = this.slots.get(key);
    if (known) this.remove(key, known);
    // An answer larger than the whole cache is not kept (it would evict everything for nothing).
    if (bytes > this.options.maxBytes || ttlMs <= 0) return;
    this.slots.set(key, { answer, expiresAt: this.now() + ttlMs, bytes });
    this.bytes += bytes;
    for (const [oldest, slot] of this.slots) {
      if (this.slots.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.remove(oldest, slot);
    }
  }

  async delete(key: string): Promise<void> {
    const slot = this.slots.get(key);
    if (slot) this.remove(key, slot);
  }

  async clear(): Promise<void> {
    this.slots.clear();
    this.bytes = 0;
  }

  async stats(): Promise<CacheStoreStats> {
    // Expired entries still held are dropped first, so the figures say what can still hit.
    const now = this.now();
    for (const [key, slot] of this.slots) if (slot.expiresAt <= now) this.remove(key, slot);
    return { entries: this.slots.size, bytes: this.bytes, maxEntries: this.options.maxEntries, maxBytes: this.options.maxBytes };
  }

  private remove(key: string, slot: Slot): void {
    this.slots.delete(key);
    this.bytes -= slot.bytes;
  }
}
