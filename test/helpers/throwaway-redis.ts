/**
 * A throwaway Redis for tests: `redis-server` on a free loopback port with no persistence,
 * working directory in a temporary folder; stop() kills it and removes the folder.
 * `.ci/run` installs `redis-server`; where it is absent, starting one throws saying what to install (the tests fail; they are not skipped).
 */
import { findBinary, freeLoopbackPort, removeFolder, spawnAs, temporaryFolder, waitForPort } from './throwaway-server.js';

export interface ThrowawayRedis {
  /** `redis://127.0.0.1:port` */
  url: string;
  port: number;
  /** The server's process id (a test may SIGSTOP it: a Redis that hangs instead of closing). */
  pid: number;
  stop(): Promise<void>;
}

const redisBinary = findBinary(['redis-server', '/usr/bin/redis-server', '/usr/sbin/redis-server']);

const redisUnavailable: string | null = redisBinary ? null : 'redis-server is not installed; .ci/run installs the Debian package `redis-server`';

/** `port`: start on this one (a Redis restarted where the gateways expect it); default a free one. */
export async function startThrowawayRedis(options: { port?: number } = {}): Promise<ThrowawayRedis> {
  if (!redisBinary) throw new Error(redisUnavailable ?? 'no redis-server');
  const folder = temporaryFolder('switchyard-redis-');
  const port = options.port ?? (await freeLoopbackPort());
  const child = spawnAs(null, redisBinary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', folder]);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(port),
      exited.then(() => {
        throw new Error(`redis-server exited: ${output.trim()}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    removeFolder(folder);
    throw error;
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        await exited;
      }
      removeFolder(folder);
    },
  };
}
