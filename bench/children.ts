/**
 * Child processes for the benchmarks: started from the repository root, resolved once
 * their output matches `ready` (a port, "listening on …"), remembered in `children` so
 * the bench can stop them all at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export const root = join(import.meta.dirname, '..');
export const children: ChildProcess[] = [];

/** `log`: a file that keeps everything the child writes on its standard output. */
export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, log?: string): Promise<{ child: ChildProcess; match: RegExpExecArray; readyMs: number }> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  if (log) child.stdout!.on('data', (data: Buffer) => appendFileSync(log, data));
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = ready.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve({ child, match, readyMs: performance.now() - started });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (data: Buffer) => {
      if (/error/i.test(data.toString())) process.stderr.write(data);
    });
    child.on('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${output}`)));
  });
}

/**
 * How the benches start the full gateway: as a user does, by executing bin/switchyard.js so
 * that the node flags on its shebang line apply. SWITCHYARD_BENCH_NODE="<flags>" runs
 * `node <flags> bin/switchyard.js` instead (an empty value: plain node), for A/B runs of
 * flags; `extraNodeFlags` (a profiler) also switches to an explicit node.
 */
export function gatewayCommand(args: string[], extraNodeFlags: string[] = []): [string, string[]] {
  const bin = join(root, 'bin', 'switchyard.js');
  if (process.env.SWITCHYARD_BENCH_NODE === undefined && extraNodeFlags.length === 0) return [bin, args];
  return [process.execPath, [...gatewayNodeFlags(), ...extraNodeFlags, bin, ...args]];
}

/**
 * The environment the benches start the full gateway with: their gateway key, no OS keychain,
 * OpenAI at `openaiUrl` (a fake), and nothing listening for the local providers (the discard
 * port: they answer "unreachable" at once).
 */
export function gatewayEnvironment(key: string, openaiUrl: string): Record<string, string> {
  return {
    SWITCHYARD_API_KEY: key,
    SWITCHYARD_KEYCHAIN: 'off',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: openaiUrl,
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
  };
}

/** The node flags the full gateway runs with in the benches: SWITCHYARD_BENCH_NODE's, else those of bin/switchyard.js's shebang line. */
export function gatewayNodeFlags(): string[] {
  const flags = process.env.SWITCHYARD_BENCH_NODE;
  return flags === undefined ? shebangNodeFlags(join(root, 'bin', 'switchyard.js')) : flags.split(' ').filter(Boolean);
}

/** The node flags on a `#!/usr/bin/env -S node …` line. */
export function shebangNodeFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const words = first.replace(/^#!\S*env\s+-S\s+/, '').split(/\s+/).filter(Boolean);
  return words.slice(words.indexOf('node') + 1);
}

/** One thread's account from the scheduler: ns it ran, ns it waited ready for a core, and its slices on a core. */
export interface ThreadTimes {
  runNs: number;
  waitNs: number;
  slices: number;
}

/**
 * The scheduler's own account of each thread of a process, keyed `<name>#<tid>`
 * (`/proc/<pid>/task/<tid>/schedstat`; /proc's stat counts 10 ms ticks).
 */
export function threadTimes(pid: number): Map<string, ThreadTimes> {
  const threads = new Map<string, ThreadTimes>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim();
      const [runNs, waitNs, slices] = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').trim().split(' ').map(Number);
      threads.set(`${name}#${task}`, { runNs: runNs ?? 0, waitNs: waitNs ?? 0, slices: slices ?? 0 });
    } catch {
      // the thread ended
    }
  }
  return threads;
}

/** CPU time of each thread of a process in ms, keyed `<name>#<tid>` (threadTimes' run time). */
export function threadCpuMs(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  for (const [name, times] of threadTimes(pid)) threads.set(name, times.runNs / 1e6);
  return threads;
}

/** Busy and total jiffies of all cores (the first line of /proc/stat; idle and iowait count as not busy). */
export function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** Stops every child a bench started. */
export function stopChildren(): void {
  for (const child of children) {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
}

/** Runs a bench's `main`, then stops its children and exits (1, with the stack, when it failed). */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => {
      stopChildren();
      process.exit(0);
    },
    (error: unknown) => {
      stopChildren();
      process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}

/** Sends `count` chat completions with `body` over `connections` keep-alive connections, each answer read whole; throws on a status other than 200. */
export async function driveChat(port: number, key: string, body: string, count: number, connections: number): Promise<void> {
  const client = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < count) {
        const response = await client.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
        await response.body.arrayBuffer();
        if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      }
    }),
  );
  await client.close();
}
