/**
 * `npm run bench`: throughput and added latency of the gateway against a fast local fake
 * upstream, next to the same fake called directly and through a bare Node pass-through
 * proxy, all in one run on this machine; plus streaming-translation speed, resident
 * memory under load and start-up time. Prints a Markdown report (also written to
 * .bench/latest.md). Traffic goes to 127.0.0.1 only, for a bounded time.
 *
 * With `--portkey <dir>` (or SWITCHYARD_BENCH_PORTKEY=<dir>), a built checkout of Portkey's
 * open-source gateway (`<dir>/build/start-server.js`) runs in the same process tree against
 * the same fake, for the side-by-side ratio. Nothing of Portkey is kept in this repository.
 */
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gatewayCommand, gatewayEnvironment, gatewayNodeFlags, runBench, startChild } from './children.js';
import { latencyInterleaved, type LatencySummary } from './latency.js';
import { ensureBuilt, measureStartup } from './startup.js';
import { SseDecoder } from '../src/main/gateway/sse/decoder.js';
import { OpenAIChatStreamEncoder } from '../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { OpenAICompatibleStreamTranslator } from '../src/main/gateway/providers/openai-compatible/stream.js';
import { loadConfig } from '../src/main/gateway/config.js';

const root = join(import.meta.dirname, '..');
const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 8);
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3000);
const KEY = 'sy-bench-key';

const tsx = join(root, 'node_modules', '.bin', 'tsx');

const CHAT_BODY = JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] });

interface Throughput {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Requests/s of each interleaved slice, in round order (loadInterleaved). */
  rounds?: number[];
}

const portkeyArgument = process.argv.indexOf('--portkey');
const PORTKEY_DIRECTORY = portkeyArgument > 0 ? process.argv[portkeyArgument + 1] : process.env.SWITCHYARD_BENCH_PORTKEY;

type Headers = Record<string, string>;
const HEADERS: Headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

/** A port nobody listens on right now (Portkey takes its port as an argument and cannot pick one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function load(port: number, body: string, connections: number, headers: Headers = HEADERS, duration = DURATION_SECONDS): Promise<Throughput> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    method: 'POST',
    headers,
    body,
    connections,
    duration,
    pipelining: 1,
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

type Target = { name: string; port: number; headers?: Headers };
/** Throughput slices per target (BENCH_ROUNDS, default 4), taken in turn: a burst of other work on a shared machine then falls on every target alike. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 4));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Every target's throughput at 10 connections, in interleaved slices adding up to DURATION_SECONDS each. */
async function loadInterleaved(targets: Target[], body: string): Promise<Record<string, Throughput>> {
  const slices = new Map<string, Throughput[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of targets) slices.get(target.name)!.push(await load(target.port, body, 10, target.headers, DURATION_SECONDS / ROUNDS));
  }
  const results: Record<string, Throughput> = {};
  for (const [name, measured] of slices) {
    results[name] = {
      requestsPerSecond: measured.reduce((sum, slice) => sum + slice.requestsPerSecond, 0) / measured.length,
      p50: median(measured.map((slice) => slice.p50)),
      p99: median(measured.map((slice) => slice.p99)),
      errors: measured.reduce((sum, slice) => sum + slice.errors, 0),
      non2xx: measured.reduce((sum, slice) => sum + slice.non2xx, 0),
      rounds: measured.map((slice) => slice.requestsPerSecond),
    };
  }
  return results;
}

/**
 * The ratio `of` / `to` round by round (slices taken back to back, so a burst of the machine's
 * other work falls on both), as its range: how far one run's ratio can be trusted.
 */
function roundRange(of: Throughput, to: Throughput): string {
  const ratios = (of.rounds ?? []).map((value, round) => value / (to.rounds?.[round] ?? Number.NaN)).filter(Number.isFinite);
  if (ratios.length < 2) return '';
  return `, ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}× round by round`;
}

function residentMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function translationChunksPerSecond(): { chunksPerSecond: number; chunks: number; seconds: number } {
  const config = loadConfig({ environment: { OPENAI_API_KEY: 'x' } });
  const provider = config.providers.find((candidate) => candidate.id === 'openai')!;
  const target = { provider, model: 'gpt-4.1-mini', apiKey: 'x' };
  let text = '';
  const frames = 1000;
  for (let index = 0; index < frames; index++) {
    text += `data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"token ${index} "},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}\n\n`;
  }
  const bytes = Buffer.from(text);
  // Network-sized pieces, so the decoder sees splits in awkward places.
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 1400) pieces.push(bytes.subarray(offset, offset + 1400));
  let total = 0;
  let sink = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    const decoder = new SseDecoder();
    const translator = new OpenAICompatibleStreamTranslator(target);
    const encoder = new OpenAIChatStreamEncoder({ id: 'x', created: 1, model: 'gpt-4.1-mini', includeUsage: false });
    for (const piece of pieces) {
      for (const event of decoder.push(piece)) {
        for (const core of translator.push(event)) sink += encoder.encode(core).length;
      }
    }
    total += frames;
  }
  const seconds = (performance.now() - started) / 1000;
  if (sink === 0) throw new Error('nothing encoded');
  return { chunksPerSecond: total / seconds, chunks: total, seconds };
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const cli = join(root, 'out', 'main', 'cli.js');
  ensureBuilt(cli);
  const fake = await startChild(tsx, [join(root, 'bench', 'fast-upstream.ts')], {}, /^(\d+)\n/m);
  const fakePort = Number(fake.match[1]);
  const bare = await startChild(tsx, [join(root, 'bench', 'bare-proxy.ts'), String(fakePort)], {}, /^(\d+)\n/m);
  const barePort = Number(bare.match[1]);
  const minimal = await startChild(tsx, [join(root, 'bench', 'minimal-fastify-proxy.ts'), String(fakePort)], {}, /^(\d+)\n/m);
  const minimalPort = Number(minimal.match[1]);
  // The bench measures the gateway, not the OS keychain.
  const environment = gatewayEnvironment(KEY, `http://127.0.0.1:${fakePort}/v1`);
  // Spawn to the first answered GET /v1/models, wall and CPU (bench/startup.ts).
  // Started as a user starts it: bin/switchyard.js with its shebang's node flags, in one data
  // folder (restarts of one installation), with the code cache an earlier start left.
  const bin = join(root, 'bin', 'switchyard.js');
  const userStart = { nodeFlags: gatewayNodeFlags() };
  const startup = await measureStartup(Number(process.env.BENCH_STARTUP_RUNS ?? 7), environment, bin, false, true, userStart);
  // Ready for real work: the first request is a chat completion, answered and logged.
  const chatStartup = await measureStartup(Number(process.env.BENCH_STARTUP_RUNS ?? 7), environment, bin, false, true, { ...userStart, chat: true });
  // The same without the code cache the CLI keeps after its first start: a first start.
  const firstStartup = await measureStartup(Number(process.env.BENCH_STARTUP_RUNS ?? 7), environment, bin, true, false, userStart);
  // Node 20 reads and parses NODE_EXTRA_CA_CERTS's certificates at every process start, before
  // any of the gateway's code runs (this VM points it at the whole system bundle: ~45 ms of
  // `node -e 1`). Where it is set, restarts are measured once more as on a machine without it.
  const extraCertificates = process.env.NODE_EXTRA_CA_CERTS;
  const startupWithoutExtraCertificates = extraCertificates
    ? await measureStartup(Number(process.env.BENCH_STARTUP_RUNS ?? 7), { ...environment, NODE_EXTRA_CA_CERTS: '' }, bin, false, true, userStart)
    : null;
  // Started as a user starts it: bin/switchyard.js with the node flags on its shebang line.
  // A fresh log every run: one that grew over earlier runs made no difference to the figures
  // (docs/benchmarks.md, eleventh session), but every run then starts alike and none leaves
  // hundreds of MB behind.
  const gatewayData = join(root, '.bench', 'data');
  rmSync(gatewayData, { recursive: true, force: true });
  const gateway = await startChild(...gatewayCommand(['serve', '--port', '0', '--data-dir', gatewayData]), environment, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  const gatewayPort = Number(gateway.match[1]);
  // The core with the gateway's own node flags (its heap sizes), so that core against full
  // gateway shows the log's cost and not a difference of heap settings.
  const core = await startChild(process.execPath, [...userStart.nodeFlags, '--import', 'tsx', join(root, 'bench', 'gateway-core.ts')], environment, /^(\d+)\n/m);
  const corePort = Number(core.match[1]);
  const gatewayPid = gateway.child.pid!;
  let portkey: { port: number; headers: Headers } | null = null;
  if (PORTKEY_DIRECTORY) {
    const port = await freePort();
    await startChild(process.execPath, [join(PORTKEY_DIRECTORY, 'build', 'start-server.js'), `--port=${port}`, '--headless'], { NODE_ENV: 'production' }, /Ready for connections/);
    // Portkey forwards the client's bearer token upstream; the fake accepts any.
    portkey = { port, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://127.0.0.1:${fakePort}/v1` } };
  }

  process.stdout.write(`fake upstream :${fakePort}  bare proxy :${barePort}  gateway :${gatewayPort}  (${DURATION_SECONDS}s per run)\n`);
  const targets: Target[] = [
    { name: 'direct (fake upstream)', port: fakePort },
    { name: 'bare Node proxy', port: barePort },
    { name: 'minimal Fastify+undici', port: minimalPort },
    { name: 'gateway core (no log)', port: corePort },
    { name: 'Switchyard gateway', port: gatewayPort },
    ...(portkey ? [{ name: 'Portkey gateway', port: portkey.port, headers: portkey.headers }] : []),
  ];
  const rows: string[] = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, residentMb(gatewayPid));
  }, 200);
  const results: Record<string, Record<string, Throughput>> = {};
  for (const [mode, body] of [
    ['json', CHAT_BODY],
    ['stream', STREAM_BODY],
  ] as const) {
    // Warm the connection pools and the JIT before measuring.
    for (const target of targets) await autocannon({ url: `http://127.0.0.1:${target.port}/v1/chat/completions`, method: 'POST', headers: target.headers ?? HEADERS, body, connections: 10, duration: 2 });
    results[mode] = await loadInterleaved(targets, body);
    for (const target of targets) {
      const result = results[mode]![target.name]!;
      process.stdout.write(`${mode.padEnd(6)} ${target.name.padEnd(24)} ${fmt(result.requestsPerSecond)} req/s (rounds ${(result.rounds ?? []).map((value) => fmt(value)).join(' / ')})  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  non-2xx ${result.non2xx}\n`);
    }
  }
  clearInterval(rssTimer);

  const latencies: Record<string, Record<string, LatencySummary>> = {};
  for (const [mode, body] of [
    ['json', CHAT_BODY],
    ['stream', STREAM_BODY],
  ] as const) {
    latencies[mode] = await latencyInterleaved(targets, body, LATENCY_REQUESTS, HEADERS);
    for (const target of targets) {
      const measured = latencies[mode]![target.name]!;
      process.stdout.write(`${mode.padEnd(6)} ${target.name.padEnd(24)} 1 connection: p50 ${fmt(measured.p50, 3)} ms  p90 ${fmt(measured.p90, 3)} ms  p99 ${fmt(measured.p99, 3)} ms  p99.9 ${fmt(measured.p999, 3)} ms  max ${fmt(measured.max, 3)} ms${measured.non200 ? `  non-200 ${measured.non200}` : ''}\n`);
    }
  }
  const translation = translationChunksPerSecond();

  for (const mode of ['json', 'stream'] as const) {
    const direct = results[mode]!['direct (fake upstream)']!;
    const bareResult = results[mode]!['bare Node proxy']!;
    const minimalResult = results[mode]!['minimal Fastify+undici']!;
    const coreResult = results[mode]!['gateway core (no log)']!;
    const coreLatency = latencies[mode]!['gateway core (no log)']!;
    const gatewayResult = results[mode]!['Switchyard gateway']!;
    const directLatency = latencies[mode]!['direct (fake upstream)']!;
    const bareLatency = latencies[mode]!['bare Node proxy']!;
    const gatewayLatency = latencies[mode]!['Switchyard gateway']!;
    const portkeyResult = results[mode]!['Portkey gateway'];
    rows.push(
      `| ${mode} | ${fmt(direct.requestsPerSecond)} | ${fmt(bareResult.requestsPerSecond)} | ${fmt(minimalResult.requestsPerSecond)} | ${fmt(coreResult.requestsPerSecond)} | ${fmt(gatewayResult.requestsPerSecond)} | ${portkeyResult ? fmt(portkeyResult.requestsPerSecond) : '—'} | ${portkeyResult ? `${fmt(gatewayResult.requestsPerSecond / portkeyResult.requestsPerSecond, 2)}×` : '—'} | ` +
        `${fmt((coreResult.requestsPerSecond / bareResult.requestsPerSecond) * 100)} % | ${fmt((gatewayResult.requestsPerSecond / bareResult.requestsPerSecond) * 100)} % | ` +
        `${fmt(coreLatency.p50 - directLatency.p50, 3)} / ${fmt(coreLatency.p99 - directLatency.p99, 3)} ms | ${fmt(gatewayLatency.p50 - directLatency.p50, 3)} / ${fmt(gatewayLatency.p99 - directLatency.p99, 3)} ms | ${fmt(bareLatency.p50 - directLatency.p50, 3)} / ${fmt(bareLatency.p99 - directLatency.p99, 3)} ms |`,
    );
  }
  const jsonGateway = results.json!['Switchyard gateway']!.requestsPerSecond;
  const jsonBare = results.json!['bare Node proxy']!.requestsPerSecond;
  const jsonPortkey = results.json!['Portkey gateway']?.requestsPerSecond;
  const range = (mode: 'json' | 'stream', of: string, to: string): string => roundRange(results[mode]![of]!, results[mode]![to]!);
  const streamRatio = results.stream!['Switchyard gateway']!.requestsPerSecond / results.stream!['bare Node proxy']!.requestsPerSecond;
  const streamCoreRatio = results.stream!['gateway core (no log)']!.requestsPerSecond / results.stream!['bare Node proxy']!.requestsPerSecond;
  const addedP99 = latencies.json!['Switchyard gateway']!.p99 - latencies.json!['direct (fake upstream)']!.p99;
  const coreJson = results.json!['gateway core (no log)']!.requestsPerSecond;
  const coreAddedP99 = latencies.json!['gateway core (no log)']!.p99 - latencies.json!['direct (fake upstream)']!.p99;
  const verdict = (ok: boolean, text: string): string => `${ok ? 'met' : 'MISSED'}: ${text}`;
  const report = [
    `# Benchmark run ${new Date().toISOString()}`,
    '',
    `Machine: ${(await import('node:os')).cpus().length} cores, Node ${process.version}, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)} at the end; load generator (autocannon), fake upstream, bare proxy and gateway share it. ${DURATION_SECONDS} s per target at 10 connections, in ${ROUNDS} interleaved slices; latency from ${LATENCY_REQUESTS} sequential requests per target on 1 keep-alive connection each, the targets taking turns.`,
    '',
    '| mode | direct req/s | bare proxy req/s | minimal Fastify+undici req/s | gateway core, no log req/s | full gateway req/s | Portkey req/s | full / Portkey | core / bare | full / bare | core added p50 / p99 (1 conn) | full added p50 / p99 (1 conn) | bare proxy added p50 / p99 (1 conn) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `- Streaming translation (decode + translate + encode, one core): ${fmt(translation.chunksPerSecond)} chunks/s`,
    `- Gateway peak resident memory under load: ${fmt(peakRss, 1)} MB`,
    `- Start-up of \`switchyard serve\` (bin/switchyard.js with its node flags; restarts in one data folder, with the code cache of an earlier start; median of ${startup.runs}) to the first answered GET /v1/models: ${fmt(startup.wallMs)} ms wall, ${fmt(startup.cpuMs)} ms CPU (user + system; on a shared machine the CPU figure is the reliable one); to the first answered chat completion: ${fmt(chatStartup.wallMs)} ms wall, ${fmt(chatStartup.cpuMs)} ms CPU; a first start (fresh data folder, no code cache): ${fmt(firstStartup.wallMs)} ms wall, ${fmt(firstStartup.cpuMs)} ms CPU`,
    '',
    'Targets (issue 11; every request logged):',
    `- ${verdict(jsonGateway >= 0.67 * jsonBare, `JSON at 10 connections ≥ 0.67× the bare proxy (measured ${fmt(jsonGateway / jsonBare, 2)}×${range('json', 'Switchyard gateway', 'bare Node proxy')}; the core without the log: ${fmt(coreJson / jsonBare, 2)}×${range('json', 'gateway core (no log)', 'bare Node proxy')})`)}`,
    jsonPortkey === undefined
      ? '- not measured: JSON ≥ 5× Portkey (run with --portkey <dir> or SWITCHYARD_BENCH_PORTKEY)'
      : `- ${verdict(jsonGateway >= 5 * jsonPortkey, `JSON at 10 connections ≥ 5× Portkey's gateway (measured ${fmt(jsonGateway / jsonPortkey, 2)}×${range('json', 'Switchyard gateway', 'Portkey gateway')})`)}`,
    `- ${verdict(addedP99 <= 0.5, `≤ 0.5 ms added p99 at 1 connection (measured ${fmt(addedP99, 3)} ms; the core without the log: ${fmt(coreAddedP99, 3)} ms)`)}`,
    `- ${verdict(streamRatio >= 0.6, `streaming through translation ≥ 0.6× the bare proxy (measured ${fmt(streamRatio, 2)}×${range('stream', 'Switchyard gateway', 'bare Node proxy')}; the core without the log: ${fmt(streamCoreRatio, 2)}×${range('stream', 'gateway core (no log)', 'bare Node proxy')})`)}`,
    `- ${verdict(peakRss < 150, `< 150 MB resident under load (measured ${fmt(peakRss, 1)} MB)`)}`,
    `- ${verdict(startup.wallMs <= 300, `ready to serve within 300 ms of spawn (measured ${fmt(startup.wallMs)} ms wall to GET /v1/models, ${fmt(chatStartup.wallMs)} ms to a first chat completion, ${fmt(startup.cpuMs)} ms CPU of all threads${startup.wallMs <= 300 ? '' : startup.cpuMs <= 300 ? '; the CPU fits: the rest is waiting for the shared cores' : '; the CPU alone is over'})`)}`,
    ...(startupWithoutExtraCertificates
      ? [
          `- ${verdict(startupWithoutExtraCertificates.wallMs <= 300, `ready within 300 ms without NODE_EXTRA_CA_CERTS (set here to ${extraCertificates}, which Node parses at every start): ${fmt(startupWithoutExtraCertificates.wallMs)} ms wall to GET /v1/models, ${fmt(startupWithoutExtraCertificates.cpuMs)} ms CPU`)}`,
        ]
      : []),
    '',
  ].join('\n');
  process.stdout.write(`\n${report}`);
  mkdirSync(join(root, '.bench'), { recursive: true });
  writeFileSync(join(root, '.bench', 'latest.md'), report);
}

runBench(main);
