#!/usr/bin/env node
/**
 * out/main/cli.js: runs the CLI (src/main/cli.ts) from its one-file CommonJS build,
 * out/main/cli-main.cjs, with a V8 code cache (src/main/code-cache.ts), so `switchyard serve`
 * does not compile the whole bundle on every start. The cache is written after the first
 * answer, on a later turn of the event loop, off the path to that answer.
 * Without the .cjs (a build without scripts/serve-bundle.ts) it imports the ESM build.
 * The build also writes it as CommonJS, out/main/cli.cjs, which bin/switchyard.js requires: a
 * CommonJS main module spares Node its ES module loader (scripts/serve-bundle.ts).
 * `SWITCHYARD_STARTUP_TRACE=1` prints, after the first answer, when each phase of the start
 * ended: wall ms since the process started / CPU ms of the process (bench/startup.ts reads it).
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { codeCacheDirectory, runCachedBundle } from './code-cache.js';
import { onStartupMilestone } from './startup-ready.js';
import { applyRuntimeV8Flags } from './v8-runtime-flags.js';

/** Without a request, the code cache is written this long after the gateway listens. */
const IDLE_CACHE_WRITE_MS = 2_000;

// Before the code cache is read: it is accepted only under the flags it was made with.
applyRuntimeV8Flags();

const bundlePath = fileURLToPath(new URL('./cli-main.cjs', import.meta.url));
if (existsSync(bundlePath)) {
  const debug = process.env.SWITCHYARD_CODE_CACHE_DEBUG === '1';
  const phases: string[] | null = process.env.SWITCHYARD_STARTUP_TRACE === '1' ? [] : null;
  const mark = (phase: string): void => {
    if (!phases) return;
    const { user, system } = process.cpuUsage();
    phases.push(`${phase}=${performance.now().toFixed(1)}/${((user + system) / 1000).toFixed(1)}`);
  };
  mark('loader');
  let run: ReturnType<typeof runCachedBundle> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const write = (after: 'answer' | 'idle'): void => {
    const outcome = run?.writeCache(after) ?? 'unneeded';
    if (debug && outcome !== 'unneeded') process.stderr.write(`switchyard: code cache ${outcome}\n`);
  };
  // After the first answer (its code is then compiled and goes into the cache too), on a
  // later turn of the event loop; or, with no request, a while after listening.
  onStartupMilestone((milestone) => {
    mark(milestone);
    if (phases && milestone === 'answered') process.stderr.write(`switchyard: start-up ${phases.join(' ')}\n`);
    clearTimeout(timer);
    timer = setTimeout(() => write(milestone === 'listening' ? 'idle' : 'answer'), milestone === 'listening' ? IDLE_CACHE_WRITE_MS : 0).unref();
  });
  run = runCachedBundle(bundlePath, codeCacheDirectory(), mark);
  if (debug) process.stderr.write(`switchyard: code cache ${run.state}\n`);
} else {
  // Not awaited: this loader is also built as CommonJS (out/main/cli.cjs, the bin's), which has
  // no top-level await; a failure is an unhandled rejection, which ends the process as one would.
  void import(new URL('./cli-main.js', import.meta.url).href);
}
