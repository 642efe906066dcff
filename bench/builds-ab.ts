/**
 * Two (or more) builds of the full gateway against each other under the bench's load: each build's
 * `out/main/cli.js` run with the node flags of its own `bin/switchyard.js`, on a fresh data folder,
 * all on one fast fake; autocannon at 10 connections in short slices taking turns (A B, B A, …), so
 * that a burst of the machine's other work falls on both. After every slice it prints the slice's
 * req/s and p99, the gateway's CPU per request by thread, the machine's busy share (both cores, from
 * /proc/stat), the peak resident memory, and how long the log trailed the load: the time from the
 * slice's end until every answered request is a row in the database (a change that defers the log's
 * work would show there).
 *
 * A build is a folder holding `out`, `bin` and `package.json` of a checkout (and `node_modules`, or
 * a link to it):
 *   mkdir /tmp/A && cp -r out bin package.json /tmp/A && ln -s "$PWD/node_modules" /tmp/A/node_modules
 *   SWITCHYARD_BENCH_BUILDS=/tmp/A,/tmp/B npx tsx bench/builds-ab.ts [json|stream] [rounds=10] [seconds=3]
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayEnvironment, machineTicks, root, runBench, shebangNodeFlags, startChild, threadCpuMs } from './children.js';

const builds = (process.env.SWITCHYARD_BENCH_BUILDS ?? '').split(',').filter(Boolean);
const mode = process.argv[2] === 'stream' ? 'stream' : 'json';
const rounds = Number(process.argv[3] ?? 10);
const seconds = Number(process.argv[4] ?? 3);
const KEY = 'sy-bench-key';
const body = JSON.stringify({ model: 'gpt-4.1-mini', ...(mode === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Gateway {
  build: string;
  port: number;
  pid: number;
  /** Requests answered so far (warm-up included): what the log must hold once it caught up. */
  answered: number;
  rates: number[];
  /** Rows in its log now (a read-only connection, opened after its start). */
  logged: () => number;
}

function peakResidentMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Milliseconds until the log holds every answered request (null when it did not within 20 s). */
async function logTrail(gateway: Gateway): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < 20_000) {
    if (gateway.logged() >= gateway.answered) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}

async function load(gateway: Gateway, duration: number): Promise<autocannon.Result> {
  const result = await autocannon({ url: `http://127.0.0.1:${gateway.port}/v1/chat/completions`, method: 'POST', headers, body, connections: 10, duration });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${gateway.build}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  gateway.answered += result.requests.total;
  return result;
}

async function main(): Promise<void> {
  if (builds.length < 2) throw new Error('name two builds or more: SWITCHYARD_BENCH_BUILDS=/tmp/A,/tmp/B (see the top of bench/builds-ab.ts)');
  const fake = await startChild(tsx, [join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const fakePort = Number(fake.match[1]);
  const gateways: Gateway[] = [];
  for (const build of builds) {
    const data = mkdtempSync(join(tmpdir(), 'switchyard-builds-ab-'));
    process.on('exit', () => rmSync(data, { recursive: true, force: true }));
    const flags = shebangNodeFlags(join(build, 'bin', 'switchyard.js'));
    const started = await startChild(
      process.execPath,
      [...flags, join(build, 'out', 'main', 'cli.js'), 'serve', '--port', '0', '--data-dir', data],
      gatewayEnvironment(KEY, `http://127.0.0.1:${fakePort}/v1`),
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    const count = new Database(join(data, 'switchyard.db'), { readonly: true, fileMustExist: true }).prepare('SELECT count(*) FROM requests').pluck();
    gateways.push({ build, port: Number(started.match[1]), pid: started.child.pid!, answered: 0, rates: [], logged: () => count.get() as number });
  }
  for (const gateway of gateways) {
    await load(gateway, 2);
    await logTrail(gateway);
  }
  for (let round = 0; round < rounds; round++) {
    for (const gateway of round % 2 === 0 ? gateways : [...gateways].reverse()) {
      const ticksBefore = machineTicks();
      const cpuBefore = threadCpuMs(gateway.pid);
      const result = await load(gateway, seconds);
      const cpuAfter = threadCpuMs(gateway.pid);
      const ticksAfter = machineTicks();
      const trail = await logTrail(gateway);
      const perThread = [...cpuAfter]
        .map(([thread, ms]) => Math.round(((ms - (cpuBefore.get(thread) ?? 0)) * 1000) / result.requests.total))
        .filter((microseconds) => microseconds > 0);
      const busy = (ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total);
      gateway.rates.push(result.requests.average);
      process.stdout.write(
        `${mode} ${gateway.build}  ${Math.round(result.requests.average).toLocaleString('en-US')} req/s  p99 ${result.latency.p99} ms  ` +
          `CPU µs/request by thread ${perThread.join(' ')}  machine busy ${(busy * 100).toFixed(0)} %  ` +
          `peak RSS ${peakResidentMb(gateway.pid).toFixed(0)} MB  log caught up ${trail === null ? 'NOT within 20 s' : `${trail} ms`} after the slice\n`,
      );
    }
  }
  for (const gateway of gateways) {
    const mean = gateway.rates.reduce((sum, rate) => sum + rate, 0) / gateway.rates.length;
    process.stdout.write(`${gateway.build}: mean ${Math.round(mean).toLocaleString('en-US')} req/s (${gateway.rates.map((rate) => Math.round(rate).toLocaleString('en-US')).join(' / ')})\n`);
  }
  const [first, ...others] = gateways;
  for (const other of others) {
    const wins = other.rates.filter((rate, index) => rate > (first!.rates[index] ?? Infinity)).length;
    process.stdout.write(`${other.build} against ${first!.build}: ahead in ${wins} of ${rounds} rounds\n`);
  }
}

runBench(main);
