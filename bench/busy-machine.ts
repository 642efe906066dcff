/**
 * The full gateway on a machine kept busy by other work: `hogs` busy loops of this session (so
 * of its scheduling group: the kernel's autogroup puts a terminal's processes together) fill the
 * cores while autocannon sends a steady `rate` of chat completions for `seconds`. It prints what
 * the clients saw (rate, latency) and how long after the load the log held every request. The
 * request writer yields to the event loop (request-writer-worker-entry.ts); this is the check that
 * the log still keeps up when other programs want the cores too. The SCHED_IDLE trial failed it:
 * answers held ~1 s by the backpressure, the log 13.6 s behind (docs/benchmarks.md, fourteenth
 * session).
 *
 *   npx tsx bench/busy-machine.ts [rate=1000] [seconds=8] [hogs=2]
 *
 * SWITCHYARD_BENCH_BUILDS=<folder>[,<folder>…] runs each build's bin/switchyard.js in turn
 * (a folder as bench/builds-ab.ts describes); by default this checkout's.
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { children, gatewayEnvironment, root, runBench, startChild } from './children.js';

const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 8);
const hogCount = Number(process.argv[4] ?? 2);
const builds = (process.env.SWITCHYARD_BENCH_BUILDS ?? root).split(',').filter(Boolean);
const KEY = 'sy-bench-key';
const body = JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const WARM_UP = 200;

runBench(async () => {
  const fake = await startChild(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  for (const build of builds) {
    const data = mkdtempSync(join(tmpdir(), 'switchyard-busy-'));
    const gateway = await startChild(join(build, 'bin', 'switchyard.js'), ['serve', '--port', '0', '--data-dir', data], gatewayEnvironment(KEY, `http://127.0.0.1:${fake.match[1]}/v1`), /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const url = `http://127.0.0.1:${gateway.match[1]}/v1/chat/completions`;
    await autocannon({ url, method: 'POST', headers, body, connections: 2, amount: WARM_UP });
    const hogs: ChildProcess[] = Array.from({ length: hogCount }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    // Stopped with the other children should the bench fail.
    children.push(...hogs);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const result = await autocannon({ url, method: 'POST', headers, body, connections: 4, overallRate: rate, duration: seconds });
      const expected = result.requests.total + WARM_UP;
      const log = new Database(join(data, 'switchyard.db'), { readonly: true });
      const loadEnded = Date.now();
      let rows = 0;
      let caughtUpMs: number | null = null;
      while (Date.now() - loadEnded < 30_000) {
        rows = log.prepare('SELECT COUNT(*) FROM requests').pluck().get() as number;
        if (rows >= expected) {
          caughtUpMs = Date.now() - loadEnded;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      log.close();
      process.stdout.write(
        `${build} with ${hogCount} busy loops: ${Math.round(result.requests.total / seconds)} req/s of ${rate} asked; latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
          (caughtUpMs === null ? `the log held ${rows} of ${expected} requests 30 s after the load\n` : `the log held all ${expected} requests ${caughtUpMs} ms after the load\n`),
      );
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL');
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) {
        const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
        gateway.child.kill('SIGTERM');
        await exited;
      }
      rmSync(data, { recursive: true, force: true });
    }
  }
});
