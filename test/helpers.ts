/**
 * Shared test plumbing: a real gateway listening on 127.0.0.1:0 built from a config and an
 * environment, with every finished request record collected for assertions.
 */
import OpenAI from 'openai';
import { StaticKeyAuth } from '../src/main/gateway/access.js';
import { loadConfig, type ConfigFile } from '../src/main/gateway/config.js';
import type { RequestObserver } from '../src/main/gateway/context.js';
import { buildGateway } from '../src/main/gateway/server.js';
import type { Policy } from '../src/main/gateway/pipeline/policy.js';
import type { RequestRecord } from '../src/main/gateway/types.js';
import { EnvironmentSecretStore } from '../src/main/secrets/secret-store.js';

export const GATEWAY_KEY = 'sy-test-gateway-key-0123456789';

export interface TestGateway {
  origin: string;
  baseURL: string;
  records: RequestRecord[];
  /** Resolves with the record of the next request that finishes. */
  nextRecord(): Promise<RequestRecord>;
  client(options?: ConstructorParameters<typeof OpenAI>[0]): OpenAI;
  close(): Promise<void>;
}

export async function startTestGateway(options: { environment?: NodeJS.ProcessEnv; file?: ConfigFile; auth?: boolean; policies?: Policy[] } = {}): Promise<TestGateway> {
  // Local presets point at ports where nothing of ours runs unless a test says so.
  const environment: NodeJS.ProcessEnv = {
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
    ...options.environment,
  };
  // Tests of one upstream answer see it unretried, and failing upstreams on purpose must not
  // open a circuit for the next test; the reliability tests set both themselves.
  const file: ConfigFile = { retries: { maxRetries: 0 }, circuitBreaker: { failureThreshold: 1_000_000, minimumRequests: 1_000_000 }, ...options.file };
  const config = loadConfig({ file, environment, overrides: { host: '127.0.0.1', port: 0, auth: options.auth } });
  const records: RequestRecord[] = [];
  const waiters: Array<(record: RequestRecord) => void> = [];
  const observer: RequestObserver = {
    requestFinished(record) {
      records.push(record);
      waiters.shift()?.(record);
    },
  };
  const auth = new StaticKeyAuth([{ key: GATEWAY_KEY, identity: { id: 'test', name: 'test', tags: [], allowedModels: null } }]);
  const app = buildGateway({ config, auth, secrets: new EnvironmentSecretStore(config.providers, environment), observers: [observer], policies: options.policies });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseURL: `${origin}/v1`,
    records,
    nextRecord: () => new Promise((resolve) => waiters.push(resolve)),
    client: (clientOptions) => new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${origin}/v1`, maxRetries: 0, ...clientOptions }),
    close: () => app.close(),
  };
}
