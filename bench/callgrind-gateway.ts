/**
 * Instructions the gateway's threads execute per request, under callgrind: steadier than CPU
 * time on a machine shared with other work (a run of one build repeats within ~1–2 %, but a
 * full mark-compact, ~20–25 M instructions, lands in a 1,000-request window or not — read the
 * scavenges and the mark-compacts apart). `npx tsx bench/callgrind-gateway.ts <cli.cjs|core>
 * <out-prefix> [json|stream]`: starts the fake upstream, the gateway (a build's
 * out/main/cli.cjs with the bin's node flags, or `core`: bench/gateway-core.ts, no log) under
 * `valgrind --tool=callgrind --separate-threads=yes`, sends 500 requests at 10 connections,
 * zeroes the counters, sends 1,000 more and dumps: `<out-prefix>.<pid>.1-01` is the main
 * thread (read it with `callgrind_annotate --inclusive=yes`). Takes minutes.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { driveChat, gatewayEnvironment, root, runBench, shebangNodeFlags, startChild } from './children.js';

const [cli, out, mode = 'json'] = process.argv.slice(2);
if (!cli || !out) throw new Error('usage: bench/callgrind-gateway.ts <cli.cjs|core> <out-prefix> [json|stream]');
const KEY = 'sy-bench-key';
const body = JSON.stringify({ model: 'gpt-4.1-mini', ...(mode === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });

const drive = (port: number, count: number, connections: number): Promise<void> => driveChat(port, KEY, body, count, connections);

runBench(async () => {
  const fake = await startChild(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const fakePort = Number(fake.match[1]);
  // One folder per out-prefix: runs of two builds can go side by side without emptying each other's log.
  const dataDirectory = join(root, '.bench', `callgrind-data-${basename(out)}`);
  rmSync(dataDirectory, { recursive: true, force: true });
  const target = cli === 'core' ? ['--import', 'tsx', join(root, 'bench', 'gateway-core.ts'), String(fakePort)] : [cli, 'serve', '--port', '0', '--data-dir', dataDirectory];
  const gateway = await startChild(
    'valgrind',
    ['--tool=callgrind', '--separate-threads=yes', '--smc-check=all-non-file', `--callgrind-out-file=${out}.%p`, process.execPath, ...shebangNodeFlags(join(root, 'bin', 'switchyard.js')), ...target],
    gatewayEnvironment(KEY, `http://127.0.0.1:${fakePort}/v1`),
    cli === 'core' ? /^(\d+)\n/m : /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const port = Number(gateway.match[1]);
  await drive(port, 500, 10);
  execFileSync('callgrind_control', ['-z', String(gateway.child.pid)]);
  await drive(port, 1000, 10);
  execFileSync('callgrind_control', ['-d', String(gateway.child.pid)]);
  await new Promise<void>((resolve) => {
    gateway.child.once('exit', () => resolve());
    gateway.child.kill('SIGTERM');
  });
});
