/**
 * How each thread spent the bench's load, from the scheduler's own account: the time it ran, and
 * the time it was ready to run but waited for a core (`/proc/<pid>/task/<tid>/schedstat`: run ns,
 * wait ns, slices). On two cores shared by the load generator, the fake and the gateway, a thread
 * that waits is as slow as one that works: the event loop of the full gateway spent 18 % of the
 * load's wall time waiting, the core's 4–5 % (docs/benchmarks.md, fourteenth session).
 *
 *   npx tsx bench/scheduler-account.ts [json|stream] [full|core|bare] [seconds=8]
 *
 * `full` is bin/switchyard.js with its shebang's node flags (as a user starts it), `core` the
 * gateway without its log (bench/gateway-core.ts, same flags), `bare` the bare Node proxy.
 * autocannon runs in this process at 10 connections, after a 2 s warm-up. Threads that ran or
 * waited less than 2 % of the time are summed, not listed. SWITCHYARD_BENCH_WRITER_POLICY=idle|batch
 * moves the full gateway's writer thread (the one at nice 10) into that scheduling class with
 * util-linux's `chrt` before the measured run, as the trial of SCHED_IDLE did.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayCommand, gatewayEnvironment, gatewayNodeFlags, machineTicks, root, runBench, startChild, threadTimes } from './children.js';

const mode = process.argv[2] === 'stream' ? 'stream' : 'json';
const target = process.argv[3] ?? 'full';
const seconds = Number(process.argv[4] ?? 8);
const KEY = 'sy-bench-key';
const body = JSON.stringify({ model: 'gpt-4.1-mini', ...(mode === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

/** The nice value of a thread (field 19 of its stat line); null once it ended. */
function niceOf(pid: number, task: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  } catch {
    return null;
  }
}

runBench(async () => {
  // Under node --import tsx (not the tsx binary, which would put a process between): the pid is the server's.
  const fake = await startChild(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const upstream = `http://127.0.0.1:${fake.match[1]}/v1`;
  let started;
  const data = mkdtempSync(join(tmpdir(), 'switchyard-scheduler-'));
  if (target === 'full') {
    const [command, args] = gatewayCommand(['serve', '--port', '0', '--data-dir', data]);
    started = await startChild(command, args, gatewayEnvironment(KEY, upstream), /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  } else if (target === 'core') {
    started = await startChild(process.execPath, [...gatewayNodeFlags(), '--import', 'tsx', join(root, 'bench', 'gateway-core.ts')], gatewayEnvironment(KEY, upstream), /^(\d+)\n/m);
  } else {
    started = await startChild(process.execPath, ['--import', 'tsx', join(root, 'bench', 'bare-proxy.ts'), String(fake.match[1])], {}, /^(\d+)\n/m);
  }
  const pid = started.child.pid!;
  const url = `http://127.0.0.1:${started.match[1]}/v1/chat/completions`;
  await autocannon({ url, method: 'POST', headers, body, connections: 10, duration: 2 });

  const policy = process.env.SWITCHYARD_BENCH_WRITER_POLICY;
  if (target === 'full' && (policy === 'idle' || policy === 'batch')) {
    // The writer is the one thread below the event loop's priority (nice 10).
    const eventLoopNice = niceOf(pid, String(pid)) ?? 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      if ((niceOf(pid, task) ?? eventLoopNice) <= eventLoopNice) continue;
      execFileSync('chrt', [`--${policy}`, '--pid', '0', task]);
      process.stdout.write(`thread ${task} (nice ${niceOf(pid, task)}) moved to SCHED_${policy.toUpperCase()}\n`);
    }
  }

  const processes = [
    ['gateway', pid],
    ['fake', fake.child.pid!],
    ['autocannon', process.pid],
  ] as const;
  const before = processes.map(([, id]) => threadTimes(id));
  const ticksBefore = machineTicks();
  const begin = performance.now();
  const result = await autocannon({ url, method: 'POST', headers, body, connections: 10, duration: seconds });
  const wallNs = (performance.now() - begin) * 1e6;
  const after = processes.map(([, id]) => threadTimes(id));
  const ticksAfter = machineTicks();
  const requests = result.requests.total;
  if (requests === 0) throw new Error(`${target} answered no request in ${seconds} s`);
  const busy = (100 * (ticksAfter.busy - ticksBefore.busy)) / (ticksAfter.total - ticksBefore.total);
  process.stdout.write(`${target} ${mode}: ${Math.round(requests / seconds)} req/s, machine ${busy.toFixed(0)} % busy\n`);
  processes.forEach(([label], index) => {
    let runNs = 0;
    let otherRunNs = 0;
    for (const [name, now] of after[index]!) {
      const then = before[index]!.get(name) ?? { runNs: 0, waitNs: 0, slices: 0 };
      const ran = now.runNs - then.runNs;
      const waited = now.waitNs - then.waitNs;
      runNs += ran;
      if (ran < wallNs * 0.02 && waited < wallNs * 0.02) {
        otherRunNs += ran;
        continue;
      }
      process.stdout.write(
        `  ${label} ${name}: ran ${((100 * ran) / wallNs).toFixed(0)} % of the time, waited for a core ${((100 * waited) / wallNs).toFixed(0)} %; ${(ran / 1000 / requests).toFixed(1)} µs per request, ${now.slices - then.slices} slices\n`,
      );
    }
    process.stdout.write(`  ${label}: ${(runNs / 1000 / requests).toFixed(1)} µs per request in all (threads not listed: ${(otherRunNs / 1000 / requests).toFixed(1)})\n`);
  });
  started.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  rmSync(data, { recursive: true, force: true });
});
