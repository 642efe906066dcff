/**
 * A deliberately fast OpenAI-shaped upstream for benchmarks: precomputed bodies, no
 * parsing beyond reading the request, keep-alive. Prints its port on stdout.
 */
import { createServer } from 'node:http';

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1760000000,
  model: 'gpt-4.1-mini-2025-04-14',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! This is a benchmark reply from the fast upstream.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
});

export const STREAM_CONTENT_CHUNKS = 20;
function chunk(delta: string, finish: string | null, usage = ''): string {
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini-2025-04-14","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${usage}}\n\n`;
}
const frames = [chunk('{"role":"assistant","content":"","refusal":null}', null)];
for (let index = 0; index < STREAM_CONTENT_CHUNKS; index++) frames.push(chunk(`{"content":"word${index} "}`, null));
frames.push(chunk('{}', 'stop'));
frames.push(
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-mini-2025-04-14","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32}}\n\n',
);
frames.push('data: [DONE]\n\n');
const streamBody = frames.join('');

const server = createServer((request, response) => {
  let size = 0;
  let streaming = false;
  const chunks: Buffer[] = [];
  request.on('data', (data: Buffer) => {
    size += data.length;
    chunks.push(data);
  });
  request.on('end', () => {
    if (request.url?.endsWith('/models')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"object":"list","data":[{"id":"gpt-4.1-mini","object":"model","created":0,"owned_by":"system"}]}');
      return;
    }
    // A substring test is enough to tell the two request shapes apart.
    streaming = size > 0 && Buffer.concat(chunks).includes('"stream":true');
    if (streaming) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(streamBody);
    } else {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      response.end(completion);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
