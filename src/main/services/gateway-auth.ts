/**
 * The gateway's key check for the app: the SWITCHYARD_API_KEY from the environment, the
 * keys created in the app (GatewayKeyManager), and one internal key per run for the
 * playground, which calls the gateway like any client. Every key is compared by digest
 * in constant time; nothing here loosens the deny-by-default rule.
 */
import { randomBytes } from 'node:crypto';
import { StaticKeyAuth, type GatewayAuth, type GatewayKeyIdentity } from '../gateway/access.js';
import type { GatewayKeyManager } from './key-managers.js';

export const PLAYGROUND_KEY_ID = 'playground';
export const PLAYGROUND_TAGS = [{ key: 'source', value: 'playground' }];

export class AppGatewayAuth implements GatewayAuth {
  /** Created per process; given to the renderer's playground only. */
  readonly playgroundKey = `sy-playground-${randomBytes(24).toString('base64url')}`;
  private readonly fixed: StaticKeyAuth;
  private readonly environmentKeyPresent: boolean;

  constructor(
    private readonly managed: GatewayKeyManager,
    environmentKey: string | undefined,
  ) {
    this.environmentKeyPresent = Boolean(environmentKey);
    this.fixed = new StaticKeyAuth([
      { key: environmentKey ?? '', identity: { id: 'env', name: 'SWITCHYARD_API_KEY', tags: [], allowedModels: null } },
      { key: this.playgroundKey, identity: { id: PLAYGROUND_KEY_ID, name: 'Playground', tags: PLAYGROUND_TAGS, allowedModels: null } },
    ]);
  }

  get hasEnvironmentKey(): boolean {
    return this.environmentKeyPresent;
  }

  verify(token: string): GatewayKeyIdentity | null | Promise<GatewayKeyIdentity | null> {
    return this.fixed.verify(token) ?? this.managed.verify(token);
  }

  /** Always true: the playground key exists. Clients without a key get "missing key", not "none configured". */
  hasKeys(): boolean {
    return true;
  }

  /** Keys a client outside the app could use: the environment key or a created one. */
  hasClientKeys(): boolean {
    return this.environmentKeyPresent || this.managed.hasKeys();
  }
}
