/**
 * The admin API's own token (separate from gateway keys: it opens the whole app, keys and
 * settings included): generated per start unless given, and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ADMIN_TOKEN_HEADER = 'x-switchyard-admin-token';

export function createAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export class AdminTokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    if (token.length < 16) throw new Error('the admin token must be at least 16 characters');
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
