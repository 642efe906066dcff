/**
 * Gateway keys in SQLite: stored as SHA-256 digests with a display prefix, verified from
 * memory, refused once revoked or expired, picked up from other processes' writes at the
 * next verify, last use written in batches.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { migrate, openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { migrations } from '../../src/main/storage/migrations.js';
import { GatewayKeyError, SqliteGatewayKeyManager, digestGatewayKey } from '../../src/main/storage/gateway-keys.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-gateway-keys-'));
}

function open(directory: string, options: ConstructorParameters<typeof SqliteGatewayKeyManager>[1] = {}): { database: SqliteDatabase; keys: SqliteGatewayKeyManager } {
  const database = openDatabase(directory);
  const keys = new SqliteGatewayKeyManager(database, { refreshIntervalMs: 0, flushIntervalMs: 0, ...options });
  cleanups.push(() => {
    keys.close();
    database.close();
  });
  return { database, keys };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('SqliteGatewayKeyManager', () => {
  it('creates sy- keys of 32 random bytes, keeping only the digest and a prefix', async () => {
    const directory = temporaryDirectory();
    const { database, keys } = open(directory);
    const { key, record } = await keys.create({ name: ' cursor ', tags: [{ key: 'tool', value: 'cursor' }], allowedModels: ['gpt-4o-mini', ' ', 'gpt-4o-mini'] });
    expect(key).toMatch(/^sy-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
    expect(record).toMatchObject({ name: 'cursor', prefix: key.slice(0, 9), tags: [{ key: 'tool', value: 'cursor' }], allowedModels: ['gpt-4o-mini'], lastUsedAt: null, revokedAt: null, expiresAt: null });
    const row = database.prepare('SELECT * FROM gateway_keys').get() as Record<string, unknown>;
    expect(row.key_digest).toEqual(createHash('sha256').update(key).digest());
    expect(row.prefix).toBe(key.slice(0, 9));
    expect(JSON.stringify(row)).not.toContain(key.slice(9, 30));
    // Nowhere in the database files either.
    database.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of readdirSync(directory)) expect(readFileSync(join(directory, file)).includes(key.slice(9))).toBe(false);
    const second = await keys.create({ name: 'aider' });
    expect(second.key).not.toBe(key);
  });

  it('verifies valid keys with their identity, and nothing else', async () => {
    const { keys } = open(temporaryDirectory());
    expect(keys.hasKeys()).toBe(false);
    const { key, record } = await keys.create({ name: 'ci', tags: [{ key: 'team', value: 'platform' }], allowedModels: ['gpt-4.1'] });
    expect(keys.hasKeys()).toBe(true);
    expect(keys.verify(key)).toEqual({ id: record.id, name: 'ci', tags: [{ key: 'team', value: 'platform' }], allowedModels: ['gpt-4.1'] });
    expect(keys.verify(`${key}x`)).toBeNull();
    expect(keys.verify(key.slice(0, -1))).toBeNull();
    expect(keys.verify(`sy-${'A'.repeat(43)}`)).toBeNull();
    expect(keys.verify('')).toBeNull();
    expect(keys.verify('not-a-key')).toBeNull();
    expect(keys.verify(`sy-${'a'.repeat(10_000)}`)).toBeNull();
  });

  it('refuses revoked and expired keys', async () => {
    let now = 1_000_000;
    const { keys } = open(temporaryDirectory(), { now: () => now });
    const revoked = await keys.create({ name: 'revoked' });
    const expiring = await keys.create({ name: 'expiring', expiresAt: now + 60_000 });
    expect(keys.verify(revoked.key)).not.toBeNull();
    await keys.revoke(revoked.record.id);
    expect(keys.verify(revoked.key)).toBeNull();
    await keys.revoke(revoked.record.id); // twice: no change, no error
    await keys.revoke('no-such-id');
    expect(keys.verify(expiring.key)).not.toBeNull();
    now += 60_000;
    expect(keys.verify(expiring.key)).toBeNull();
    expect(keys.hasKeys()).toBe(false);
    const listed = await keys.list();
    expect(listed.find((record) => record.name === 'revoked')!.revokedAt).toBe(1_000_000);
  });

  it('checks what it is asked to create', async () => {
    const now = Date.now();
    const { keys } = open(temporaryDirectory(), { now: () => now });
    await expect(keys.create({ name: '  ' })).rejects.toBeInstanceOf(GatewayKeyError);
    await expect(keys.create({ name: 'x'.repeat(101) })).rejects.toThrow(/at most 100/);
    await expect(keys.create({ name: 'x', expiresAt: now - 1 })).rejects.toThrow(/future/);
    await expect(keys.create({ name: 'x', tags: [{ key: 'a:b', value: 'c' }] })).rejects.toThrow(/tag key/);
    await expect(keys.create({ name: 'x', tags: Array.from({ length: 33 }, (_, index) => ({ key: `k${index}`, value: '' })) })).rejects.toThrow(/at most 32 tags/);
    const { record } = await keys.create({ name: 'x', tags: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], allowedModels: [] });
    expect(record.tags).toEqual([{ key: 'a', value: '2' }]);
    expect(record.allowedModels).toBeNull();
  });

  it('writes last use in batches, never during verify', async () => {
    let now = 5_000_000;
    const { database, keys } = open(temporaryDirectory(), { now: () => now });
    const { key, record } = await keys.create({ name: 'batched' });
    const stored = () => database.prepare('SELECT last_used_at FROM gateway_keys WHERE id = ?').pluck().get(record.id);
    keys.verify(key);
    now += 1_000;
    keys.verify(key);
    expect(stored()).toBeNull();
    expect((await keys.list())[0]!.lastUsedAt).toBe(5_001_000);
    keys.flush();
    expect(stored()).toBe(5_001_000);
    now += 1_000;
    keys.verify(key);
    keys.close(); // close writes what is pending
    expect(stored()).toBe(5_002_000);
  });

  it('writes last use on its timer', async () => {
    const { database, keys } = open(temporaryDirectory(), { flushIntervalMs: 30 });
    const { key, record } = await keys.create({ name: 'timer' });
    keys.verify(key);
    await until(() => database.prepare('SELECT last_used_at FROM gateway_keys WHERE id = ?').pluck().get(record.id) !== null);
  });

  it('the timer does not wait for a write lock another connection holds (a batch of the log writer): the last use waits for the next tick', async () => {
    const directory = temporaryDirectory();
    const { database, keys } = open(directory);
    const { key, record } = await keys.create({ name: 'busy' });
    const stored = () => database.prepare('SELECT last_used_at FROM gateway_keys WHERE id = ?').pluck().get(record.id);
    keys.verify(key);
    const writer = openDatabase(directory);
    writer.prepare('BEGIN IMMEDIATE').run();
    const started = performance.now();
    expect(keys.flushIfFree()).toBe(false);
    // busy_timeout is 5 s: a flush that waited would take that long, then fail.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(database.pragma('busy_timeout', { simple: true })).toBe(5_000);
    expect(stored()).toBeNull();
    writer.prepare('COMMIT').run();
    writer.close();
    expect(keys.flushIfFree()).toBe(true);
    expect(stored()).not.toBeNull();
    expect(keys.flushIfFree()).toBe(true);
    keys.close();
  });

  it('takes keys created and revoked by another process at the very next verify, without a timer', async () => {
    const directory = temporaryDirectory();
    const gateway = open(directory); // refreshIntervalMs: 0, so no timer helps
    const cli = open(directory); // another connection, as `switchyard gateway-keys` in another process has
    expect(gateway.keys.hasKeys()).toBe(false);
    const { key, record } = cli.keys.createSync({ name: 'from the cli' });
    expect(gateway.keys.hasKeys()).toBe(true);
    expect(gateway.keys.verify(key)).toMatchObject({ id: record.id, name: 'from the cli' });
    cli.keys.revokeSync(record.id);
    expect(gateway.keys.verify(key)).toBeNull();
    // A key the gateway had cached, revoked by a connection that then closed (the CLI exits).
    const second = cli.keys.createSync({ name: 'second' });
    expect(gateway.keys.verify(second.key)).not.toBeNull();
    const other = openDatabase(directory);
    new SqliteGatewayKeyManager(other, { refreshIntervalMs: 0, flushIntervalMs: 0 }).revokeSync(second.record.id);
    other.close();
    expect(gateway.keys.verify(second.key)).toBeNull();
  });

  it('reads the table again only when another connection changed it, not on every commit', async () => {
    const directory = temporaryDirectory();
    const gateway = open(directory);
    const { key } = await gateway.keys.create({ name: 'k' });
    const reload = vi.spyOn(gateway.keys, 'reload');
    for (let index = 0; index < 100; index++) expect(gateway.keys.verify(key)).not.toBeNull();
    expect(reload).not.toHaveBeenCalled();
    // Commits elsewhere that do not touch the keys (the request log's writer; last-use writes).
    const other = open(directory);
    other.database.exec('CREATE TABLE unrelated (value INTEGER)');
    for (let index = 0; index < 20; index++) {
      other.database.prepare('INSERT INTO unrelated VALUES (?)').run(index);
      other.database.prepare('UPDATE gateway_keys SET last_used_at = ?').run(index);
      expect(gateway.keys.verify(key)).not.toBeNull();
    }
    expect(reload).not.toHaveBeenCalled();
    other.keys.createSync({ name: 'new' });
    gateway.keys.verify(key);
    expect(reload).toHaveBeenCalledTimes(1);
  });

  it('keeps the keys it has when the change check fails, and says so once', async () => {
    const directory = temporaryDirectory();
    const errors: string[] = [];
    const database = openDatabase(directory);
    const keys = new SqliteGatewayKeyManager(database, { refreshIntervalMs: 0, flushIntervalMs: 0, onError: (message) => errors.push(message) });
    const { key } = keys.createSync({ name: 'k' });
    database.close();
    expect(keys.verify(key)).not.toBeNull();
    expect(keys.verify(key)).not.toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/could not check for changes/);
  });

  it('checks for changes in a few microseconds per verify (printed)', async () => {
    const directory = temporaryDirectory();
    const gateway = open(directory);
    for (let index = 0; index < 20; index++) gateway.keys.createSync({ name: `k${index}` });
    const { key } = gateway.keys.createSync({ name: 'measured' });
    const rounds = 20_000;
    for (let index = 0; index < 1_000; index++) gateway.keys.verify(key);
    const started = process.hrtime.bigint();
    for (let index = 0; index < rounds; index++) gateway.keys.verify(key);
    const perVerify = Number(process.hrtime.bigint() - started) / rounds / 1_000;
    console.log(`gateway key verify with the change check: ${perVerify.toFixed(2)} µs per request (21 keys)`);
    expect(perVerify).toBeLessThan(100); // generous: a shared CI machine; typically 5–10 µs
  });

  it('keeps the newer last-use time when it re-reads the table', async () => {
    const directory = temporaryDirectory();
    let now = 9_000_000;
    const gateway = open(directory, { now: () => now });
    const { key, record } = await gateway.keys.create({ name: 'k' });
    now += 10;
    gateway.keys.verify(key);
    gateway.keys.reload();
    expect((await gateway.keys.list()).find((entry) => entry.id === record.id)!.lastUsedAt).toBe(9_000_010);
  });

  it('finds a key by id, by the start of its id, or by its display prefix', async () => {
    const { keys } = open(temporaryDirectory());
    const first = await keys.create({ name: 'first' });
    await keys.create({ name: 'second' });
    expect(keys.find(first.record.id)!.name).toBe('first');
    expect(keys.find(first.record.id.slice(0, 8))!.name).toBe('first');
    expect(keys.find(first.record.prefix)!.name).toBe('first');
    expect(keys.find(`${first.record.prefix}…`)!.name).toBe('first');
    expect(keys.find('zzzzzzzz')).toBeNull();
    expect(keys.find('')).toBeNull();
  });

  it('refuses an ambiguous reference', async () => {
    const { database, keys } = open(temporaryDirectory());
    await keys.create({ name: 'a' });
    await keys.create({ name: 'b' });
    database.prepare("UPDATE gateway_keys SET id = 'abcd-' || name").run();
    keys.reload();
    expect(() => keys.find('abcd')).toThrow(/matches 2 keys/);
  });

  it('lives in migration 2, appended after the request log', () => {
    const directory = temporaryDirectory();
    const database = new Database(join(directory, 'old.db'));
    cleanups.push(() => database.close());
    migrate(database, migrations.slice(0, 1));
    expect(database.pragma('user_version', { simple: true })).toBe(1);
    expect(migrate(database)).toBe(migrations.length);
    expect(migrations.length).toBeGreaterThanOrEqual(2);
    const columns = (database.prepare('PRAGMA table_info(gateway_keys)').all() as Array<{ name: string }>).map((column) => column.name);
    expect(columns).toEqual(['id', 'name', 'prefix', 'key_digest', 'tags_json', 'allowed_models_json', 'created_at', 'last_used_at', 'expires_at', 'revoked_at']);
  });

  it('digests with SHA-256', () => {
    expect(digestGatewayKey('sy-abc').toString('hex')).toBe(createHash('sha256').update('sy-abc').digest('hex'));
  });
});
