/**
 * The key managers the app's services call: provider keys (where the gateway gets each
 * provider's API key) and gateway keys (what clients send). These interfaces are what
 * issue 5 implements for real (OS keychain through keytar; hashed keys in SQLite). The
 * in-memory versions here keep the UI and the tests working until then: provider keys
 * live in this process only, gateway keys are kept as SHA-256 digests, never in plain text.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { GatewayKeyIdentity } from '../gateway/access.js';
import type { GatewayKeySummary } from '../../shared/contract.js';
import type { SecretStore } from '../secrets/secret-store.js';

/** Where the gateway reads a provider key from, per request; plus the writes the UI needs. */
export interface ProviderKeyManager extends SecretStore {
  /** Providers with a stored key (never the keys themselves). */
  list(): Promise<string[]>;
  set(provider: string, key: string): Promise<void>;
  delete(provider: string): Promise<void>;
  /** Whether this store holds a key for the provider (the state shown as "Keychain"). */
  has(provider: string): boolean;
}

/** A gateway key as stored (never the key itself): the contract's summary without where it came from. */
export type GatewayKeyRecord = Omit<GatewayKeySummary, 'source'>;

export interface GatewayKeyCreateRequest {
  name: string;
  tags?: Array<{ key: string; value: string }>;
  expiresAt?: number | null;
  allowedModels?: string[] | null;
}

export interface GatewayKeyManager {
  /** Returns the full key once; only its digest is kept. */
  create(request: GatewayKeyCreateRequest): Promise<{ key: string; record: GatewayKeyRecord }>;
  list(): Promise<GatewayKeyRecord[]>;
  revoke(id: string): Promise<void>;
  /**
   * The identity of a valid (not revoked, not expired) key; records its use. Cheap: runs per
   * request. A shared store (PostgreSQL) answers asynchronously, so a key revoked on another
   * instance is refused from the next request.
   */
  verify(token: string): GatewayKeyIdentity | null | Promise<GatewayKeyIdentity | null>;
  /** Whether at least one usable key exists. */
  hasKeys(): boolean;
}

/** Provider keys held in this process's memory: the stand-in for the OS keychain. */
export class MemoryProviderKeyManager implements ProviderKeyManager {
  readonly source = 'keychain';
  private readonly keys = new Map<string, string>();

  get(providerId: string): string | null {
    return this.keys.get(providerId) ?? null;
  }

  has(provider: string): boolean {
    return this.keys.has(provider);
  }

  async list(): Promise<string[]> {
    return [...this.keys.keys()].sort();
  }

  async set(provider: string, key: string): Promise<void> {
    this.keys.set(provider, key);
  }

  async delete(provider: string): Promise<void> {
    this.keys.delete(provider);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

const KEY_PREFIX = 'sy-';
const DISPLAYED_PREFIX_LENGTH = KEY_PREFIX.length + 6;

/** Gateway keys kept as digests in memory (lost at exit): the stand-in for the SQLite-backed manager. */
export class MemoryGatewayKeyManager implements GatewayKeyManager {
  private readonly entries = new Map<string, { digest: Buffer; record: GatewayKeyRecord }>();

  constructor(private readonly now: () => number = Date.now) {}

  async create(request: GatewayKeyCreateRequest): Promise<{ key: string; record: GatewayKeyRecord }> {
    const key = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const record: GatewayKeyRecord = {
      id: randomUUID(),
      name: request.name,
      prefix: key.slice(0, DISPLAYED_PREFIX_LENGTH),
      tags: request.tags ?? [],
      allowedModels: request.allowedModels && request.allowedModels.length > 0 ? request.allowedModels : null,
      createdAt: this.now(),
      lastUsedAt: null,
      expiresAt: request.expiresAt ?? null,
      revokedAt: null,
    };
    this.entries.set(record.id, { digest: digest(key), record });
    return { key, record: { ...record } };
  }

  async list(): Promise<GatewayKeyRecord[]> {
    return [...this.entries.values()].map((entry) => ({ ...entry.record })).sort((left, right) => right.createdAt - left.createdAt);
  }

  async revoke(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry && entry.record.revokedAt === null) entry.record.revokedAt = this.now();
  }

  private usable(record: GatewayKeyRecord, now: number): boolean {
    return record.revokedAt === null && (record.expiresAt === null || record.expiresAt > now);
  }

  verify(token: string): GatewayKeyIdentity | null {
    if (!token.startsWith(KEY_PREFIX)) return null;
    const candidate = digest(token);
    const now = this.now();
    let found: GatewayKeyRecord | null = null;
    for (const entry of this.entries.values()) {
      if (timingSafeEqual(entry.digest, candidate) && this.usable(entry.record, now)) found = entry.record;
    }
    if (!found) return null;
    found.lastUsedAt = now;
    return { id: found.id, name: found.name, tags: found.tags, allowedModels: found.allowedModels };
  }

  hasKeys(): boolean {
    const now = this.now();
    for (const entry of this.entries.values()) if (this.usable(entry.record, now)) return true;
    return false;
  }
}
