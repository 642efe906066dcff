/**
 * Added latency at one connection, on its own: the fast fake upstream called directly, through
 * the bare Node proxy and through the full gateway (started as a user starts it, see
 * bench/children.ts gatewayCommand), the three taking turns request by request in one run.
 * `npx tsx bench/tail-latency.ts [requests] [json|stream]`; SWITCHYARD_BENCH_NODE=<flags> for
 * A/B runs of the gateway's node flags, SWITCHYARD_BENCH_GATEWAY_LOG=<file> to keep its
 * standard output (e.g. with --trace-gc).
 */
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayCommand, gatewayEnvironment, root, runBench, startChild } from './children.js';
import { latencyInterleaved } from './latency.js';

const count = Number(process.argv[2] ?? 5000);
const mode = process.argv[3] === 'stream' ? 'stream' : 'json';
const KEY = 'sy-bench-key';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const body = JSON.stringify({ model: 'gpt-4.1-mini', ...(mode === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });

async function main(): Promise<void> {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const fake = await startChild(tsx, [join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const fakePort = Number(fake.match[1]);
  const bare = await startChild(tsx, [join(root, 'bench', 'bare-proxy.ts'), String(fakePort)], {}, /^(\d+)\n/m);
  const dataDirectory = join(root, '.bench', 'latency-data');
  rmSync(dataDirectory, { recursive: true, force: true });
  const gateway = await startChild(
    ...gatewayCommand(['serve', '--port', '0', '--data-dir', dataDirectory]),
    gatewayEnvironment(KEY, `http://127.0.0.1:${fakePort}/v1`),
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const log = process.env.SWITCHYARD_BENCH_GATEWAY_LOG;
  if (log) gateway.child.stdout!.on('data', (data: Buffer) => appendFileSync(log, data));
  const targets = [
    { name: 'direct', port: fakePort },
    { name: 'bare', port: Number(bare.match[1]) },
    { name: 'full', port: Number(gateway.match[1]) },
  ];
  const results = await latencyInterleaved(targets, body, count, HEADERS);
  const direct = results.direct!;
  for (const target of targets) {
    const r = results[target.name]!;
    const added = target.name === 'direct' ? '' : `  added p50 ${(r.p50 - direct.p50).toFixed(3)} p99 ${(r.p99 - direct.p99).toFixed(3)}`;
    process.stdout.write(`${mode} ${target.name.padEnd(6)} p50 ${r.p50.toFixed(3)} p90 ${r.p90.toFixed(3)} p99 ${r.p99.toFixed(3)} p99.9 ${r.p999.toFixed(3)} max ${r.max.toFixed(3)} ms (${r.samples}${r.non200 ? `, ${r.non200} not 200` : ''})${added}\n`);
  }
}

runBench(main);
