/**
 * A record like the benchmark's chat completions produce (bodies, one attempt, usage with
 * the upstream's raw report), for the storage microbenchmarks: the storage tests' record
 * with the fast upstream's answer and a time-ordered id, as the gateway makes them.
 */
import { newRequestId } from '../src/main/gateway/request-id.js';
import type { StoredRequestRecord } from '../src/main/storage/stored-record.js';
import { makeRecord } from '../test/storage/request-record-fixture.js';

const rawUsage = { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };

export function benchRecord(index: number): StoredRequestRecord {
  const startedAt = Date.now();
  const requestBody = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `Say hello for the benchmark. ${index % 50}` }] };
  return makeRecord({
    id: newRequestId(),
    startedAt,
    latencyMs: 2,
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    usage: { inputTokens: 12, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 11, reasoningTokens: 0, raw: rawUsage },
    gatewayKeyId: null,
    requestBody,
    upstreamRequestBody: requestBody,
    responseBody: {
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1760000000,
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! This is a benchmark reply from the fast upstream.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: rawUsage,
    },
    attemptsDetail: [{ provider: 'openai', model: 'gpt-4.1-mini', startedAt, endedAt: startedAt + 2, latencyMs: 2, httpStatus: 200, status: 'success', errorType: null, errorMessage: null }],
  });
}

const CONVERSATIONS = 50;
const TURNS = 8;
/** Turns made so far: chats go on from call to call (a bench's later rounds do not repeat its first). */
let turnsMade = 0;

/**
 * A turn of one of 50 interleaved chats that resend their history (up to 8 turns, then the
 * chat starts over under a new opening): a growing request, an answer never seen before. What
 * content addressing and the message cache meet in real use, unlike benchRecord's single
 * message and fixed answer. `npx tsx bench/request-writer.ts [records] [batch] --conversations`.
 */
export function benchConversationRecord(index: number): StoredRequestRecord {
  const made = turnsMade++;
  const chat = made % CONVERSATIONS;
  const round = Math.floor(made / CONVERSATIONS);
  const turn = round % TURNS;
  const session = `${chat}.${Math.floor(round / TURNS)}`;
  const messages: Array<{ role: string; content: string }> = [{ role: 'system', content: `You are assistant ${chat}. Answer briefly and precisely.` }];
  for (let earlier = 0; earlier <= turn; earlier += 1) {
    messages.push({ role: 'user', content: `Session ${session}, question ${earlier}: what should I check next in this code?` });
    if (earlier < turn) messages.push({ role: 'assistant', content: `Session ${session}, answer ${earlier}: look at the error handling of the writer first.` });
  }
  const record = benchRecord(index);
  const requestBody = { model: 'gpt-4.1-mini', messages };
  const responseBody = record.responseBody as { choices: Array<{ message: { content: string } }> };
  responseBody.choices[0]!.message.content = `Session ${session}, answer ${turn}: look at the error handling of the writer first.`;
  return { ...record, requestBody, upstreamRequestBody: { ...requestBody, model: 'gpt-4.1-mini-2025-04-14' } };
}

/** A coding agent's tool list (~20 tools with long descriptions and schemas, ~30 KB), the same in every request. */
const AGENT_TOOLS = Array.from({ length: 20 }, (_unused, tool) => ({
  name: `tool_${tool}`,
  description: `Tool ${tool} of the coding agent. ${'It reads, edits or runs things in the workspace, with care about paths and quoting. '.repeat(16)}`,
  input_schema: { type: 'object', properties: { path: { type: 'string', description: 'A path in the workspace.' }, text: { type: 'string', description: 'What to write.' }, limit: { type: ['integer', 'null'], default: null } }, required: ['path'] },
}));
const AGENT_SYSTEM = [{ type: 'text', text: `You are a coding agent working in a repository. ${'Follow the project conventions; keep changes small; run the tests. '.repeat(150)}`, cache_control: { type: 'ephemeral' } }];
const AGENT_SESSIONS = 10;
const AGENT_TURNS = 30;
let agentTurnsMade = 0;

/**
 * A turn of one of 10 interleaved coding-agent sessions (up to 30 turns, then the session starts
 * over), every other one Claude Code's shape (Anthropic Messages: system prompt, tool list, the
 * whole history with tool calls and ~1 KB tool results) and Codex's (Responses: the same tool
 * list, the whole history as `input` items, store: false): what an agent sends and resends.
 * `npx tsx bench/request-writer-ab.ts A B 500 10 --agent`.
 */
export function benchAgentRecord(index: number): StoredRequestRecord {
  const made = agentTurnsMade++;
  const sessionIndex = made % AGENT_SESSIONS;
  const round = Math.floor(made / AGENT_SESSIONS);
  const turn = round % AGENT_TURNS;
  const session = `${sessionIndex}.${Math.floor(round / AGENT_TURNS)}`;
  const result = (step: number) => `Session ${session}, step ${step}: ${'src/storage/file.ts:12: export function write(record) {} '.repeat(18)}`;
  const record = benchRecord(index);
  if (sessionIndex % 2 === 0) {
    const messages: unknown[] = [{ role: 'user', content: `Session ${session}: fix the failing test in the writer.` }];
    for (let step = 0; step < turn; step += 1) {
      messages.push({ role: 'assistant', content: [{ type: 'text', text: `Looking at step ${step}.` }, { type: 'tool_use', id: `toolu_${session}_${step}`, name: 'tool_1', input: { path: `src/file-${step}.ts` } }] });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${session}_${step}`, content: result(step) }] });
    }
    const requestBody = { model: 'claude-sonnet-4-5', max_tokens: 32000, system: AGENT_SYSTEM, tools: AGENT_TOOLS, messages, stream: true };
    return { ...record, endpoint: '/v1/messages', requestedModel: 'claude-sonnet-4-5', resolvedModel: 'claude-sonnet-4-5', provider: 'anthropic', requestBody, upstreamRequestBody: requestBody, responseBody: { id: `msg_${made}`, type: 'message', role: 'assistant', content: [{ type: 'text', text: `Step ${turn} done.` }], stop_reason: 'end_turn' } };
  }
  const input: unknown[] = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: `Session ${session}: fix the failing test in the writer.` }] }];
  for (let step = 0; step < turn; step += 1) {
    input.push({ type: 'function_call', name: 'tool_1', arguments: JSON.stringify({ path: `src/file-${step}.ts` }), call_id: `call_${session}_${step}` });
    input.push({ type: 'function_call_output', call_id: `call_${session}_${step}`, output: result(step) });
  }
  const requestBody = { model: 'gpt-5', instructions: AGENT_SYSTEM[0]!.text, input, tools: AGENT_TOOLS.map(({ input_schema, ...tool }) => ({ type: 'function', ...tool, parameters: input_schema })), store: false, stream: true };
  return { ...record, endpoint: '/v1/responses', requestedModel: 'gpt-5', resolvedModel: 'gpt-5', requestBody, upstreamRequestBody: requestBody, responseBody: { id: `resp_${made}`, object: 'response', status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `Step ${turn} done.`, annotations: [] }] }] } };
}
