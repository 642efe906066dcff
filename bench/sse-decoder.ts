/**
 * `npx tsx bench/sse-decoder.ts [MB ...]`: the SSE decoder alone, on this machine.
 *  - one huge `data:` line (default 1, 8 and 16 MB) fed in 16 KB chunks, as an upstream
 *    streaming one enormous event would send it: time to decode, which must grow linearly;
 *  - the common case, ordinary chat chunks (~230 bytes each) in 1,400-byte network pieces:
 *    events and megabytes per second.
 * Prints a small Markdown table. Nothing leaves the process.
 */
import { performance } from 'node:perf_hooks';
import { SseDecoder } from '../src/main/gateway/sse/decoder.js';

const CHUNK = 16 * 1024;

function hugeLine(megabytes: number): { ms: number; ok: boolean } {
  const size = megabytes * 1024 * 1024;
  const body = Buffer.alloc(size + 8, 'x');
  body.write('data: ', 0);
  body.write('\n\n', size + 6);
  // Allow the event through: this measures speed, not the cap.
  const decoder = new SseDecoder({ maxEventSize: Number.MAX_SAFE_INTEGER });
  let length = 0;
  const started = performance.now();
  for (let offset = 0; offset < body.length; offset += CHUNK) {
    for (const event of decoder.push(body.subarray(offset, offset + CHUNK))) length += event.data.length;
  }
  for (const event of decoder.end()) length += event.data.length;
  return { ms: performance.now() - started, ok: length === size };
}

function smallChunks(): { eventsPerSecond: number; megabytesPerSecond: number } {
  let text = '';
  const frames = 1000;
  for (let index = 0; index < frames; index++) {
    text += `data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"token ${index} "},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}\n\n`;
  }
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 1400) pieces.push(bytes.subarray(offset, offset + 1400));
  let events = 0;
  let rounds = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    const decoder = new SseDecoder();
    for (const piece of pieces) events += decoder.push(piece).length;
    events += decoder.end().length;
    rounds++;
  }
  const seconds = (performance.now() - started) / 1000;
  if (events !== rounds * frames) throw new Error(`decoded ${events} events, expected ${rounds * frames}`);
  return { eventsPerSecond: events / seconds, megabytesPerSecond: (rounds * bytes.length) / 1024 / 1024 / seconds };
}

const sizes = process.argv.slice(2).map(Number).filter((value) => value > 0);
const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

process.stdout.write('| case | result |\n|---|---|\n');
// Warm-up so the first figure is not the JIT's.
hugeLine(1);
for (const megabytes of sizes.length > 0 ? sizes : [1, 8, 16]) {
  const { ms, ok } = hugeLine(megabytes);
  process.stdout.write(`| one ${megabytes} MB line in 16 KB chunks | ${fmt(ms, 1)} ms${ok ? '' : ' (WRONG LENGTH)'} |\n`);
}
const small = smallChunks();
process.stdout.write(`| chat chunks in 1,400-byte pieces | ${fmt(small.eventsPerSecond)} events/s, ${fmt(small.megabytesPerSecond, 1)} MB/s |\n`);
