/**
 * The gateway's core for the benchmark: buildGateway with routing, auth, translation and
 * the encoder, but no request log, keychain or UI services — so the bench can show what
 * the proxy path costs apart from what logging every request costs. Prints its port.
 */
import { StaticKeyAuth } from '../src/main/gateway/access.js';
import { loadConfig } from '../src/main/gateway/config.js';
import { buildGateway } from '../src/main/gateway/server.js';
import { EnvironmentSecretStore } from '../src/main/secrets/secret-store.js';
import { applyRuntimeV8Flags } from '../src/main/v8-runtime-flags.js';

// As the full gateway runs (src/main/headless.ts startGateway), for a like-for-like comparison.
applyRuntimeV8Flags();

const config = loadConfig({ environment: process.env, overrides: { host: '127.0.0.1', port: 0 } });
const auth = new StaticKeyAuth([{ key: process.env.SWITCHYARD_API_KEY ?? '', identity: { id: 'bench', name: 'bench', tags: [], allowedModels: null } }]);
const app = buildGateway({ config, auth, secrets: new EnvironmentSecretStore(config.providers, process.env) });
app.listen({ host: '127.0.0.1', port: 0 }).then(() => {
  const address = app.server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
// A clean exit on either signal, so that --cpu-prof writes its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
