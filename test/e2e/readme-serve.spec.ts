/**
 * The README's command, exactly: `npm run serve` from the checkout (tsx, building the UI
 * first when it is missing or stale), then `/ui` in Chromium. The page must be the built
 * app (not the source page, whose `src/main.tsx` a browser refuses) and load without a
 * single console error, the Content-Security-Policy included.
 */
import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

interface Served {
  child: ChildProcess;
  uiUrl: string;
  output: () => string;
}

function npmRunServe(dataDirectory: string): Promise<Served> {
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: process.env.TZ ?? 'UTC',
    SWITCHYARD_API_KEY: 'readme-e2e-gateway-key-2f9c',
    // No provider is reachable: the page must render without any.
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    XAI_BASE_URL: 'http://127.0.0.1:9/v1',
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    GEMINI_BASE_URL: 'http://127.0.0.1:9',
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
    // The test session's Secret Service (scripts/test-with-keyring.sh) under a service name of the test's own.
    DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
    XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR,
    XDG_DATA_HOME: process.env.XDG_DATA_HOME,
    SWITCHYARD_KEYCHAIN_SERVICE: `switchyard-readme-e2e-${process.pid}`,
  };
  // Its own process group: npm, the shell, and tsx's processes are stopped together.
  const child = spawn('npm', ['run', 'serve', '--', '--port', '0', '--data-dir', dataDirectory], { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolveServed, reject) => {
    // Time for a renderer build on a slow machine besides the start.
    const timer = setTimeout(() => reject(new Error(`npm run serve did not print its UI address:\n${output}`)), 90_000);
    const check = (): void => {
      const match = /switchyard: UI (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveServed({ child, uiUrl: match[1] as string, output: () => output });
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run serve exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((done) => child.once('exit', done));
  process.kill(-child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((done) => setTimeout(done, 12_000))]);
  if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
}

test('npm run serve, as the README says, serves a working UI at /ui', async ({ page }) => {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'switchyard-readme-e2e-'));
  let served: Served | undefined;
  try {
    served = await npmRunServe(dataDirectory);
    expect(served.output()).not.toContain('UI not built');
    const origin = new URL(served.uiUrl).origin;

    // The built page: scripts from hashed assets, served as JavaScript, with the policy as a header.
    const index = await fetch(`${origin}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await index.text();
    expect(html).not.toContain('main.tsx');
    expect(html).not.toContain('frame-ancestors');
    const script = /<script[^>]+src="\.\/([^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    const asset = await fetch(`${origin}/ui/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');

    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(served.uiUrl);
    await expect(page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Inspector' })).toBeVisible();
    await expect(page.getByTestId('gateway-url')).toHaveText(`${origin}/v1`);
    await expect(page.getByText('No requests yet')).toBeVisible();
    for (const screen of ['Playground', 'Conversations', 'Analytics', 'Providers & keys', 'Connect', 'Settings', 'Inspector']) {
      await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen }).click();
      await expect(page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen })).toHaveAttribute('aria-current', 'page');
    }
    await page.reload();
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    await page.waitForTimeout(500);
    expect(consoleErrors).toEqual([]);
  } finally {
    if (served) await stop(served.child);
    rmSync(dataDirectory, { recursive: true, force: true });
  }
});
