/**
 * Gateway keys in PostgreSQL, shared by every instance and by `switchyard gateway-keys
 * --database-url`. Same rules as the SQLite manager (../gateway-keys.ts): `sy-` + 256
 * random bits, only the SHA-256 digest and a display prefix stored, revoked and expired
 * keys refused.
 *
 * A key created or revoked anywhere counts on every instance from the next request:
 * `verify()` looks the token's digest up in PostgreSQL on every request (one indexed
 * primary-key-like read on a pooled connection; see bench/analytics-bench.ts --postgres
 * for its cost), so there is no cache to go stale. `hasKeys()` (synchronous: only the
 * "no key configured" hint and the UI's status use it) is refreshed after every change
 * made here and every few seconds. `lastUsedAt` is written in batches by a timer.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { GatewayKeyIdentity } from '../../core/record.js';
import type { GatewayKeyCreateRequest, GatewayKeyRecord } from '../../services/key-managers.js';
import {
  DEFAULT_LAST_USED_FLUSH_INTERVAL_MS,
  DISPLAYED_PREFIX_LENGTH,
  GATEWAY_KEY_PREFIX,
  GatewayKeyError,
  digestGatewayKey,
  generateGatewayKey,
  gatewayKeyRecordOf,
  isUsable,
  type GatewayKeyRow,
  normaliseCreateRequest,
} from '../gateway-keys.js';
import type { GatewayKeyStore } from '../store.js';
import type { PostgresPool } from './connection.js';

const MAXIMUM_TOKEN_LENGTH = 256;
const HAS_KEYS_REFRESH_MS = 5_000;

export interface PostgresGatewayKeyOptions {
  now?: () => number;
  /** How often `lastUsedAt` is written (ms); 0 turns the timer off (close() still writes). */
  flushIntervalMs?: number;
  /** How often hasKeys() is read again (ms); 0 turns the timer off. */
  hasKeysRefreshMs?: number;
  onError?: (message: string) => void;
}

export class PostgresGatewayKeyManager implements GatewayKeyStore {
  private readonly now: () => number;
  private readonly used = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private usableKeys = false;
  private failing = false;
  private closed = false;

  private constructor(
    private readonly pool: PostgresPool,
    private readonly options: PostgresGatewayKeyOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Reads whether usable keys exist, then starts the timers. */
  static async open(pool: PostgresPool, options: PostgresGatewayKeyOptions = {}): Promise<PostgresGatewayKeyManager> {
    const manager = new PostgresGatewayKeyManager(pool, options);
    await manager.refreshHasKeys();
    const flush = options.flushIntervalMs ?? DEFAULT_LAST_USED_FLUSH_INTERVAL_MS;
    if (flush > 0) manager.timers.push(setInterval(() => void manager.background(() => manager.flush()), flush));
    const refresh = options.hasKeysRefreshMs ?? HAS_KEYS_REFRESH_MS;
    if (refresh > 0) manager.timers.push(setInterval(() => void manager.background(() => manager.refreshHasKeys()), refresh));
    for (const timer of manager.timers) timer.unref();
    return manager;
  }

  private async background(work: () => Promise<void>): Promise<void> {
    if (this.closed) return;
    try {
      await work();
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.options.onError?.(`gateway keys: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  private async refreshHasKeys(): Promise<void> {
    const { rows } = await this.pool.query<{ usable: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM gateway_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)) AS usable',
      [this.now()],
    );
    this.usableKeys = rows[0]?.usable === true;
  }

  /** Writes the pending lastUsedAt values in one statement. */
  async flush(): Promise<void> {
    if (this.used.size === 0) return;
    const entries = [...this.used];
    this.used.clear();
    try {
      await this.pool.query(
        `UPDATE gateway_keys g SET last_used_at = greatest(coalesce(g.last_used_at, 0), t.at)
         FROM unnest($1::text[], $2::bigint[]) AS t(id, at) WHERE g.id = t.id`,
        [entries.map(([id]) => id), entries.map(([, at]) => at)],
      );
    } catch (error) {
      for (const [id, at] of entries) if ((this.used.get(id) ?? 0) < at) this.used.set(id, at);
      throw error;
    }
  }

  async create(request: GatewayKeyCreateRequest): Promise<{ key: string; record: GatewayKeyRecord }> {
    const now = this.now();
    const normalised = normaliseCreateRequest(request, now);
    const key = generateGatewayKey();
    const { rows } = await this.pool.query<GatewayKeyRow>(
      `INSERT INTO gateway_keys (id, name, prefix, key_digest, tags_json, allowed_models_json, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        randomUUID(),
        normalised.name,
        key.slice(0, DISPLAYED_PREFIX_LENGTH),
        digestGatewayKey(key),
        JSON.stringify(normalised.tags),
        normalised.allowedModels ? JSON.stringify(normalised.allowedModels) : null,
        now,
        normalised.expiresAt,
      ],
    );
    this.usableKeys = true;
    return { key, record: gatewayKeyRecordOf(rows[0]!) };
  }

  async list(): Promise<GatewayKeyRecord[]> {
    const { rows } = await this.pool.query<GatewayKeyRow>('SELECT * FROM gateway_keys ORDER BY created_at DESC, id');
    return rows.map((row) => {
      const record = gatewayKeyRecordOf(row);
      const used = this.used.get(record.id);
      if (used !== undefined && (record.lastUsedAt === null || used > record.lastUsedAt)) record.lastUsedAt = used;
      return record;
    });
  }

  async revoke(id: string): Promise<void> {
    await this.revokeKey(id);
  }

  /** Returns whether a key was revoked by this call. */
  async revokeKey(id: string): Promise<boolean> {
    const result = await this.pool.query('UPDATE gateway_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [this.now(), id]);
    await this.refreshHasKeys();
    return (result.rowCount ?? 0) > 0;
  }

  /** Like the SQLite manager's find(): an id, a unique start of one (4+ characters), or a display prefix. */
  async find(reference: string): Promise<GatewayKeyRecord | null> {
    const wanted = reference.trim().replace(/…$/, '');
    if (wanted.length === 0) return null;
    const records = await this.list();
    const exact = records.find((record) => record.id === wanted);
    if (exact) return exact;
    const matches = records.filter((record) => record.prefix === wanted || (wanted.length >= 4 && record.id.startsWith(wanted)));
    if (matches.length > 1) throw new GatewayKeyError(`"${wanted}" matches ${matches.length} keys; give more of the id.`, 'ambiguous_gateway_key');
    return matches[0] ?? null;
  }

  /** One indexed read per request: a key revoked anywhere is refused from the next request. */
  async verify(token: string): Promise<GatewayKeyIdentity | null> {
    if (token.length > MAXIMUM_TOKEN_LENGTH || !token.startsWith(GATEWAY_KEY_PREFIX)) return null;
    const candidate = digestGatewayKey(token);
    const { rows } = await this.pool.query<GatewayKeyRow>({
      name: 'switchyard-verify-gateway-key',
      text: 'SELECT * FROM gateway_keys WHERE key_digest = $1',
      values: [candidate],
    });
    const row = rows[0];
    if (!row || !timingSafeEqual(Buffer.from(row.key_digest), candidate)) return null;
    const record = gatewayKeyRecordOf(row);
    const now = this.now();
    if (!isUsable(record, now)) return null;
    this.used.set(record.id, now);
    return { id: record.id, name: record.name, tags: record.tags, allowedModels: record.allowedModels };
  }

  hasKeys(): boolean {
    return this.usableKeys;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    try {
      await this.flush();
    } catch (error) {
      this.options.onError?.(`gateway keys: last-used times not saved: ${(error as Error).message}`);
    }
  }
}
