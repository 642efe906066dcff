/**
 * The HTTP admin API: the admin token (separate from gateway keys) guards every operation
 * and the event stream; operations answer their contract output or `{ error }`; the UI's
 * static files are served at /ui/ without leaving their folder; Host and Origin checks
 * still apply.
 */
import { MemoryProviderKeyManager } from '../../src/main/services/key-managers.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerAdmin } from '../../src/main/admin/admin-routes.js';
import { ADMIN_TOKEN_HEADER, AdminTokenCheck, adminTokenFromEnvironment, adminUiUrl, createAdminToken } from '../../src/main/admin/admin-token.js';
import { maskedHeaders } from '../../src/main/gateway/request-record.js';
import { startGateway, type RunningGateway } from '../../src/main/headless.js';
import type { OperationHandlers } from '../../src/main/services/app-services.js';
import { EventHub } from '../../src/main/services/event-hub.js';

const token = createAdminToken();
let running: RunningGateway;
let dataDirectory: string;
let rendererDirectory: string;

function call(name: string, input: unknown, headers: Record<string, string> = { [ADMIN_TOKEN_HEADER]: token }): Promise<Response> {
  return fetch(`${running.origin}/admin/api/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input ?? null) });
}

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-admin-'));
  rendererDirectory = join(dataDirectory, 'renderer');
  mkdirSync(join(rendererDirectory, 'assets'), { recursive: true });
  writeFileSync(join(rendererDirectory, 'index.html'), '<!doctype html><title>Switchyard</title>');
  writeFileSync(join(rendererDirectory, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dataDirectory, 'secret.txt'), 'not for the browser');
  running = await startGateway({
    // Keys in memory: a test must never read or write the developer's real keychain.
    providerKeys: new MemoryProviderKeyManager(),
    dataDir: dataDirectory,
    host: '127.0.0.1',
    port: 0,
    environment: { OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1' },
    admin: { token, rendererDir: rendererDirectory },
  });
});

afterAll(async () => {
  await running?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe('the admin token', () => {
  it('is needed for every operation and compared exactly', async () => {
    expect((await call('gateway.status', null, {})).status).toBe(401);
    expect((await call('gateway.status', null, { [ADMIN_TOKEN_HEADER]: `${token}x` })).status).toBe(401);
    expect((await call('gateway.status', null, { authorization: `Bearer ${token}` })).status).toBe(401);
    const response = await call('gateway.status', null);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ running: true, origin: running.origin });
  });

  it('is not a gateway key, and gateway keys do not open the admin API', async () => {
    const refused = await fetch(`${running.origin}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    const created = (await (await call('gateway-keys.create', { name: 'client' })).json()) as { key: string };
    expect((await call('gateway.status', null, { [ADMIN_TOKEN_HEADER]: created.key })).status).toBe(401);
  });

  it('checks in constant time over digests and refuses short tokens', () => {
    const check = new AdminTokenCheck(token);
    expect(check.matches(token)).toBe(true);
    expect(check.matches(undefined)).toBe(false);
    expect(check.matches(['a', 'b'])).toBe(false);
    expect(() => new AdminTokenCheck('short')).toThrow();
    expect(adminUiUrl('http://127.0.0.1:4141', 'a b')).toBe('http://127.0.0.1:4141/ui/#token=a%20b');
  });

  it('is masked in the headers the inspector shows', () => {
    const masked = maskedHeaders({ [ADMIN_TOKEN_HEADER]: token, 'content-type': 'application/json' });
    expect(masked[ADMIN_TOKEN_HEADER]).not.toBe(token);
    expect(masked[ADMIN_TOKEN_HEADER]).toContain('…');
    expect(JSON.stringify(masked)).not.toContain(token);
    expect(masked['content-type']).toBe('application/json');
  });

  it('comes from SWITCHYARD_ADMIN_TOKEN when long enough; a short one is replaced by a random token, with a warning', () => {
    const warnings: string[] = [];
    const warn = (message: string): void => void warnings.push(message);
    const chosen = 'a-token-of-sixteen';
    expect(adminTokenFromEnvironment({ SWITCHYARD_ADMIN_TOKEN: chosen }, warn)).toBe(chosen);
    expect(warnings).toEqual([]);
    const replaced = adminTokenFromEnvironment({ SWITCHYARD_ADMIN_TOKEN: 'short-token' }, warn);
    expect(replaced).not.toBe('short-token');
    expect(replaced.length).toBeGreaterThanOrEqual(16);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('SWITCHYARD_ADMIN_TOKEN is too short (11 characters, at least 16 needed)');
    expect(warnings[0]).toContain('random admin token');
    expect(warnings[0]).not.toContain('short-token');
    expect(adminTokenFromEnvironment({}, warn).length).toBeGreaterThanOrEqual(16);
    expect(warnings).toHaveLength(1);
  });
});

describe('operations', () => {
  it('answers unknown operations with 404 and bad input with the service\'s message', async () => {
    const unknown = await call('nope.nothing', null);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_operation' } });
    const bad = await call('providers.set-key', { provider: 'nope', key: 'x' });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ error: { message: 'Unknown provider "nope".', code: 'unknown_provider' } });
  });

  it('answers a key store\'s refusal as a 400 with its message, not an internal error', async () => {
    const refused = await call('gateway-keys.create', { name: 'many models', allowedModels: Array.from({ length: 201 }, (_, index) => `model-${index}`) });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: { message: 'A gateway key allows at most 200 models.', code: 'invalid_gateway_key_request' } });
  });

  it('logs an internal failure\'s stack with secrets masked, and tells the client only that it failed', async () => {
    const leaked = 'sk-proj-internal-failure-secret-0123456789';
    const failing = async (): Promise<never> => {
      throw new Error(`upstream said: Incorrect API key provided: ${leaked}`);
    };
    const services = { 'gateway.status': failing } as unknown as OperationHandlers;
    const app = Fastify();
    registerAdmin(app, { services, events: new EventHub(), token, rendererDir: null });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const response = await app.inject({ method: 'POST', url: '/admin/api/gateway.status', headers: { [ADMIN_TOKEN_HEADER]: token }, payload: {} });
      expect(response.statusCode).toBe(500);
      expect(response.body).not.toContain(leaked);
      expect(response.json()).toMatchObject({ error: { code: 'internal_error' } });
    } finally {
      spy.mockRestore();
      await app.close();
    }
    const log = written.join('');
    expect(log).toContain('operation gateway.status failed');
    expect(log).toContain('Incorrect API key provided: sk-…6789');
    expect(log).not.toContain(leaked);
  });

  it('hands out no first-run key in headless mode', async () => {
    const response = await call('gateway-keys.take-first-run-key', null);
    expect(response.status).toBe(200);
    expect(await response.json()).toBeNull();
  });

  it('refuses a foreign browser Origin but accepts its own', async () => {
    const foreign = await call('gateway.status', null, { [ADMIN_TOKEN_HEADER]: token, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const own = await call('gateway.status', null, { [ADMIN_TOKEN_HEADER]: token, origin: running.origin });
    expect(own.status).toBe(200);
  });
});

describe('events', () => {
  it('streams the contract\'s events as SSE to a client with the token', async () => {
    const refused = await fetch(`${running.origin}/admin/api/events`);
    expect(refused.status).toBe(401);
    const controller = new AbortController();
    const response = await fetch(`${running.origin}/admin/api/events`, { headers: { [ADMIN_TOKEN_HEADER]: token }, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    await reader.read(); // ": connected"
    await call('gateway-keys.create', { name: 'evented' });
    let text = '';
    while (!text.includes('gateway-keys.changed')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('event: gateway-keys.changed');
    expect(text).toContain('"name":"evented"');
    controller.abort();
  });
});

describe('the UI files', () => {
  it('serves the page with a strict CSP, assets cached for good, and nothing outside the folder', async () => {
    const redirect = await fetch(`${running.origin}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const page = await fetch(`${running.origin}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<title>Switchyard</title>');
    const asset = await fetch(`${running.origin}/ui/assets/index-abc.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toContain('javascript');
    const traversal = await fetch(`${running.origin}/ui/..%2Fsecret.txt`);
    expect(await traversal.text()).not.toContain('not for the browser');
    const missing = await fetch(`${running.origin}/ui/assets/missing.js`);
    expect(missing.status).toBe(404);
    const route = await fetch(`${running.origin}/ui/inspector`);
    expect(await route.text()).toContain('<title>Switchyard</title>');
  });
});
