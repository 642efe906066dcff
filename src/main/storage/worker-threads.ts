/**
 * Starting storage's worker threads from source and from a bundle alike. From source
 * (tsx, vitest: module URLs end in `.ts`) the `.ts` entry is started through a small
 * evaluated bootstrap that registers tsx's ESM loader first, because Node 20 does not
 * apply `--import tsx` from a Worker's execArgv. From a bundle, the entry is the `.js`
 * file of the same name beside the bundle (or one folder up, when this code sits in a
 * shared chunk), so the build must emit each entry under its own name.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** The URL of a worker entry named `name` (without extension), next to this module or the bundle. */
export function workerEntryUrl(name: string, moduleUrl: string = import.meta.url): URL {
  if (moduleUrl.endsWith('.ts')) return new URL(`./${name}.ts`, moduleUrl);
  const candidates = [new URL(`./${name}.js`, moduleUrl), new URL(`../${name}.js`, moduleUrl)];
  return candidates.find((candidate) => existsSync(fileURLToPath(candidate))) ?? (candidates[0] as URL);
}

/** The URL of tsx's ESM API, read from tsx's export map so no internal path is assumed. */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const target = manifest.exports['./esm/api']?.import?.default;
  if (!target) throw new Error('tsx does not export ./esm/api; cannot start a TypeScript worker');
  return pathToFileURL(path.join(path.dirname(manifestPath), target)).href;
}

export function startWorker(workerUrl: URL, workerData: unknown, execArgv: string[] = [], resourceLimits?: ResourceLimits): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, { workerData, execArgv, resourceLimits });
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv, resourceLimits });
}

/** The nice value of the request log's writer thread (Linux): see request-writer-worker-entry.ts. */
export const BACKGROUND_THREAD_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority to `nice` (Linux, where a thread has its own
 * nice value and `/proc/thread-self` names it; a thread may always lower its own). Elsewhere
 * `os.setPriority` would reach the whole process, so nothing is done there. A thread already at
 * `nice` or lower keeps its priority. Never throws: a thread it cannot name keeps its priority.
 */
export function lowerThreadPriority(nice: number): void {
  if (process.platform !== 'linux') return;
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    // A process started at a lower priority already (nice 15, say) keeps it: this only ever lowers.
    if (Number.isInteger(threadId) && threadId > 0 && getPriority(threadId) < nice) setPriority(threadId, nice);
  } catch {
    // No /proc, or a priority this thread may not set: it runs as it was started.
  }
}
