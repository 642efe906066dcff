/**
 * Shared plumbing of the throwaway database servers the storage tests start: a free
 * loopback port, a private temporary folder, running a binary as the unprivileged
 * `postgres` user when the tests run as root, and waiting for a port to accept.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chownSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The first of `candidates` that exists, or null. */
export function findBinary(candidates: string[]): string | null {
  for (const candidate of candidates) {
    if (candidate.includes('/')) {
      if (existsSync(candidate)) return candidate;
      continue;
    }
    try {
      return execFileSync('which', [candidate], { encoding: 'utf8' }).trim() || null;
    } catch {
      // not on PATH
    }
  }
  return null;
}

export const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A temporary folder; owned by `owner` (a user name) when given and running as root. */
export function temporaryFolder(prefix: string, owner?: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  if (owner && runningAsRoot) {
    const uid = Number(execFileSync('id', ['-u', owner], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', owner], { encoding: 'utf8' }).trim());
    chownSync(folder, uid, gid);
  }
  return folder;
}

/** The command line that runs `binary` as `user` when root (PostgreSQL refuses to run as root), else as is. */
export function asUser(user: string | null, binary: string, args: string[]): [string, string[]] {
  if (user && runningAsRoot) return ['runuser', ['-u', user, '--', binary, ...args]];
  return [binary, args];
}

export function run(user: string | null, binary: string, args: string[]): string {
  const [command, commandArgs] = asUser(user, binary, args);
  return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function spawnAs(user: string | null, binary: string, args: string[]): ChildProcess {
  const [command, commandArgs] = asUser(user, binary, args);
  return spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects after `attempts` tries 50 ms apart. */
export async function waitForPort(port: number, attempts = 200): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

export function removeFolder(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
}
