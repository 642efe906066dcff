/**
 * `npx tsx bench/validation.ts`: what request validation costs per request, in µs/op, for
 * a typical chat request (system + user), an agent turn (a long conversation with tool calls,
 * tool results, image parts and ten tools), an embeddings request, and a rejected request
 * (the error path builds the message). The body is already parsed JSON, as in the routes.
 */
import { performance } from 'node:perf_hooks';
import { validateChatRequest, validateEmbeddingsRequest } from '../src/main/gateway/request-validation.js';

const typical = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Write a haiku about railway switchyards.' },
  ],
  temperature: 0.7,
  max_tokens: 256,
  stream: true,
  stream_options: { include_usage: true },
};

const tools = Array.from({ length: 10 }, (_, index) => ({
  type: 'function',
  function: {
    name: `tool_${index}`,
    description: 'Does a thing to a file.',
    parameters: { type: 'object', properties: { path: { type: 'string' }, line: { type: 'integer' } }, required: ['path'] },
  },
}));

const agentMessages: unknown[] = [{ role: 'system', content: 'You are a coding agent.' }];
for (let turn = 0; turn < 10; turn++) {
  agentMessages.push({
    role: 'user',
    content: [
      { type: 'text', text: `Step ${turn}: look at this.` },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
    ],
  });
  agentMessages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${turn}`, type: 'function', function: { name: 'tool_1', arguments: '{"path":"a.ts"}' } }] });
  agentMessages.push({ role: 'tool', tool_call_id: `call_${turn}`, content: 'file contents' });
}
const agent = { model: 'claude-sonnet-4-6', messages: agentMessages, tools, tool_choice: 'auto', stream: true, temperature: 0.2, max_completion_tokens: 4096 };

const embeddings = { model: 'text-embedding-3-small', input: ['first passage', 'second passage', 'third passage'], encoding_format: 'float', dimensions: 512 };

const rejected = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a' }, { role: 'wizard', content: 'b' }] };

function bench(name: string, run: () => void, iterations: number): void {
  for (let i = 0; i < Math.min(iterations, 20_000); i++) run(); // warm-up (and JIT compile)
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) run();
    best = Math.min(best, (performance.now() - started) / iterations);
  }
  console.log(`${name.padEnd(34)} ${(best * 1000).toFixed(3).padStart(8)} µs/op`);
}

const swallow = (run: () => void) => () => {
  try {
    run();
  } catch {
    /* the error path is what is measured */
  }
};

bench('chat, typical (2 messages)', () => void validateChatRequest(typical), 200_000);
bench('chat, agent turn (31 msgs, 10 tools)', () => void validateChatRequest(agent), 50_000);
bench('embeddings (3 strings)', () => void validateEmbeddingsRequest(embeddings), 200_000);
bench('chat, rejected (bad role)', swallow(() => validateChatRequest(rejected)), 50_000);
