/**
 * Team throughput: `switchyard serve` instances sharing one PostgreSQL, against the fast
 * local upstream (bench/fast-upstream.ts). Measures, for BENCH_DURATION seconds each
 * (default 8), non-streamed chat completions with 20 connections:
 *  - one instance on SQLite (the single-server reference);
 *  - one instance on PostgreSQL;
 *  - two instances on the same PostgreSQL, 10 connections to each at once (what a load
 *    balancer in front of them would spread), their throughputs added;
 * then checks that every answered request reached the shared log. PostgreSQL is a
 * throwaway server started here (test/helpers/throwaway-postgres.ts), or
 * SWITCHYARD_DATABASE_URL. Everything runs on this machine: on a small one the instances,
 * PostgreSQL, the upstream and the load generator share the same cores.
 *
 * Run: npx tsx bench/team-throughput.ts
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { children, gatewayEnvironment, root, startChild } from './children.js';
import { createPostgresPool } from '../src/main/storage/postgres/connection.js';

const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = 20;
const KEY = 'sy-bench-team-key';
const BODY = JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say hello for the team benchmark.' }] });
const folders: string[] = [];

async function serve(environment: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'switchyard-team-bench-'));
  folders.push(dataDir);
  const started = await startChild(process.execPath, ['--import', 'tsx', join(root, 'src', 'main', 'cli.ts'), 'serve', '--port', '0', '--data-dir', dataDir], environment, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  return { child: started.child, port: Number(started.match[1]) };
}

async function stop(instance: { child: ChildProcess }): Promise<void> {
  instance.child.removeAllListeners('exit');
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  await exited;
}

interface Run {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

async function load(port: number, connections: number, duration = DURATION_SECONDS): Promise<Run> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: BODY,
    connections,
    duration,
  });
  return { requests: result.requests.total, requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures: result.errors + result.timeouts + result.non2xx };
}

function row(name: string, runs: Run[]): string {
  const total = runs.reduce((sum, run) => sum + run.requestsPerSecond, 0);
  const p50 = Math.max(...runs.map((run) => run.p50));
  const p99 = Math.max(...runs.map((run) => run.p99));
  const failures = runs.reduce((sum, run) => sum + run.failures, 0);
  return `| ${name} | ${Math.round(total).toLocaleString('en-US')} | ${p50} | ${p99} | ${failures} |`;
}

async function main(): Promise<void> {
  const upstream = await startChild(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const upstreamPort = Number(upstream.match[1]);
  const given = process.env.SWITCHYARD_DATABASE_URL;
  const throwaway = given ? null : await (await import('../test/helpers/throwaway-postgres.js')).startThrowawayPostgres();
  const databaseUrl = given ?? throwaway!.url;
  const base = gatewayEnvironment(KEY, `http://127.0.0.1:${upstreamPort}/v1`);
  const team = { ...base, SWITCHYARD_DATABASE_URL: databaseUrl };
  const pool = createPostgresPool(databaseUrl, { max: 1 });
  try {
    console.log(`Team throughput: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ${DURATION_SECONDS} s per run, ${CONNECTIONS} connections in all\n`);
    console.log('| setup | requests/s | p50 ms | p99 ms | failed |');
    console.log('|---|---|---|---|---|');

    const sqlite = await serve(base);
    await load(sqlite.port, 10, 2);
    console.log(row('one instance, SQLite', [await load(sqlite.port, CONNECTIONS)]));
    await stop(sqlite);

    // Every response autocannon counted from the PostgreSQL instances, warm-ups included.
    let answered = 0;
    const counted = async (port: number, connections: number, duration?: number): Promise<Run> => {
      const run = await load(port, connections, duration);
      answered += run.requests;
      return run;
    };
    const first = await serve(team);
    await counted(first.port, 10, 2);
    console.log(row('one instance, PostgreSQL', [await counted(first.port, CONNECTIONS)]));

    const second = await serve(team);
    await counted(second.port, 10, 2);
    const pair = await Promise.all([counted(first.port, CONNECTIONS / 2), counted(second.port, CONNECTIONS / 2)]);
    console.log(row('two instances, one PostgreSQL', pair));
    // Stopped cleanly, each instance has committed what it answered.
    await Promise.all([stop(first), stop(second)]);
    const logged = (await pool.query<{ count: number }>('SELECT count(*) AS count FROM requests')).rows[0]!.count;
    // Requests cut off when a run ends were answered by the gateway but not counted by the client: logged >= answered.
    console.log(`\nshared log: ${logged.toLocaleString('en-US')} rows; the client counted ${answered.toLocaleString('en-US')} answers`);
  } finally {
    await pool.end();
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await throwaway?.stop();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  }
}

await main();
