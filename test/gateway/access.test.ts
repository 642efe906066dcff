/** Host (DNS rebinding), Origin and gateway-key checks. */
import { describe, expect, it } from 'vitest';
import { HostPolicy, OriginPolicy, StaticKeyAuth, authenticate, environmentKeyAuth, readGatewayToken } from '../../src/main/gateway/access.js';
import { GatewayError } from '../../src/main/gateway/errors.js';

function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('HostPolicy', () => {
  const policy = new HostPolicy('127.0.0.1', []);

  it.each([
    'localhost',
    'localhost:4141',
    'LOCALHOST:4141',
    '127.0.0.1',
    '127.0.0.1:4141',
    '127.0.0.5',
    '127.255.0.1:80',
    '[::1]',
    '[::1]:4141',
    'foo.localhost',
    'foo.localhost:4141',
  ])('allows %s', (host) => {
    expect(policy.isAllowed(host)).toBe(true);
    expect(() => policy.check(host)).not.toThrow();
  });

  it.each([
    'evil.com',
    'evil.com:4141',
    '127.0.0.1.evil.com',
    '127.0.0.1.evil.com:4141',
    'localhost.evil.com',
    'localhost.evil.com:4141',
    'evil-localhost',
    'mylocalhost',
    '0.0.0.0',
    '128.0.0.1',
    '10.0.0.1',
    '[::2]:4141',
    '[::ffff:7f00:1]',
    '',
    undefined,
  ])('refuses %s with a 403 in OpenAI shape', (host) => {
    expect(policy.isAllowed(host)).toBe(false);
    const error = thrown(() => policy.check(host));
    expect(error.status).toBe(403);
    expect(error.toBody()).toMatchObject({ type: 'permission_error', code: 'host_not_allowed', param: null });
    expect(error.message).toContain('allowedHosts');
  });

  it('allows the configured listen host and allowedHosts, never a wildcard listen address', () => {
    const lan = new HostPolicy('192.168.1.20', ['MyBox.lan']);
    expect(lan.isAllowed('192.168.1.20:4141')).toBe(true);
    expect(lan.isAllowed('mybox.lan:4141')).toBe(true);
    expect(lan.isAllowed('evil.com')).toBe(false);
    const any = new HostPolicy('0.0.0.0', []);
    expect(any.isAllowed('0.0.0.0:4141')).toBe(false);
    expect(new HostPolicy('::', []).isAllowed('[::]:4141')).toBe(false);
    expect(new HostPolicy('[::1]', []).isAllowed('[::1]:1')).toBe(true);
  });
});

describe('OriginPolicy', () => {
  const policy = new OriginPolicy(['https://app.example', 'http://localhost:5173']);

  it('lets requests without an Origin through, without CORS', () => {
    expect(policy.check(undefined, '127.0.0.1:4141')).toEqual({ cors: false });
  });

  it('answers CORS for listed origins (case-insensitive)', () => {
    expect(policy.check('https://app.example', '127.0.0.1:4141')).toEqual({ cors: true });
    expect(policy.check('HTTPS://APP.EXAMPLE', '127.0.0.1:4141')).toEqual({ cors: true });
    expect(policy.check('http://localhost:5173', '127.0.0.1:4141')).toEqual({ cors: true });
  });

  it("accepts the gateway's own origin without CORS", () => {
    expect(policy.check('http://127.0.0.1:4141', '127.0.0.1:4141')).toEqual({ cors: false });
  });

  it.each(['https://evil.example', 'null', 'http://localhost:5174', 'https://app.example.evil.com', 'http://127.0.0.1:9999'])('refuses %s', (origin) => {
    const error = thrown(() => policy.check(origin, '127.0.0.1:4141'));
    expect(error.status).toBe(403);
    expect(error.toBody()).toMatchObject({ type: 'permission_error', code: 'origin_not_allowed', param: null });
    expect(error.message).toContain('allowedOrigins');
  });

  it('a wildcard allows every origin', () => {
    expect(new OriginPolicy(['*']).check('https://anything.example', 'localhost')).toEqual({ cors: true });
  });
});

describe('gateway keys', () => {
  const identity = { id: 'k1', name: 'test', tags: [], allowedModels: null };
  const auth = new StaticKeyAuth([{ key: 'sy-secret-key-1234', identity }]);

  it('reads Bearer and x-api-key', () => {
    expect(readGatewayToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(readGatewayToken({ authorization: 'bearer   abc  ' })).toBe('abc');
    expect(readGatewayToken({ 'x-api-key': 'xyz' })).toBe('xyz');
    expect(readGatewayToken({ authorization: 'Basic Zm9vOmJhcg==' })).toBeNull();
    expect(readGatewayToken({})).toBeNull();
  });

  it('accepts the right key, refuses missing and wrong keys with 401s that never echo the key', () => {
    expect(authenticate(auth, { authorization: 'Bearer sy-secret-key-1234' })).toBe(identity);
    expect(authenticate(auth, { 'x-api-key': 'sy-secret-key-1234' })).toBe(identity);
    const missing = thrown(() => authenticate(auth, {}));
    expect(missing.status).toBe(401);
    expect(missing.code).toBe('missing_api_key');
    const wrong = thrown(() => authenticate(auth, { authorization: 'Bearer sy-wrong-key-99999999' }));
    expect(wrong.status).toBe(401);
    expect(wrong.code).toBe('invalid_api_key');
    expect(wrong.message).not.toContain('sy-wrong-key-99999999');
  });

  it('a gateway without keys refuses everything with a hint', () => {
    const none = environmentKeyAuth({});
    expect(none.hasKeys()).toBe(false);
    const error = thrown(() => authenticate(none, { authorization: 'Bearer anything' }));
    expect(error.status).toBe(401);
    expect(error.message).toContain('SWITCHYARD_API_KEY');
    expect(authenticate(environmentKeyAuth({ SWITCHYARD_API_KEY: 'k-env' }), { 'x-api-key': 'k-env' }).id).toBe('env');
  });
});
