#!/usr/bin/env -S node --heap-growing-percent=80 --max-semi-space-size=4 --v8-pool-size=2 --no-parallel-scavenge
// The node flags above keep the gateway's resident memory small under load (docs/benchmarks.md,
// "Memory and tail latency, third session"): a 4 MB semi-space instead of 16, and the old
// generation grown by 1.8× its live size between full collections instead of V8's 4× (the
// heap's limit stays V8's default, so a burst of large bodies does not abort the process);
// two V8 helper threads instead of four (fewer threads'
// malloc arenas, no measurable CPU cost); young-generation collections on the main thread
// alone, which on a busy machine no longer wait for a preempted helper (median pause 0.6 ms
// instead of 1.6–2.7 ms at one connection). Heap sizes are fixed when the isolate is created,
// so they must be on the command line (v8.setFlagsFromString comes too late). npm's Windows
// shims read `env -S` lines; where env lacks -S (busybox), run `node <flags> bin/switchyard.js`.
// Installed entry point: runs the built CLI (`npm run build` produces out/main/). It is CommonJS
// (bin/package.json) and requires the loader's CommonJS build, out/main/cli.cjs: a CommonJS main
// module spares Node its ES module loader, whose built-in modules the flags above make Node
// compile at every start (docs/benchmarks.md, "Start-up, fourth session").
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'out', 'main', 'cli.cjs');
if (existsSync(cli)) {
  require(cli);
} else {
  process.stderr.write('switchyard: the CLI is not built yet; run `npm run build` (or use `npm run cli -- <command>` from a checkout)\n');
  process.exit(1);
}
