/**
 * Where the one-connection p99 comes from (issue 11, target 2). The fast fake upstream is
 * called directly on two connections (`direct` and `direct2`: their difference is the noise
 * floor of the measure), through the bare Node proxy, the gateway's core without the log
 * (bench/gateway-core.ts, with the bin's node flags) and the full gateway (bin/switchyard.js),
 * the targets taking turns request by request in a new order each round, as in bench/latency.ts. Every process (this
 * client included) records its garbage collections (bench/gc-events.cjs); each request keeps
 * its start and end, so for each target the slowest 1 % can be matched with the pauses that
 * overlapped them, against the share of all its requests that met one (chance).
 * `npx tsx bench/tail-account.ts [requests per target] [json|stream]`.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { gatewayCommand, gatewayEnvironment, gatewayNodeFlags, root, runBench, startChild } from './children.js';

const count = Number(process.argv[2] ?? 3000);
const mode = process.argv[3] === 'stream' ? 'stream' : 'json';
const warmUp = 500;
const KEY = 'sy-bench-key';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const body = JSON.stringify({ model: 'gpt-4.1-mini', ...(mode === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });

interface Pause { start: number; end: number; thread: number; kind: number }

const clientPauses: Pause[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const start = performance.timeOrigin + entry.startTime;
    clientPauses.push({ start, end: start + entry.duration, thread: 0, kind: (entry as unknown as { detail?: { kind: number } }).detail?.kind ?? 0 });
  }
}).observe({ entryTypes: ['gc'] });

function readPauses(file: string): Pause[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => {
    const [, thread, start, duration, kind] = line.split(' ').map(Number) as [number, number, number, number, number];
    return { start, end: start + duration, thread, kind };
  });
}

function overlaps(pauses: Pause[], start: number, end: number): boolean {
  for (const pause of pauses) if (pause.start < end && pause.end > start) return true;
  return false;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function main(): Promise<void> {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const directory = join(root, '.bench', 'tail-account');
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const preload = `--require ${join(root, 'bench', 'gc-events.cjs')}`;
  const withEvents = (name: string): NodeJS.ProcessEnv => ({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim(), SWITCHYARD_BENCH_GC_EVENTS: join(directory, `${name}.gc`) });
  const fake = await startChild(tsx, [join(root, 'bench', 'fast-upstream.ts')], withEvents('fake'), /^(\d+)\n/m);
  const fakePort = Number(fake.match[1]);
  const bare = await startChild(tsx, [join(root, 'bench', 'bare-proxy.ts'), String(fakePort)], withEvents('bare'), /^(\d+)\n/m);
  const environment = gatewayEnvironment(KEY, `http://127.0.0.1:${fakePort}/v1`);
  const binFlags = gatewayNodeFlags();
  // The bin's flags on node itself, as cpu-per-request.ts gives them (tsx's own binary would not pass V8's flags to the script's process).
  const core = await startChild(process.execPath, [...binFlags, '--import', 'tsx', join(root, 'bench', 'gateway-core.ts')], { ...environment, ...withEvents('core') }, /^(\d+)\n/m);
  const gateway = await startChild(
    ...gatewayCommand(['serve', '--port', '0', '--data-dir', join(directory, 'data')]),
    { ...environment, ...withEvents('full') },
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const targets = [
    { name: 'direct', port: fakePort },
    { name: 'direct2', port: fakePort },
    { name: 'bare', port: Number(bare.match[1]) },
    { name: 'core', port: Number(core.match[1]) },
    { name: 'full', port: Number(gateway.match[1]) },
  ];
  const clients = targets.map((target) => new Client(`http://127.0.0.1:${target.port}`, { keepAliveTimeout: 60_000 }));
  const samples: { start: number; end: number; ms: number; afterFull: boolean }[][] = targets.map(() => []);
  let failures = 0;
  // Each round in a new order (a fixed-seed shuffle): with a fixed rotation each target
  // nearly always follows the same one, and the one after the full gateway pays for the work the
  // gateway does once its answer is out (the journal hand-off, the writer thread's commits).
  let seed = 0x2545f491;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const order = targets.map((_, which) => which);
  const fullIndex = targets.length - 1;
  let previous = -1;
  for (let index = 0; index < count + warmUp; index++) {
    for (let at = order.length - 1; at > 0; at--) {
      const other = Math.floor(random() * (at + 1));
      [order[at], order[other]] = [order[other]!, order[at]!];
    }
    for (const which of order) {
      const afterFull = previous === fullIndex;
      previous = which;
      const started = performance.now();
      const response = await clients[which]!.request({ path: '/v1/chat/completions', method: 'POST', headers: HEADERS, body });
      await response.body.arrayBuffer();
      const ended = performance.now();
      if (index < warmUp) continue;
      if (response.statusCode !== 200) failures += 1;
      samples[which]!.push({ start: performance.timeOrigin + started, end: performance.timeOrigin + ended, ms: ended - started, afterFull });
    }
  }
  await Promise.all(clients.map((client) => client.close()));
  await sleep(1200); // the children write their pauses twice a second
  const runStart = Math.min(...samples.map((s) => s[0]!.start));
  const runEnd = Math.max(...samples.map((s) => s[s.length - 1]!.end));
  const inRun = (pauses: Pause[]): Pause[] => pauses.filter((p) => p.end > runStart && p.start < runEnd);
  const fullPauses = inRun(readPauses(join(directory, 'full.gc')));
  const mainThread = Math.min(...fullPauses.map((p) => p.thread), Infinity);
  const processes: [string, Pause[]][] = [
    ['client', inRun(clientPauses)],
    ['fake', inRun(readPauses(join(directory, 'fake.gc')))],
    ['bare', inRun(readPauses(join(directory, 'bare.gc')))],
    ['core', inRun(readPauses(join(directory, 'core.gc')))],
    ['full main', fullPauses.filter((p) => p.thread === mainThread)],
    ['full writer', fullPauses.filter((p) => p.thread !== mainThread)],
  ];
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`${mode}, ${count} requests per target after ${warmUp} warm-up, ${((runEnd - runStart) / 1000).toFixed(1)} s, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}${failures ? `, ${failures} not 200` : ''}`);
  out(`pauses in the run: ${processes.map(([name, pauses]) => `${name} ${pauses.length} (median ${pauses.length ? percentile(pauses.map((p) => p.end - p.start).sort((a, b) => a - b), 0.5).toFixed(2) : '-'} ms)`).join(', ')}`);
  const direct = samples[0]!.map((s) => s.ms).sort((a, b) => a - b);
  out(`target   p50     p90     p99     p99.9   max      added p50/p99 | p50/p99 right after a full-gateway request vs not | slowest 1 %: met a pause in ${processes.map(([name]) => name).join(' / ')} (all requests: %)`);
  targets.forEach((target, which) => {
    const list = samples[which]!;
    const sorted = list.map((s) => s.ms).sort((a, b) => a - b);
    const p99 = percentile(sorted, 0.99);
    const slow = list.filter((s) => s.ms >= p99);
    const cells = processes.map(([, pauses]) => {
      const hit = slow.filter((s) => overlaps(pauses, s.start, s.end)).length;
      const all = list.filter((s) => overlaps(pauses, s.start, s.end)).length;
      return `${hit}/${slow.length} (${((all / list.length) * 100).toFixed(1)})`;
    });
    const f = (v: number): string => v.toFixed(3).padStart(7);
    const after = list.filter((s) => s.afterFull).map((s) => s.ms).sort((a, b) => a - b);
    const notAfter = list.filter((s) => !s.afterFull).map((s) => s.ms).sort((a, b) => a - b);
    const split = after.length && notAfter.length ? `${f(percentile(after, 0.5))}/${f(percentile(after, 0.99))} (${after.length}) vs ${f(percentile(notAfter, 0.5))}/${f(percentile(notAfter, 0.99))}` : '—';
    out(`${target.name.padEnd(8)} ${f(sorted[Math.floor(sorted.length / 2)]!)} ${f(percentile(sorted, 0.9))} ${f(p99)} ${f(percentile(sorted, 0.999))} ${f(sorted[sorted.length - 1]!)}  ${f(sorted[Math.floor(sorted.length / 2)]! - direct[Math.floor(direct.length / 2)]!)}/${f(p99 - percentile(direct, 0.99))} | ${split} | ${cells.join('  ')}`);
  });
}

runBench(main);
