/**
 * Who may talk to the gateway. Localhost is not a trust boundary: any web page can send
 * requests to 127.0.0.1 and DNS rebinding can make them look same-origin. So the Host
 * header must name a loopback address or a configured host, browser Origins are refused
 * unless allowed, and `/v1/*` needs a gateway key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from './errors.js';
import { maskSecret } from '../secrets/secret-store.js';

export type { GatewayKeyIdentity } from '../core/record.js';
import type { GatewayKeyIdentity } from '../core/record.js';

export interface GatewayAuth {
  /** The key's identity, or null when the token is not a valid key (a shared store answers asynchronously). */
  verify(token: string): GatewayKeyIdentity | null | Promise<GatewayKeyIdentity | null>;
  /** Whether any key exists at all (a gateway with none refuses everything, with a hint). */
  hasKeys(): boolean;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A fixed list of keys (SWITCHYARD_API_KEY for headless use), compared in constant time. */
export class StaticKeyAuth implements GatewayAuth {
  private readonly keys: Array<{ digest: Buffer; identity: GatewayKeyIdentity }>;

  constructor(keys: Array<{ key: string; identity: GatewayKeyIdentity }>) {
    this.keys = keys.filter((entry) => entry.key.length > 0).map((entry) => ({ digest: digest(entry.key), identity: entry.identity }));
  }

  /** Tokens already verified: a fixed key list never changes, so a hit skips the hash. */
  private readonly verified = new Map<string, GatewayKeyIdentity>();

  verify(token: string): GatewayKeyIdentity | null {
    const known = this.verified.get(token);
    if (known) return known;
    const candidate = digest(token);
    let found: GatewayKeyIdentity | null = null;
    for (const entry of this.keys) {
      if (timingSafeEqual(entry.digest, candidate)) found = entry.identity;
    }
    if (found && this.verified.size < 64) this.verified.set(token, found);
    return found;
  }

  hasKeys(): boolean {
    return this.keys.length > 0;
  }
}

export function environmentKeyAuth(environment: NodeJS.ProcessEnv = process.env): StaticKeyAuth {
  const key = environment.SWITCHYARD_API_KEY ?? '';
  return new StaticKeyAuth([{ key, identity: { id: 'env', name: 'SWITCHYARD_API_KEY', tags: [], allowedModels: null } }]);
}

/** Reads the gateway key from `Authorization: Bearer …` or `x-api-key`. */
export function readGatewayToken(headers: Record<string, string | string[] | undefined>): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!.trim();
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey.trim();
  return null;
}

/** A key check that answers at once (a fixed list, SQLite) authenticates synchronously. */
export function authenticate(auth: GatewayAuth & { verify(token: string): GatewayKeyIdentity | null }, headers: Record<string, string | string[] | undefined>): GatewayKeyIdentity;
export function authenticate(auth: GatewayAuth, headers: Record<string, string | string[] | undefined>): GatewayKeyIdentity | Promise<GatewayKeyIdentity>;
export function authenticate(auth: GatewayAuth, headers: Record<string, string | string[] | undefined>): GatewayKeyIdentity | Promise<GatewayKeyIdentity> {
  const token = readGatewayToken(headers);
  if (!auth.hasKeys()) {
    throw new GatewayError(
      401,
      'This Switchyard gateway has no gateway key configured, so it refuses every request. Set SWITCHYARD_API_KEY before starting it (or create a key in the app), then send it as "Authorization: Bearer <key>".',
      { type: 'invalid_request_error', code: 'gateway_key_not_configured' },
    );
  }
  if (token === null) {
    throw new GatewayError(
      401,
      'You didn\'t provide a gateway key. Send your Switchyard key in an "Authorization: Bearer <key>" header (or "x-api-key").',
      { type: 'invalid_request_error', code: 'missing_api_key' },
    );
  }
  const identity = auth.verify(token);
  if (identity instanceof Promise) return identity.then((found) => found ?? refuseKey(token));
  return identity ?? refuseKey(token);
}

function refuseKey(token: string): never {
  throw new GatewayError(401, `Incorrect gateway key provided: ${maskSecret(token)}. Use a key created for this Switchyard gateway.`, {
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  });
}

/** Host names accepted in the Host header. */
export class HostPolicy {
  private readonly allowed: Set<string>;

  constructor(listenHost: string, allowedHosts: readonly string[]) {
    this.allowed = new Set(['localhost', '127.0.0.1', '::1', ...allowedHosts.map((host) => host.toLowerCase())]);
    const host = listenHost.toLowerCase().replace(/^\[|\]$/g, '');
    if (host !== '0.0.0.0' && host !== '::') this.allowed.add(host);
  }

  /** The host name of a Host header value (port and IPv6 brackets removed). */
  static hostName(header: string): string {
    const value = header.trim().toLowerCase();
    if (value.startsWith('[')) {
      const end = value.indexOf(']');
      return end > 0 ? value.slice(1, end) : value;
    }
    const colon = value.indexOf(':');
    return colon === -1 ? value : value.slice(0, colon);
  }

  isAllowed(header: string | undefined): boolean {
    if (!header) return false;
    const name = HostPolicy.hostName(header);
    if (this.allowed.has(name)) return true;
    // The whole 127.0.0.0/8 block is loopback, and *.localhost names resolve to it (RFC 6761).
    return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name.endsWith('.localhost');
  }

  check(header: string | undefined): void {
    if (this.isAllowed(header)) return;
    throw new GatewayError(
      403,
      `Host '${header ?? ''}' is not allowed. Switchyard answers only to loopback names (localhost, 127.0.0.1, [::1]) and hosts listed in "allowedHosts" in the config file; this protects it from DNS rebinding.`,
      { type: 'permission_error', code: 'host_not_allowed' },
    );
  }
}

/** Browser origins allowed to call the gateway; all others are refused. */
export class OriginPolicy {
  private readonly allowed: Set<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.allowed = new Set(allowedOrigins.map((origin) => origin.toLowerCase()));
  }

  /** Origins listed in the config (CORS headers are sent for these). */
  isListed(origin: string): boolean {
    return this.allowed.has('*') || this.allowed.has(origin.toLowerCase());
  }

  /**
   * A request without an Origin (SDKs, curl, IDE tools) passes. A browser origin passes
   * only when listed, or when it is the gateway's own origin (its bundled UI).
   */
  check(origin: string | undefined, host: string | undefined): { cors: boolean } {
    if (origin === undefined) return { cors: false };
    if (this.isListed(origin)) return { cors: true };
    if (host && (origin.toLowerCase() === `http://${host.toLowerCase()}`)) return { cors: false };
    throw new GatewayError(
      403,
      `Requests from the browser origin '${origin}' are refused. If you trust this page, add it to "allowedOrigins" in the Switchyard config file.`,
      { type: 'permission_error', code: 'origin_not_allowed' },
    );
  }
}
