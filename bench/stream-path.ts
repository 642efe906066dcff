/**
 * `npx tsx bench/stream-path.ts [seconds]`: the JavaScript work of one translated stream as
 * `streamToClient` does it, on the body `bench/fast-upstream.ts` streams (role chunk, 20
 * content chunks, finish, usage, [DONE]): SSE decode → OpenAI-compatible translation → the
 * accumulator the log records, the live tracker (no window listening, as headless), the
 * OpenAI chat stream encoder → the assembled response, then the record finished in the tracker,
 * which keeps what the gateway's does, with its defaults (the last 500 finished requests; with no
 * window listening, the events of the last 20 streams), so that what outlives a stream outlives it
 * as it does there: the garbage collector's share is the gateway's. No sockets,
 * no log writer: µs of CPU per stream (process CPU time, GC included), the steady figure to
 * compare stream-path changes by. Run it with the gateway's node flags for its GC
 * (`node --max-semi-space-size=4 --import tsx bench/stream-path.ts`); `--no-finish` leaves
 * the record out and forgets the tracker's entry at once (the figure of earlier sessions).
 * On a machine shared with other work, instructions are steadier than CPU time: run it under
 * `valgrind --tool=cachegrind --cache-sim=no` with `--warm-up=2000 --streams=2000` and
 * `--streams=6000`; the difference of the two "I refs" over 4,000 is instructions per stream
 * (every thread's, GC included; start-up and warm-up cancel out).
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/main/gateway/config.js';
import { SseDecoder } from '../src/main/gateway/sse/decoder.js';
import { OpenAICompatibleStreamTranslator } from '../src/main/gateway/providers/openai-compatible/stream.js';
import { OpenAIChatStreamEncoder } from '../src/main/gateway/formats/openai-chat/stream-encoder.js';
import { CoreStreamAccumulator } from '../src/main/gateway/formats/openai-chat/accumulator.js';
import { encodeChatCompletion } from '../src/main/gateway/formats/openai-chat/encode-response.js';
import { LiveRequestTracker } from '../src/main/services/live-request-tracker.js';
import { EventHub } from '../src/main/services/event-hub.js';
import type { CoreStreamEvent } from '../src/main/core/types.js';
import type { RequestRecord } from '../src/main/core/record.js';

const seconds = Number(process.argv.slice(2).find((argument) => !argument.startsWith('--')) ?? 3);
const finish = !process.argv.includes('--no-finish');
const config = loadConfig({ environment: { OPENAI_API_KEY: 'x' } });
const provider = config.providers.find((candidate) => candidate.id === 'openai')!;
const target = { provider, model: 'gpt-4.1-mini', apiKey: 'x' };

// The same frames as bench/fast-upstream.ts.
function chunk(delta: string, finish: string | null): string {
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini-2025-04-14","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;
}
const frames = [chunk('{"role":"assistant","content":"","refusal":null}', null)];
for (let index = 0; index < 20; index++) frames.push(chunk(`{"content":"word${index} "}`, null));
frames.push(chunk('{}', 'stop'));
frames.push('data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini-2025-04-14","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32}}\n\n');
frames.push('data: [DONE]\n\n');
const body = Buffer.from(frames.join(''));

const tracker = new LiveRequestTracker({ events: new EventHub(), priceBook: () => ({ lookup: () => null }) as never });
let sequence = 0;
let sink = 0;

function oneStream(): void {
  const id = `req-${sequence++}`;
  const startedAt = Date.now();
  tracker.requestStarted({ id, startedAt, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', stream: true, tags: [], gatewayKeyId: null, user: null, conversationId: null, headers: {} });
  const decoder = new SseDecoder();
  const translator = new OpenAICompatibleStreamTranslator(target);
  const encoder = new OpenAIChatStreamEncoder({ id: `chatcmpl-${id}`, created: 1, model: 'gpt-4.1-mini', includeUsage: false });
  const accumulator = new CoreStreamAccumulator();
  const emit = (event: CoreStreamEvent): string => {
    accumulator.add(event);
    tracker.requestStreamEvent(id, event, Date.now());
    return encoder.encode(event);
  };
  let out = '';
  for (const sseEvent of decoder.push(body)) {
    for (const event of translator.push(sseEvent)) out += emit(event);
  }
  out += encoder.finish();
  const encoded = encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true });
  sink += out.length + (encoded.choices.length > 0 ? 1 : 0);
  if (!translator.done) throw new Error('the stream did not finish');
  if (finish) tracker.requestFinished(streamRecord(id, startedAt, encoded));
  // Finished without a record: the tracker forgets the entry (as requestFinished would, later).
  else (tracker as unknown as { entries: Map<string, unknown> }).entries.delete(id);
}

/** The record the gateway finishes a stream with (the bodies as the request recorder holds them). */
function streamRecord(id: string, startedAt: number, responseBody: unknown): RequestRecord {
  const requestBody = { model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'Say hello for the benchmark.' }] };
  const endedAt = Date.now();
  return {
    id, startedAt, endedAt, endpoint: '/v1/chat/completions', requestedModel: 'gpt-4.1-mini', resolvedModel: 'gpt-4.1-mini', provider: 'openai',
    status: 'success', httpStatus: 200, errorType: null, errorMessage: null, stream: true,
    usage: { inputTokens: 12, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 20, reasoningTokens: 0, raw: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 } },
    timeToFirstTokenMs: 0, latencyMs: endedAt - startedAt, attempts: 1, finishReason: 'stop', gatewayKeyId: null, user: null, conversationId: null, tags: [],
    requestBody, upstreamRequestBody: { ...requestBody, stream_options: { include_usage: true } }, responseBody, warnings: [],
  };
}

/** `--streams=N`: exactly N streams instead of `seconds` of them (after `--warm-up=N`, default 20,000). */
function option(name: string): number | null {
  const given = process.argv.find((argument) => argument.startsWith(`--${name}=`));
  return given === undefined ? null : Number(given.slice(name.length + 3));
}
const fixedStreams = option('streams');
const warmUp = option('warm-up') ?? 20_000;

for (let index = 0; index < warmUp; index++) oneStream();
let streams = 0;
const started = performance.now();
// CPU time, not wall time: on a machine shared with other work the process is often descheduled.
const cpuBefore = process.cpuUsage();
while (fixedStreams === null ? performance.now() - started < seconds * 1000 : streams < fixedStreams) {
  for (let index = 0; index < 1000; index++) oneStream();
  streams += 1000;
}
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
if (sink === 0) throw new Error('nothing encoded');
process.stdout.write(`stream path: ${((cpu.user + cpu.system) / streams).toFixed(2)} µs of CPU per stream (${frames.length} frames; ${streams} streams in ${elapsed.toFixed(1)} s)\n`);
