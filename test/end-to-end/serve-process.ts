/**
 * Runs `switchyard serve` as a real child process (through tsx, as `npm run serve` does)
 * and the CLI's other commands, for tests that need the whole program: storage, shutdown,
 * a kill -9.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'main', 'cli.ts');
// One process, not tsx's wrapper and a child: a kill -9 must hit the gateway itself.
const nodeArguments = ['--import', 'tsx', cli];

export interface ServeProcess {
  child: ChildProcess;
  origin: string;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

export function startServe(args: string[], environment: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...nodeArguments, 'serve', '--port', '0', ...args], {
    cwd: root,
    env: { ...process.env, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1', LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Generous: several tsx processes starting at once on a loaded 2-core machine. Not left
      // running when given up on: the caller never gets it to stop.
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in time:\n${output}`));
    }, 45_000);
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, origin: match[1]!, output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (data: Buffer) => {
      output += data.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${output}`));
    });
  });
}

export function runCli(args: string[], environment: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArguments, ...args], { cwd: root, env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
