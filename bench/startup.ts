/**
 * Start-up of the built headless gateway (`node out/main/cli.js serve`): from process spawn
 * to the moment a request to GET /v1/models answers, as wall ms and as the child's CPU ms
 * (user + system of every thread, read from /proc/<pid>/stat at that moment). Prints the
 * median of N runs (`--runs N`, default 9). On a machine shared with other work the wall
 * time swings with the load; the CPU time is what start-up itself costs, so trust it more.
 *
 * The CLI keeps a V8 code cache of its bundle (src/main/code-cache.ts) in a cache folder:
 * the runs share a fresh one, filled by one unmeasured start first, as any start after the
 * first one on a machine finds it (`--cold`: no code cache, as a first start). Each start
 * has a fresh data folder (a new database, all migrations run) unless `--restart` (one
 * folder for all, as restarts of one installation).
 *
 * `--chat`: the first request is a chat completion through a fake OpenAI upstream
 * (bench/fast-upstream.ts) instead of GET /v1/models — ready to do real work, logged.
 * `--node-flags "--flag …"`: flags for node before the CLI (as bin/switchyard.js's shebang).
 *
 * The CLI is started with SWITCHYARD_STARTUP_TRACE=1: its loader says when each phase of the
 * start ended (read, compiled, evaluated, listening, answered), printed as medians.
 *
 * `npx tsx bench/startup.ts [--runs N] [--json] [--cold] [--restart] [--chat] [--node-flags "…"] [--cli out-copy/main/cli.js]`; bench/run.ts uses measureStartup().
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const KEY = 'sy-startup-key';
/** Clock ticks per second of /proc's utime/stime (USER_HZ; 100 on Linux, as `getconf CLK_TCK` says). */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

export interface StartupSample {
  /** Spawn to the first answered GET /v1/models. */
  wallMs: number;
  /** The child's user + system CPU up to that answer, all threads (the request writer's too). */
  cpuMs: number;
  /** The same, the main thread alone: the work between spawn and listening is on it. */
  mainThreadCpuMs: number;
  /** Spawn to the "listening on" line. */
  listeningMs: number;
  /**
   * When each phase of the start ended, as the CLI's loader saw it (SWITCHYARD_STARTUP_TRACE):
   * wall ms since the process started and CPU ms of the process by then (empty for a build without the trace).
   */
  phases: Record<string, { wallMs: number; cpuMs: number }>;
}

export interface StartupResult {
  runs: number;
  /** Whether the starts had a code cache (filled by a start before them) or none. */
  codeCache: 'warm' | 'off';
  wallMs: number;
  cpuMs: number;
  mainThreadCpuMs: number;
  listeningMs: number;
  /** Medians of each phase's end (see StartupSample.phases). */
  phases: Record<string, { wallMs: number; cpuMs: number }>;
  samples: StartupSample[];
}

/** `/proc/<pid>/stat` counts every thread of the process; `/proc/<pid>/task/<pid>/stat` the main thread alone. */
function cpuMsOf(path: string): number {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}

const CHAT_BODY = JSON.stringify({ model: 'openai/gpt-4.1-mini', messages: [{ role: 'user', content: 'Hello' }] });

/** GET /v1/models, or (`chat`) a non-streaming chat completion; resolves with the status once the body is read. */
function firstRequest(port: number, chat: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${KEY}`, ...(chat ? { 'content-type': 'application/json' } : {}) };
    const outgoing = request({ host: '127.0.0.1', port, method: chat ? 'POST' : 'GET', path: chat ? '/v1/chat/completions' : '/v1/models', headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end(chat ? CHAT_BODY : undefined);
  });
}

/** bench/fast-upstream.ts in a child process (it prints its port). */
async function startFastUpstream(): Promise<{ port: number; stop(): void }> {
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'fast-upstream.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /^(\d+)\n/m.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the fake upstream exited with ${code}`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

const TRACE_LINE = /switchyard: start-up (.*)\n/;

/** `switchyard: start-up read=140.2/120.0 compiled=…` (src/main/cli-loader.ts) as phase → wall / CPU ms. */
function parsePhases(stderr: string): StartupSample['phases'] {
  const phases: StartupSample['phases'] = {};
  for (const entry of TRACE_LINE.exec(stderr)?.[1]?.split(' ') ?? []) {
    const match = /^(\w+)=([\d.]+)\/([\d.]+)$/.exec(entry);
    if (match) phases[match[1]!] = { wallMs: Number(match[2]), cpuMs: Number(match[3]) };
  }
  return phases;
}

function medianPhases(samples: StartupSample[]): StartupResult['phases'] {
  const names = [...new Set(samples.flatMap((sample) => Object.keys(sample.phases)))];
  const of = (name: string, field: 'wallMs' | 'cpuMs') => median(samples.flatMap((sample) => (sample.phases[name] ? [sample.phases[name][field]] : [])));
  return Object.fromEntries(names.map((name) => [name, { wallMs: of(name, 'wallMs'), cpuMs: of(name, 'cpuMs') }]));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One start; in a fresh data folder unless `dataDirectory` (a restart: database and journals already there). */
async function once(cli: string, extraEnvironment: NodeJS.ProcessEnv, reusedDataDirectory: string | undefined, options: StartupOptions): Promise<StartupSample> {
  const dataDirectory = reusedDataDirectory ?? mkdtempSync(join(tmpdir(), 'switchyard-startup-'));
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    OPENAI_API_KEY: 'sk-startup',
    // Nothing listens on the discard port: local providers answer "unreachable" at once.
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
    ...extraEnvironment,
    SWITCHYARD_API_KEY: KEY,
    SWITCHYARD_STARTUP_TRACE: '1',
  };
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), cli, 'serve', '--port', '0', '--data-dir', dataDirectory], { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (data: Buffer) => (errors += data.toString()));
  try {
    const { port, listeningMs } = await new Promise<{ port: number; listeningMs: number }>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (data: Buffer) => {
        output += data.toString();
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (match) resolve({ port: Number(match[1]), listeningMs: performance.now() - started });
      });
      child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
      child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${output}`)));
    });
    const status = await firstRequest(port, options.chat === true);
    const wallMs = performance.now() - started;
    const cpuMs = cpuMsOf(`/proc/${child.pid}/stat`);
    const mainThreadCpuMs = cpuMsOf(`/proc/${child.pid}/task/${child.pid}/stat`);
    if (status !== 200) throw new Error(`${options.chat ? 'POST /v1/chat/completions' : 'GET /v1/models'} answered ${status}`);
    // The loader prints its phases once the answer is sent; a build without the trace prints none.
    for (let wait = 0; wait < 50 && !TRACE_LINE.test(errors); wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    return { wallMs, cpuMs, mainThreadCpuMs, listeningMs, phases: parsePhases(errors) };
  } finally {
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    if (reusedDataDirectory === undefined) rmSync(dataDirectory, { recursive: true, force: true });
  }
}

/**
 * Builds out/ from the current sources (a few seconds), so the figures are never those of an
 * older build left in the folder; BENCH_NO_BUILD=1 measures whatever out/ holds.
 */
export function ensureBuilt(cli = join(root, 'out', 'main', 'cli.js')): void {
  if (process.env.BENCH_NO_BUILD === '1' && existsSync(cli)) return;
  process.stdout.write('building (electron-vite build) …\n');
  const build = spawnSync(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('build failed');
}

/**
 * Starts the built CLI `runs` times, one after another (the default CLI is built first),
 * with a code cache in a fresh folder, filled by one start before them (`cold`: none);
 * each in a fresh data folder, or (`restart`) all in one, as restarts of one installation.
 */
export interface StartupOptions {
  /** The first request is a chat completion through a fake OpenAI upstream started for the runs. */
  chat?: boolean;
  /** Flags for node before the CLI's path. */
  nodeFlags?: string[];
}

export async function measureStartup(runs = 9, extraEnvironment: NodeJS.ProcessEnv = {}, cli?: string, cold = false, restart = false, options: StartupOptions = {}): Promise<StartupResult> {
  if (cli === undefined) ensureBuilt();
  const upstream = options.chat ? await startFastUpstream() : null;
  if (upstream) extraEnvironment = { ...extraEnvironment, OPENAI_BASE_URL: `http://127.0.0.1:${upstream.port}/v1` };
  cli ??= join(root, 'out', 'main', 'cli.js');
  const cacheDirectory = mkdtempSync(join(tmpdir(), 'switchyard-startup-cache-'));
  const dataDirectory = restart ? mkdtempSync(join(tmpdir(), 'switchyard-startup-')) : undefined;
  const environment = { ...extraEnvironment, SWITCHYARD_CODE_CACHE_DIR: cold ? 'off' : cacheDirectory };
  const samples: StartupSample[] = [];
  try {
    if (!cold) {
      await once(cli, environment, dataDirectory, options);
      // A build without the loader (an older copy given with --cli) writes none; it is then measured as it is.
      if (existsSync(join(dirname(cli), 'cli-main.cjs')) && readdirSync(cacheDirectory).length === 0) throw new Error('the first start wrote no code cache');
    }
    // A restart finds the database made (the first start above, or this one when cold).
    if (cold && dataDirectory !== undefined) await once(cli, environment, dataDirectory, options);
    for (let run = 0; run < runs; run++) samples.push(await once(cli, environment, dataDirectory, options));
  } finally {
    upstream?.stop();
    rmSync(cacheDirectory, { recursive: true, force: true });
    if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
  }
  return {
    runs,
    codeCache: cold ? 'off' : 'warm',
    wallMs: median(samples.map((sample) => sample.wallMs)),
    cpuMs: median(samples.map((sample) => sample.cpuMs)),
    mainThreadCpuMs: median(samples.map((sample) => sample.mainThreadCpuMs)),
    listeningMs: median(samples.map((sample) => sample.listeningMs)),
    phases: medianPhases(samples),
    samples,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runsArgument = process.argv.indexOf('--runs');
  const runs = runsArgument > 0 ? Number(process.argv[runsArgument + 1]) : 9;
  // `--cli <path>`: another build of the CLI (a copy of out/ made to compare two builds).
  const cliArgument = process.argv.indexOf('--cli');
  const flagsArgument = process.argv.indexOf('--node-flags');
  const nodeFlags = flagsArgument > 0 ? process.argv[flagsArgument + 1]!.split(' ').filter(Boolean) : [];
  const chat = process.argv.includes('--chat');
  const result = await measureStartup(runs, {}, cliArgument > 0 ? resolvePath(process.argv[cliArgument + 1]!) : undefined, process.argv.includes('--cold'), process.argv.includes('--restart'), { chat, nodeFlags });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const { loadavg } = await import('node:os');
    process.stdout.write(
      `start-up of the built CLI to the first answered ${chat ? 'chat completion' : 'GET /v1/models'}${nodeFlags.length > 0 ? ` (node ${nodeFlags.join(' ')})` : ''}, median of ${result.runs}, ${result.codeCache === 'warm' ? 'with its code cache' : 'no code cache'} (load average ${loadavg()[0]!.toFixed(1)}):\n` +
        `  wall ${result.wallMs.toFixed(0)} ms (listening at ${result.listeningMs.toFixed(0)} ms)\n` +
        `  CPU  ${result.cpuMs.toFixed(0)} ms (user + system, all threads; main thread ${result.mainThreadCpuMs.toFixed(0)} ms)\n` +
        `  samples wall/CPU: ${result.samples.map((sample) => `${sample.wallMs.toFixed(0)}/${sample.cpuMs.toFixed(0)}`).join(' ')}\n` +
        `  phases (ends, in the process: wall/CPU ms): ${Object.entries(result.phases).map(([name, phase]) => `${name} ${phase.wallMs.toFixed(0)}/${phase.cpuMs.toFixed(0)}`).join(', ') || 'not traced by this build'}\n`,
    );
  }
}
