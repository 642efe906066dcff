/**
 * Starts what the browser tests drive: provider fakes on 127.0.0.1 and the built headless
 * gateway (`node out/main/cli.js serve --port 0`) pointed at them, and reads the UI
 * address (with its admin token) from the gateway's output. Builds first when the
 * renderer or the CLI bundle is missing. A test may give a config file's contents
 * (circuit breakers, concurrency limits …).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAnthropicFake, type ProviderFake } from '../fakes/anthropic-fake.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

export const OPENAI_TEST_KEY = 'sk-e2e-openai-key-7f3a9c2e41';
export const ANTHROPIC_TEST_KEY = 'sk-ant-e2e-anthropic-key-55d0';

export interface ServedApp {
  uiUrl: string;
  origin: string;
  openai: OpenAIFake;
  ollama: OpenAIFake;
  anthropic: ProviderFake;
  output: () => string;
  close(): Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');

export interface ServeOptions {
  /** Written as the config file given with --config. */
  config?: Record<string, unknown>;
  /** More environment for the gateway (SWITCHYARD_REDIS_URL …). */
  environment?: NodeJS.ProcessEnv;
}

export async function serveApp(options: ServeOptions = {}): Promise<ServedApp> {
  const cli = join(root, 'out/main/cli.js');
  if (!existsSync(cli) || !existsSync(join(root, 'out/renderer/index.html'))) {
    const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npx electron-vite build failed');
  }
  const openai = await startOpenAIFake({ flavor: 'openai', apiKey: OPENAI_TEST_KEY });
  const ollama = await startOpenAIFake({ flavor: 'ollama' });
  const anthropic = await startAnthropicFake({ apiKey: ANTHROPIC_TEST_KEY });
  const dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OPENAI_BASE_URL: openai.url,
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_API_KEY: ANTHROPIC_TEST_KEY,
    OLLAMA_BASE_URL: ollama.url,
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
    XAI_BASE_URL: 'http://127.0.0.1:9/v1',
    GEMINI_BASE_URL: 'http://127.0.0.1:9',
    TZ: process.env.TZ ?? 'UTC',
    // The Secret Service of the test session (scripts/test-with-keyring.sh), under a service
    // name of the test's own so a developer's real `switchyard` keychain entries are never touched.
    DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
    XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR,
    XDG_DATA_HOME: process.env.XDG_DATA_HOME,
    SWITCHYARD_KEYCHAIN_SERVICE: `switchyard-e2e-${process.pid}`,
    ...options.environment,
  };
  const configArguments: string[] = [];
  if (options.config) {
    const configFile = join(dataDirectory, 'e2e-config.json');
    writeFileSync(configFile, JSON.stringify(options.config));
    configArguments.push('--config', configFile);
  }
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data-dir', dataDirectory, ...configArguments], { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const uiUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchyard serve did not print its UI address:\n${output}`)), 20_000);
    const check = (): void => {
      const match = /switchyard: UI (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1] as string);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`switchyard serve exited with ${code}:\n${output}`));
    });
  });
  return {
    uiUrl,
    origin: new URL(uiUrl).origin,
    openai,
    ollama,
    anthropic,
    output: () => output,
    async close() {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 12_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await Promise.all([openai.close(), ollama.close(), anthropic.close()]);
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}
