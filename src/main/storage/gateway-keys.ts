/**
 * Gateway keys (what clients send as their API key), stored in SQLite (table
 * `gateway_keys`, migration 2).
 *
 * A key is `sy-` + 32 random bytes in base64url (46 characters, 256 bits). Only its
 * SHA-256 digest is stored, plus a short prefix (`sy-3f9a0c`) for display. A fast hash is
 * right here: the key is uniformly random with 256 bits of entropy, so there is nothing a
 * slow password hash (scrypt, argon2) would protect against guessing, and `verify()` runs
 * on every request.
 *
 * `verify()` is synchronous and cheap: one SHA-256 of the token and a lookup in an
 * in-memory map digest → key, confirmed with `timingSafeEqual` on the digests. (The map
 * lookup compares digests of the attacker's token, not the token: timing there reveals
 * nothing about a valid key.) Revoked and expired keys are refused.
 *
 * No window after a change: create/revoke here update the map at once, and before every
 * `verify()` / `hasKeys()` the manager asks SQLite whether another connection committed
 * since it last looked (`PRAGMA data_version`, about 3 µs). Only when one did does it read
 * a fingerprint of the key table (count, newest rowid, revocations, expiries: about 6 µs),
 * and only when that changed the table itself. So a key created or revoked by `switchyard
 * gateway-keys` or the desktop app in another process counts from the very next request,
 * while the request log's own commits (another connection, in its writer thread) cost one
 * fingerprint read per commit, not a reload. A slow timer re-reads the whole table as a
 * fallback for edits the fingerprint cannot see (none exist today), off the request path.
 * `lastUsedAt` is set in memory on use and written in batches by a timer (and on close),
 * never on the request path; the timer skips a tick rather than wait for the write lock.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { GatewayKeyIdentity } from '../core/record.js';
import type { GatewayKeyCreateRequest, GatewayKeyManager, GatewayKeyRecord } from '../services/key-managers.js';
import type { SqliteDatabase, SqliteStatement } from './database.js';

export const GATEWAY_KEY_PREFIX = 'sy-';
/** `sy-` and six characters of the key: enough to tell keys apart, nothing to guess with. */
export const DISPLAYED_PREFIX_LENGTH = GATEWAY_KEY_PREFIX.length + 6;
const KEY_BYTES = 32;
const MAXIMUM_TOKEN_LENGTH = 256;
/** The fallback full re-read; changes by other connections are seen per request without it. */
export const DEFAULT_KEY_REFRESH_INTERVAL_MS = 30_000;
export const DEFAULT_LAST_USED_FLUSH_INTERVAL_MS = 5_000;
const MAXIMUM_TAGS = 32;
const MAXIMUM_MODELS = 200;

export class GatewayKeyError extends Error {
  override name = 'GatewayKeyError';
  constructor(
    message: string,
    readonly code: string = 'invalid_gateway_key_request',
  ) {
    super(message);
  }
}

export function generateGatewayKey(): string {
  return `${GATEWAY_KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64url')}`;
}

export function digestGatewayKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** A gateway_keys row as both engines store it (SQLite and PostgreSQL). */
export interface GatewayKeyRow {
  id: string;
  name: string;
  prefix: string;
  key_digest: Buffer;
  tags_json: string;
  allowed_models_json: string | null;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

interface Entry {
  digest: Buffer;
  record: GatewayKeyRecord;
  identity: GatewayKeyIdentity;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A stored row as the key's record (tags and model list read leniently). */
export function gatewayKeyRecordOf(row: GatewayKeyRow): GatewayKeyRecord {
  const tags = parseJson<Array<{ key: string; value: string }>>(row.tags_json, []).filter(
    (tag) => typeof tag?.key === 'string' && typeof tag?.value === 'string',
  );
  const models = parseJson<string[] | null>(row.allowed_models_json, null);
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    tags,
    allowedModels: Array.isArray(models) && models.length > 0 ? models.filter((model) => typeof model === 'string') : null,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

function entryOf(row: GatewayKeyRow): Entry {
  const record = gatewayKeyRecordOf(row);
  return { digest: Buffer.from(row.key_digest), record, identity: { id: row.id, name: row.name, tags: record.tags, allowedModels: record.allowedModels } };
}

export function isUsable(record: GatewayKeyRecord, now: number): boolean {
  return record.revokedAt === null && (record.expiresAt === null || record.expiresAt > now);
}

/** Checks and normalises a create request; throws GatewayKeyError with a message for the user. */
export function normaliseCreateRequest(request: GatewayKeyCreateRequest, now: number): Required<GatewayKeyCreateRequest> {
  const name = typeof request.name === 'string' ? request.name.trim() : '';
  if (name.length === 0) throw new GatewayKeyError('A gateway key needs a name (the tool or person it is for).');
  if (name.length > 100) throw new GatewayKeyError('A gateway key name has at most 100 characters.');
  const tags: Array<{ key: string; value: string }> = [];
  for (const tag of request.tags ?? []) {
    const key = typeof tag?.key === 'string' ? tag.key.trim() : '';
    const value = typeof tag?.value === 'string' ? tag.value.trim() : '';
    if (key.length === 0 || key.length > 100 || /[,:]/.test(key)) throw new GatewayKeyError(`A tag key must be 1–100 characters without "," or ":"; got "${key.slice(0, 100)}".`);
    if (value.length > 200) throw new GatewayKeyError('A tag value has at most 200 characters.');
    const existing = tags.findIndex((own) => own.key === key);
    if (existing !== -1) tags.splice(existing, 1);
    tags.push({ key, value });
  }
  if (tags.length > MAXIMUM_TAGS) throw new GatewayKeyError(`A gateway key has at most ${MAXIMUM_TAGS} tags.`);
  const models = [...new Set((request.allowedModels ?? []).map((model) => (typeof model === 'string' ? model.trim() : '')).filter((model) => model.length > 0))];
  if (models.length > MAXIMUM_MODELS) throw new GatewayKeyError(`A gateway key allows at most ${MAXIMUM_MODELS} models.`);
  const expiresAt = request.expiresAt ?? null;
  if (expiresAt !== null && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= now)) {
    throw new GatewayKeyError('The expiry must be a time in the future.');
  }
  return { name, tags, allowedModels: models.length > 0 ? models : null, expiresAt };
}

export interface SqliteGatewayKeyOptions {
  now?: () => number;
  /**
   * How often the whole key table is re-read as a fallback; 0 turns it off. Changes by other
   * connections (the CLI, another app) are seen before each verify() without it.
   */
  refreshIntervalMs?: number;
  /** How often `lastUsedAt` is written; 0 turns the timer off (close() still writes). */
  flushIntervalMs?: number;
  /** Told when a background read or write fails (once until it works again). */
  onError?: (message: string) => void;
}

export class SqliteGatewayKeyManager implements GatewayKeyManager {
  private byDigest = new Map<string, Entry>();
  private byId = new Map<string, Entry>();
  /** Ids whose lastUsedAt changed since the last write. */
  private readonly used = new Set<string>();
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly statements: {
    all: SqliteStatement;
    dataVersion: SqliteStatement;
    fingerprint: SqliteStatement;
    insert: SqliteStatement;
    revoke: SqliteStatement;
    touch: SqliteStatement;
  };
  private failing = false;
  private closed = false;
  /** `PRAGMA data_version` when the table was last checked: changes when another connection commits. */
  private dataVersion = -1;
  /** The key table's fingerprint at the last reload (see fingerprint()). */
  private tableFingerprint = '';
  /** Set while a change check fails (a closed or broken database), so it is reported once. */
  private checkFailing = false;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly options: SqliteGatewayKeyOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.statements = {
      all: database.prepare('SELECT * FROM gateway_keys'),
      dataVersion: database.prepare('PRAGMA data_version').pluck(),
      // What a create, a revoke or a delete by another process changes (last_used_at is left out:
      // the request path does not depend on it, and gateways write it every few seconds).
      fingerprint: database
        .prepare('SELECT count(*), coalesce(max(rowid), 0), count(revoked_at), total(revoked_at), total(expires_at), total(created_at) FROM gateway_keys')
        .raw(),
      insert: database.prepare(
        `INSERT INTO gateway_keys (id, name, prefix, key_digest, tags_json, allowed_models_json, created_at, last_used_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)`,
      ),
      revoke: database.prepare('UPDATE gateway_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: database.prepare('UPDATE gateway_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?'),
    };
    this.reload();
    const refresh = options.refreshIntervalMs ?? DEFAULT_KEY_REFRESH_INTERVAL_MS;
    if (refresh > 0) this.timers.push(setInterval(() => this.background(() => this.reload()), refresh));
    const flush = options.flushIntervalMs ?? DEFAULT_LAST_USED_FLUSH_INTERVAL_MS;
    if (flush > 0) this.timers.push(setInterval(() => this.background(() => this.flushIfFree()), flush));
    for (const timer of this.timers) timer.unref();
  }

  private background(work: () => void): void {
    if (this.closed) return;
    try {
      work();
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.options.onError?.(`gateway keys: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  private fingerprint(): string {
    return (this.statements.fingerprint.get() as unknown[]).join(',');
  }

  /**
   * Whether another connection committed since the last look, and if it touched the key
   * table, the table read again. Runs before every verify(): O(1) when nothing changed.
   * Never throws: with a database that cannot be read, the keys read before stay in use.
   */
  private catchUp(): void {
    if (this.closed) return;
    try {
      const version = this.statements.dataVersion.get() as number;
      if (version !== this.dataVersion) {
        this.dataVersion = version;
        if (this.fingerprint() !== this.tableFingerprint) this.reload();
      }
      this.checkFailing = false;
    } catch (error) {
      if (!this.checkFailing) this.options.onError?.(`gateway keys: could not check for changes (${(error as Error).message}); using the keys read before`);
      this.checkFailing = true;
    }
  }

  /** Reads every key from the database again, keeping the newer in-memory lastUsedAt. */
  reload(): void {
    // Read before the rows: a commit in between is then seen again by the next catchUp().
    const version = this.statements.dataVersion.get() as number;
    const fingerprint = this.fingerprint();
    const rows = this.statements.all.all() as GatewayKeyRow[];
    const byDigest = new Map<string, Entry>();
    const byId = new Map<string, Entry>();
    for (const row of rows) {
      const entry = entryOf(row);
      const known = this.byId.get(entry.record.id)?.record.lastUsedAt ?? null;
      if (known !== null && (entry.record.lastUsedAt === null || known > entry.record.lastUsedAt)) entry.record.lastUsedAt = known;
      byDigest.set(entry.digest.toString('base64'), entry);
      byId.set(entry.record.id, entry);
    }
    // Swapped whole: verify() never sees a half-built map.
    this.byDigest = byDigest;
    this.byId = byId;
    this.dataVersion = version;
    this.tableFingerprint = fingerprint;
  }

  /**
   * The timer's write of the pending lastUsedAt values, made only if the database's write lock is
   * free now. The request log's writer thread holds it for each batch (tens of ms under load, its
   * pauses included), and waiting for it here (`busy_timeout`) would hold the event loop and every
   * answer with it. A held lock leaves the values pending for the next tick. Returns whether they
   * were written (true when none were pending).
   */
  flushIfFree(): boolean {
    if (this.used.size === 0) return true;
    const wait = this.database.pragma('busy_timeout', { simple: true }) as number;
    this.database.pragma('busy_timeout = 0');
    try {
      this.flush();
      return true;
    } catch (error) {
      if (String((error as { code?: unknown })?.code ?? '').startsWith('SQLITE_BUSY')) return false;
      throw error;
    } finally {
      this.database.pragma(`busy_timeout = ${wait}`);
    }
  }

  /** Writes the pending lastUsedAt values in one transaction (waiting for the write lock, as every write does). */
  flush(): void {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used.clear();
    try {
      this.database.transaction(() => {
        for (const id of ids) {
          const lastUsedAt = this.byId.get(id)?.record.lastUsedAt;
          if (lastUsedAt !== null && lastUsedAt !== undefined) this.statements.touch.run(lastUsedAt, id);
        }
      })();
    } catch (error) {
      for (const id of ids) this.used.add(id);
      throw error;
    }
  }

  async create(request: GatewayKeyCreateRequest): Promise<{ key: string; record: GatewayKeyRecord }> {
    return this.createSync(request);
  }

  createSync(request: GatewayKeyCreateRequest): { key: string; record: GatewayKeyRecord } {
    const now = this.now();
    const normalised = normaliseCreateRequest(request, now);
    const key = generateGatewayKey();
    const digest = digestGatewayKey(key);
    const id = randomUUID();
    const prefix = key.slice(0, DISPLAYED_PREFIX_LENGTH);
    this.statements.insert.run(
      id,
      normalised.name,
      prefix,
      digest,
      JSON.stringify(normalised.tags),
      normalised.allowedModels ? JSON.stringify(normalised.allowedModels) : null,
      now,
      normalised.expiresAt,
    );
    // Read back whole (not patched in): the fingerprint then matches what the maps hold,
    // and changes other processes made meanwhile come along.
    this.reload();
    const entry = this.byId.get(id)!;
    return { key, record: { ...entry.record } };
  }

  /** Every key, newest first (read again from the database, so keys made elsewhere show up). */
  async list(): Promise<GatewayKeyRecord[]> {
    return this.listSync();
  }

  listSync(): GatewayKeyRecord[] {
    this.reload();
    return [...this.byId.values()].map((entry) => ({ ...entry.record })).sort((left, right) => right.createdAt - left.createdAt || left.id.localeCompare(right.id));
  }

  /** Revokes a key by id; unknown or already revoked ids change nothing. */
  async revoke(id: string): Promise<void> {
    this.revokeSync(id);
  }

  /** Returns whether a key was revoked by this call. */
  revokeSync(id: string): boolean {
    const now = this.now();
    const changed = this.statements.revoke.run(now, id).changes > 0;
    this.reload();
    return changed;
  }

  /**
   * The key a user means by `reference`: its id, a unique start of its id (4+ characters),
   * or its display prefix (`sy-3f9a0c`, with or without a trailing `…`).
   */
  find(reference: string): GatewayKeyRecord | null {
    const wanted = reference.trim().replace(/…$/, '');
    if (wanted.length === 0) return null;
    const records = this.listSync();
    const exact = records.find((record) => record.id === wanted);
    if (exact) return exact;
    const matches = records.filter((record) => record.prefix === wanted || (wanted.length >= 4 && record.id.startsWith(wanted)));
    if (matches.length > 1) throw new GatewayKeyError(`"${wanted}" matches ${matches.length} keys; give more of the id.`, 'ambiguous_gateway_key');
    return matches[0] ?? null;
  }

  verify(token: string): GatewayKeyIdentity | null {
    if (token.length > MAXIMUM_TOKEN_LENGTH || !token.startsWith(GATEWAY_KEY_PREFIX)) return null;
    this.catchUp();
    const candidate = digestGatewayKey(token);
    const entry = this.byDigest.get(candidate.toString('base64'));
    if (!entry || !timingSafeEqual(entry.digest, candidate)) return null;
    const now = this.now();
    if (!isUsable(entry.record, now)) return null;
    entry.record.lastUsedAt = now;
    this.used.add(entry.record.id);
    return entry.identity;
  }

  hasKeys(): boolean {
    this.catchUp();
    const now = this.now();
    for (const entry of this.byId.values()) if (isUsable(entry.record, now)) return true;
    return false;
  }

  /** Stops the timers and writes pending lastUsedAt values. Call before closing the database. */
  close(): void {
    if (this.closed) return;
    for (const timer of this.timers) clearInterval(timer);
    this.closed = true;
    try {
      this.flush();
    } catch (error) {
      this.options.onError?.(`gateway keys: last-used times not saved: ${(error as Error).message}`);
    }
  }
}
