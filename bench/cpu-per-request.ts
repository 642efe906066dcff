/**
 * CPU time the full gateway spends per request (all its threads: event loop, request-log
 * writer, GC), from the scheduler's per-thread account in /proc — steadier than req/s on a machine shared with other work.
 * `npx tsx bench/cpu-per-request.ts [json|stream] [requests]`; with SWITCHYARD_BENCH_PROFILE=<dir>
 * the gateway runs under `--cpu-prof` and leaves its profiles there. The full gateway is
 * started the way a user starts it (bench/children.ts gatewayCommand: bin/switchyard.js and
 * the node flags of its shebang, or SWITCHYARD_BENCH_NODE=<flags> for A/B runs). With SWITCHYARD_BENCH_MEMORY=1 it also prints an account of the resident
 * memory at the busiest moment: /proc status and smaps by mapping, and each thread's V8 heap
 * (the gateway's SWITCHYARD_MEMORY_REPORT lines). SWITCHYARD_BENCH_GATEWAY_LOG=<file> keeps the
 * gateway's standard output there (e.g. with SWITCHYARD_BENCH_NODE=--trace-gc).
 * SWITCHYARD_BENCH_CLI=<out/main/cli.js of another build> measures that build instead (alternating A/B runs).
 * SWITCHYARD_BENCH_BODY=agent sends a ~30 KB agent conversation instead of one short message.
 * SWITCHYARD_BENCH_DATA=<folder> runs the full gateway on that data folder as it is (a log that has
 * grown, say) instead of a fresh one.
 * SWITCHYARD_BENCH_TARGET=bare|minimal|core measures a baseline (under tsx) instead (bare-proxy.ts,
 * minimal-fastify-proxy.ts, gateway-core.ts). The core gets the full gateway's node flags, the two proxies
 * Node's defaults; SWITCHYARD_BENCH_BASELINE_NODE=<flags> gives a baseline other flags (an empty value: none).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { driveChat, gatewayCommand, gatewayEnvironment, gatewayNodeFlags, root, runBench, startChild, threadCpuMs } from './children.js';
import type { MemoryReportLine } from '../src/main/memory-report.js';

const mode = process.argv[2] === 'stream' ? 'stream' : 'json';
const total = Number(process.argv[3] ?? 20000);
const KEY = 'sy-bench-key';
/** An agent's turn: a system prompt, 20 rounds of a request, a tool call and its result, 8 tools (~30 KB). */
function agentConversation(): { messages: unknown[]; tools: unknown[] } {
  const messages: unknown[] = [{ role: 'system', content: 'You are a coding agent. '.repeat(100) }];
  for (let index = 0; index < 20; index++) {
    messages.push({ role: 'user', content: `Please look at file ${index} and fix the bug. `.repeat(10) });
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${index}`, type: 'function', function: { name: 'read_file', arguments: JSON.stringify({ path: `src/file${index}.ts` }) } }] });
    messages.push({ role: 'tool', tool_call_id: `call_${index}`, content: 'export const x = 1;\n'.repeat(30) });
  }
  const tools = Array.from({ length: 8 }, (_, index) => ({
    type: 'function',
    function: { name: `tool${index}`, description: 'does a thing '.repeat(5), parameters: { type: 'object', properties: { path: { type: 'string' }, n: { type: 'integer' } }, required: ['path'] } },
  }));
  return { messages, tools };
}
// SWITCHYARD_BENCH_BODY=agent sends the ~30 KB conversation instead of one short message.
const conversation = process.env.SWITCHYARD_BENCH_BODY === 'agent' ? agentConversation() : { messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] };
const body = JSON.stringify({ model: 'gpt-4.1-mini', ...(mode === 'stream' ? { stream: true } : {}), ...conversation });

function cpuMs(pid: number): number {
  let total = 0;
  for (const value of threadCpuMs(pid).values()) total += value;
  return total;
}

const drive = (port: number, count: number, connections: number): Promise<void> => driveChat(port, KEY, body, count, connections);

/** kB fields of /proc/<pid>/status (VmRSS, RssAnon, RssFile, RssShmem, VmHWM, Threads …). */
function procStatus(pid: number): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match) fields[match[1] as string] = Number(match[2]);
  }
  return fields;
}

/** Resident kB by mapping (file name, [heap], [stack…], or "anonymous"), largest first. */
function residentByMapping(pid: number): [string, number][] {
  const sums = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      name = (header[1] ?? '').trim() || 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sums.set(name, (sums.get(name) ?? 0) + Number(rss[1]));
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** Samples the gateway's status while `work` runs; returns the sample with the largest VmRSS and the smaps account taken then. */
async function sampleMemory<T>(pid: number, work: Promise<T>): Promise<{ result: T; peak: Record<string, number>; mappings: [string, number][] }> {
  let peak: Record<string, number> = {};
  let mappings: [string, number][] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      try {
        const status = procStatus(pid);
        if ((status.VmRSS ?? 0) > (peak.VmRSS ?? 0)) {
          peak = status;
          mappings = residentByMapping(pid);
        }
      } catch {
        // the process ended
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const result = await work;
  done = true;
  await sampler;
  return { result, peak, mappings };
}

function memoryAccount(peak: Record<string, number>, mappings: [string, number][], reportFile: string): string {
  const mb = (kb: number | undefined): string => `${((kb ?? 0) / 1024).toFixed(1)}`;
  const lines = [`  memory at the busiest sample: VmRSS ${mb(peak.VmRSS)} MB = RssAnon ${mb(peak.RssAnon)} + RssFile ${mb(peak.RssFile)} + RssShmem ${mb(peak.RssShmem)}; VmHWM ${mb(peak.VmHWM)}; ${peak.Threads} threads`];
  lines.push(`  resident by mapping (MB): ${mappings.slice(0, 8).map(([name, kb]) => `${name.replace(root, '.')} ${mb(kb)}`).join(', ')}`);
  if (existsSync(reportFile)) {
    const last = new Map<string, MemoryReportLine>();
    for (const line of readFileSync(reportFile, 'utf8').trim().split('\n')) {
      const entry = JSON.parse(line) as MemoryReportLine;
      last.set(entry.thread, entry);
    }
    for (const entry of last.values()) {
      const m = (bytes: number | undefined): string => ((bytes ?? 0) / 1048576).toFixed(1);
      lines.push(`  V8 ${entry.thread}: heap committed ${m(entry.heap.total)} MB (used ${m(entry.heap.used)}; new ${m(entry.spaces.new_space)}, old ${m(entry.spaces.old_space)}, code ${m(entry.spaces.code_space)}, large ${m(entry.spaces.large_object_space)}), malloced ${m(entry.heap.malloced)} (peak ${m(entry.heap.peakMalloced)}), external ${m(entry.heap.external)}`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const fake = await startChild(tsx, [join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const fakePort = Number(fake.match[1]);
  const keptData = process.env.SWITCHYARD_BENCH_DATA;
  const dataDirectory = keptData ?? join(root, '.bench', 'cpu-data');
  if (!keptData) rmSync(dataDirectory, { recursive: true, force: true });
  const profile = process.env.SWITCHYARD_BENCH_PROFILE;
  const target = process.env.SWITCHYARD_BENCH_TARGET; // 'bare', 'minimal' or 'core' to measure a baseline instead
  const baselines: Record<string, string> = { bare: 'bare-proxy.ts', minimal: 'minimal-fastify-proxy.ts', core: 'gateway-core.ts' };
  // A misspelt target must not quietly measure the full gateway instead.
  if (target !== undefined && !Object.hasOwn(baselines, target)) throw new Error(`SWITCHYARD_BENCH_TARGET=${target}: use bare, minimal or core (or leave it unset for the full gateway)`);
  const baseline = target === undefined ? undefined : baselines[target];
  // The core runs with the gateway's node flags, as in npm run bench (so core against full gateway differs by the log alone); the proxies with Node's defaults.
  const baselineEnvironment = process.env.SWITCHYARD_BENCH_BASELINE_NODE;
  const baselineFlags = baselineEnvironment !== undefined ? baselineEnvironment.split(' ').filter(Boolean) : target === 'core' ? gatewayNodeFlags() : [];
  const reportFile = join(root, '.bench', 'memory-report.jsonl');
  rmSync(reportFile, { force: true });
  const memory = process.env.SWITCHYARD_BENCH_MEMORY === '1';
  const otherBuild = process.env.SWITCHYARD_BENCH_CLI;
  const [command, commandArguments] = otherBuild
    ? // The other build with the same node flags as this one (the bin's shebang, or SWITCHYARD_BENCH_NODE).
      [process.execPath, [...gatewayNodeFlags(), ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), otherBuild, 'serve', '--port', '0', '--data-dir', dataDirectory]]
    : gatewayCommand(['serve', '--port', '0', '--data-dir', dataDirectory], profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []);
  const gateway = baseline ? await startChild(process.execPath, [...baselineFlags, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), '--import', 'tsx', join(root, 'bench', baseline), String(fakePort)], { SWITCHYARD_API_KEY: KEY, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `http://127.0.0.1:${fakePort}/v1` }, /^(\d+)\n/m) : await startChild(
    command,
    commandArguments,
    { ...gatewayEnvironment(KEY, `http://127.0.0.1:${fakePort}/v1`), ...(memory ? { SWITCHYARD_MEMORY_REPORT: reportFile } : {}) },
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    process.env.SWITCHYARD_BENCH_GATEWAY_LOG,
  );
  const port = Number(gateway.match[1]);
  const pid = gateway.child.pid!;
  await drive(port, 2000, 10); // warm-up
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = cpuMs(pid);
  const threadsBefore = threadCpuMs(pid);
  const started = performance.now();
  const { peak, mappings } = await sampleMemory(pid, drive(port, total, 10));
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the writer commit the tail
  const used = cpuMs(pid) - before;
  const byThread = [...threadCpuMs(pid)]
    .map(([name, value]) => [name, value - (threadsBefore.get(name) ?? 0)] as const)
    .filter(([, value]) => value > 0)
    .reduce((sums, [name, value]) => sums.set(name, (sums.get(name) ?? 0) + value), new Map<string, number>());
  const elapsed = performance.now() - started;
  const peakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  process.stdout.write(`${mode}: ${total} requests, gateway CPU ${used.toFixed(0)} ms = ${((used * 1000) / total).toFixed(1)} µs/request (${(total / (elapsed / 1000)).toFixed(0)} req/s wall), peak RSS ${peakRssMb.toFixed(0)} MB\n  by thread (µs/request): ${[...byThread].map(([name, value]) => `${name} ${((value * 1000) / total).toFixed(0)}`).join(', ')}\n`);
  if (memory) process.stdout.write(`${memoryAccount(peak, mappings, reportFile)}\n`);
  gateway.child.removeAllListeners('exit');
  await new Promise<void>((resolve) => {
    gateway.child.once('exit', () => resolve());
    gateway.child.kill('SIGTERM');
  });
}

runBench(main);
