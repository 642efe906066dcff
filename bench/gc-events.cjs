/**
 * Preload for bench/tail-account.ts (`NODE_OPTIONS=--require <this>`): records every garbage
 * collection of this process's isolates (main thread and workers) as
 * `<pid> <threadId> <start, epoch ms> <duration ms> <kind>` lines in the file named by
 * SWITCHYARD_BENCH_GC_EVENTS, so slow requests can be matched with pauses. Lines are
 * written twice a second (off the requests' path, mostly); nothing happens without the variable.
 */
'use strict';
const file = process.env.SWITCHYARD_BENCH_GC_EVENTS;
if (file) {
  const { PerformanceObserver, performance } = require('node:perf_hooks');
  const { appendFileSync } = require('node:fs');
  const { threadId } = require('node:worker_threads');
  let lines = '';
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      lines += `${process.pid} ${threadId} ${(performance.timeOrigin + entry.startTime).toFixed(3)} ${entry.duration.toFixed(3)} ${entry.detail ? entry.detail.kind : 0}\n`;
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    if (lines) {
      appendFileSync(file, lines);
      lines = '';
    }
  }, 500).unref();
}
