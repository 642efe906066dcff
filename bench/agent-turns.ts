/**
 * What the gateway adds to a coding agent's turn: Claude Code's requests (`/v1/messages`, to
 * the Anthropic fake) and Codex's (`/v1/responses`, to the OpenAI fake), built from the
 * captured first requests (`shared/reference/captured/`, long texts filled back in to their
 * captured lengths) and grown turn by turn the way a session grows: each turn adds a tool
 * call, its result (a ~3 KB file read), an answer and the next instruction. Every turn is
 * streamed, as the agents stream, and sent `reps` times straight to the fake and `reps` times
 * through the full gateway (the built `switchyard serve`, every request logged).
 *
 * Prints, per band of turns: the request body's size, the median time to the end of the
 * stream direct and through the gateway, what the gateway added, and the gateway's CPU per
 * turn (its event loop, and its other threads: the log's writer and V8's helpers), from /proc.
 *
 * `npm run bench:agent -- [turns] [reps]` (default 40 turns, 5 reps; about a minute). The fakes
 * run in this process and validate every request as strictly as the real APIs do, so "direct"
 * includes their own work; "added" is the difference of medians on one machine.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gatewayCommand, gatewayEnvironment, root, runBench, startChild, threadCpuMs } from './children.js';
import { startAnthropicFake } from '../test/fakes/anthropic-fake.js';
import { startOpenAIFake } from '../test/fakes/openai-fake.js';
import { CLAUDE_CODE_CAPTURE, CODEX_CAPTURE, readCaptured, withSchemasRepaired } from '../test/helpers/captured.js';

const numbers = process.argv.slice(2).filter((argument) => /^\d+$/.test(argument));
const TURNS = Number(numbers[0] ?? 40);
const REPS = Number(numbers[1] ?? 5);
const BAND = 10;
const KEY = 'sy-bench-key';

/** The captures' `"<text, 784 chars>"` placeholders as texts of that length (with a non-ASCII character, as real prompts have). */
function filled(value: unknown): unknown {
  if (typeof value === 'string') {
    const match = /^<\w+, (\d+) chars>$/.exec(value);
    if (!match) return value;
    const length = Number(match[1]);
    return 'Read the file before you edit it — then run the tests.\n'.repeat(Math.ceil(length / 56)).slice(0, length);
  }
  if (Array.isArray(value)) return value.map(filled);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, filled(inner)]));
  return value;
}

/** A ~3 KB file, as a Read tool returns it. */
function fileText(turn: number): string {
  return `export function step${turn}(value: number): number {\n  // keeps the running total\n  return value * ${turn} + 1;\n}\n`.repeat(30);
}

interface Agent {
  name: string;
  path: string;
  directHeaders: Record<string, string>;
  gatewayHeaders: Record<string, string>;
  body(turn: number): string;
}

function claudeCode(): Agent {
  const captured = readCaptured(CLAUDE_CODE_CAPTURE);
  // Thinking stays off: replaying thinking blocks needs the fake's signatures, and adds nothing the gateway does differently per byte.
  const { thinking: _thinking, ...base } = filled(withSchemasRepaired(captured.body)) as Record<string, unknown>;
  const messages: unknown[] = [{ role: 'user', content: [{ type: 'text', text: 'Fix the failing test in src/steps.ts.' }] }];
  let turns = 1;
  return {
    name: 'Claude Code → /v1/messages → Anthropic',
    path: '/v1/messages?beta=true',
    directHeaders: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' },
    gatewayHeaders: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': captured.headers['anthropic-beta'] ?? '' },
    body(turn) {
      while (turns < turn) {
        messages.push({ role: 'assistant', content: [{ type: 'text', text: 'Let me read it.' }, { type: 'tool_use', id: `toolu_${turns}`, name: 'Read', input: { file_path: `/src/step${turns}.ts` } }] });
        messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${turns}`, content: fileText(turns) }] });
        messages.push({ role: 'assistant', content: [{ type: 'text', text: 'The bug is not in this file.' }] });
        messages.push({ role: 'user', content: [{ type: 'text', text: 'Go on.' }] });
        turns += 1;
      }
      return JSON.stringify({ ...base, messages, stream: true });
    },
  };
}

function codex(): Agent {
  const captured = readCaptured(CODEX_CAPTURE);
  const base = filled(withSchemasRepaired(captured.body)) as Record<string, unknown> & { input: unknown[] };
  const input: unknown[] = [...base.input];
  let turns = 1;
  return {
    name: 'Codex → /v1/responses → OpenAI',
    path: '/v1/responses',
    directHeaders: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    gatewayHeaders: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body(turn) {
      while (turns < turn) {
        input.push({ type: 'function_call', call_id: `call_${turns}`, name: 'exec_command', arguments: JSON.stringify({ cmd: `cat src/step${turns}.ts` }) });
        input.push({ type: 'function_call_output', call_id: `call_${turns}`, output: fileText(turns) });
        input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'The bug is not in this file.' }] });
        input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Go on.' }] });
        turns += 1;
      }
      return JSON.stringify({ ...base, input, stream: true, store: false });
    },
  };
}

/** CPU time of a process's event loop (its main thread) and of its other threads, in ms. */
function threadCpu(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const [thread, ms] of threadCpuMs(pid)) {
    if (thread.endsWith(`#${pid}`)) main += ms;
    else other += ms;
  }
  return { main, other };
}

async function timed(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text.slice(0, 300)}`);
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function main(): Promise<void> {
  const anthropic = await startAnthropicFake();
  const openai = await startOpenAIFake();
  const dataDirectory = join(root, '.bench', 'agent-turns-data');
  rmSync(dataDirectory, { recursive: true, force: true });
  const [command, commandArguments] = gatewayCommand(['serve', '--port', '0', '--data-dir', dataDirectory]);
  const gateway = await startChild(
    command,
    commandArguments,
    { ...gatewayEnvironment(KEY, openai.url), ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: anthropic.url },
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const origin = `http://127.0.0.1:${gateway.match[1]}`;
  const pid = gateway.child.pid!;
  process.stdout.write(`Agent turns through the full gateway: ${TURNS} turns, ${REPS} of each direct and through the gateway (node ${process.version})\n\n`);
  process.stdout.write('| agent | turns | request body | direct, to the end of the stream | through the gateway | added | gateway CPU per turn: event loop + other threads |\n|---|---|---|---|---|---|---|\n');
  for (const agent of [claudeCode(), codex()]) {
    // The fakes' own URLs: Anthropic's is the origin, OpenAI's ends in /v1.
    const directUrl = agent.path.startsWith('/v1/messages') ? `${anthropic.url}${agent.path}` : `${openai.url}/responses`;
    // Warm-up: the gateway's code paths compiled, its connections to the fake open.
    for (let index = 0; index < 20; index++) await timed(`${origin}${agent.path}`, agent.gatewayHeaders, agent.body(1));
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (let first = 1; first <= TURNS; first += BAND) {
      const direct: number[] = [];
      const via: number[] = [];
      const sizes: number[] = [];
      let requests = 0;
      // The gateway works only for the requests sent to it: what it spends over the band, up to its
      // writer's last commit (a 50 ms flush after a 5 ms hand-off), is theirs.
      const before = threadCpu(pid);
      for (let turn = first; turn < first + BAND && turn <= TURNS; turn++) {
        const body = agent.body(turn);
        sizes.push(Buffer.byteLength(body));
        for (let rep = 0; rep < REPS; rep++) {
          direct.push(await timed(directUrl, agent.directHeaders, body));
          via.push(await timed(`${origin}${agent.path}`, agent.gatewayHeaders, body));
          requests += 1;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
      const after = threadCpu(pid);
      const main = after.main - before.main;
      const other = after.other - before.other;
      const last = Math.min(first + BAND - 1, TURNS);
      const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;
      process.stdout.write(
        `| ${agent.name} | ${first}–${last} | ${kb(sizes[0]!)}–${kb(sizes[sizes.length - 1]!)} | ${median(direct).toFixed(2)} ms | ${median(via).toFixed(2)} ms | ${(median(via) - median(direct)).toFixed(2)} ms | ${(main / requests).toFixed(1)} + ${(other / requests).toFixed(1)} ms |\n`,
      );
    }
  }
  // Every request was answered 200 (timed() throws otherwise); the Anthropic fake also lists what it refused.
  if (anthropic.rejected.length > 0) throw new Error(`the Anthropic fake refused requests: ${JSON.stringify(anthropic.rejected.slice(0, 3))}`);
  gateway.child.kill('SIGTERM');
  await Promise.all([anthropic.close(), openai.close()]);
}

runBench(main);
