/** The in-memory key managers and the app's gateway auth: digests only, revocation, expiry, the playground key. */
import { describe, expect, it } from 'vitest';
import { AppGatewayAuth, PLAYGROUND_KEY_ID } from '../../src/main/services/gateway-auth.js';
import { MemoryGatewayKeyManager, MemoryProviderKeyManager } from '../../src/main/services/key-managers.js';

describe('MemoryGatewayKeyManager', () => {
  it('verifies a created key until it is revoked or expires', async () => {
    let now = 1_000;
    const manager = new MemoryGatewayKeyManager(() => now);
    const { key, record } = await manager.create({ name: 'tool', tags: [{ key: 'tool', value: 'aider' }], expiresAt: 5_000 });
    expect(manager.verify(key)).toMatchObject({ id: record.id, tags: [{ key: 'tool', value: 'aider' }] });
    expect((await manager.list())[0]?.lastUsedAt).toBe(1_000);
    expect(manager.verify(`${key}x`)).toBeNull();
    now = 6_000;
    expect(manager.verify(key)).toBeNull();
    expect(manager.hasKeys()).toBe(false);
    const second = await manager.create({ name: 'other' });
    await manager.revoke(second.record.id);
    expect(manager.verify(second.key)).toBeNull();
    expect(JSON.stringify(await manager.list())).not.toContain(second.key);
  });
});

describe('MemoryProviderKeyManager', () => {
  it('stores, lists and deletes provider keys', async () => {
    const manager = new MemoryProviderKeyManager();
    await manager.set('openai', 'sk-1');
    expect(manager.get('openai')).toBe('sk-1');
    expect(await manager.list()).toEqual(['openai']);
    await manager.delete('openai');
    expect(manager.has('openai')).toBe(false);
  });
});

describe('AppGatewayAuth', () => {
  it('accepts the environment key, the playground key and created keys, nothing else', async () => {
    const manager = new MemoryGatewayKeyManager();
    const auth = new AppGatewayAuth(manager, 'env-secret-key');
    expect((await auth.verify('env-secret-key'))?.id).toBe('env');
    expect(auth.verify(auth.playgroundKey)).toMatchObject({ id: PLAYGROUND_KEY_ID, tags: [{ key: 'source', value: 'playground' }] });
    const { key } = await manager.create({ name: 'x' });
    expect((await auth.verify(key))?.name).toBe('x');
    expect(auth.verify('')).toBeNull();
    expect(auth.verify('sy-guess')).toBeNull();
    expect(auth.hasClientKeys()).toBe(true);
    expect(new AppGatewayAuth(new MemoryGatewayKeyManager(), undefined).hasClientKeys()).toBe(false);
  });
});
