/**
 * The admin API's own token (separate from gateway keys: it opens the whole app, keys and
 * settings included): generated per start unless given, and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ADMIN_TOKEN_HEADER = 'x-switchyard-admin-token';
export const MINIMUM_ADMIN_TOKEN_LENGTH = 16;

export function createAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token `switchyard serve` uses: SWITCHYARD_ADMIN_TOKEN when it is long enough, else a
 * new random one. A token set but too short is not dropped silently: `warn` says so (the
 * user scripted around that token and would otherwise wonder why it is refused).
 */
export function adminTokenFromEnvironment(environment: NodeJS.ProcessEnv, warn: (message: string) => void): string {
  const given = environment.SWITCHYARD_ADMIN_TOKEN;
  if (given !== undefined && given.length >= MINIMUM_ADMIN_TOKEN_LENGTH) return given;
  if (given !== undefined && given.length > 0) {
    warn(`SWITCHYARD_ADMIN_TOKEN is too short (${given.length} characters, at least ${MINIMUM_ADMIN_TOKEN_LENGTH} needed); using a random admin token instead`);
  }
  return createAdminToken();
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export class AdminTokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    if (token.length < MINIMUM_ADMIN_TOKEN_LENGTH) throw new Error(`the admin token must be at least ${MINIMUM_ADMIN_TOKEN_LENGTH} characters`);
    this.expected = digest(token);
  }

  /** Digests first, so the comparison takes the same time whatever the candidate's length. */
  matches(candidate: string | string[] | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length === 0) return false;
    return timingSafeEqual(digest(candidate), this.expected);
  }
}

/** The browser UI's address: the token rides in the fragment, which browsers never send to a server. */
export function adminUiUrl(origin: string, token: string): string {
  return `${origin}/ui/#token=${encodeURIComponent(token)}`;
}
