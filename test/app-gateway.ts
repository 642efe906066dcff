/**
 * A gateway started as `switchyard serve` starts it — config file, request log, gateway keys,
 * services — in a data folder of the test's, with an in-memory keychain, local presets
 * pointed where nothing runs, and one gateway key made for it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../src/main/headless.js';
import { KeychainProviderKeyManager } from '../src/main/secrets/keychain.js';
import { MemoryKeytar } from './secrets/keychain-under-test.js';

let started = 0;

export async function startAppGateway(options: { dataDir: string; config?: Record<string, unknown>; environment?: NodeJS.ProcessEnv }): Promise<{ gateway: RunningGateway; key: string }> {
  const configFile = join(options.dataDir, 'test-config.json');
  writeFileSync(configFile, JSON.stringify({ retries: { maxRetries: 0 }, ...options.config }));
  started += 1;
  const gateway = await startGateway({
    providerKeys: await KeychainProviderKeyManager.open(new MemoryKeytar(), { service: `switchyard-app-test-${process.pid}-${started}`, refreshIntervalMs: 0 }),
    dataDir: options.dataDir,
    configFile,
    host: '127.0.0.1',
    port: 0,
    environment: {
      OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
      LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
      SWITCHYARD_RUNTIME_DIR: join(options.dataDir, 'run'),
      ...options.environment,
    },
  });
  const key = (await gateway.application.services['gateway-keys.create']({ name: `test-key-${started}` })).key;
  return { gateway, key };
}
