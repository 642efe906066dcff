/**
 * The OpenAI fake's `POST /v1/responses` (the Responses API), JSON and SSE, used by
 * openai-fake.ts for the `openai` flavor. Checked with the official SDK's `responses.create`
 * and `responses.stream` (openai-fake-responses.test.ts).
 *
 * ── Scenario markers ── (in the text of the LAST user message of `input`)
 *   (none)        one message item: `Hello from openai! You said: <text>`, streamed in ~3-character deltas
 *   [tools]       (with a function tool) two function_call items of the first function tool,
 *                 arguments {"city":"Lisbon"} / {"city":"Porto"}, call ids call_1 / call_2
 *   [custom]      (with a custom tool) one custom_tool_call of the first custom tool, input CUSTOM_TOOL_INPUT, call id call_c1
 *   (tool turn)   the LAST input item is a function_call_output / custom_tool_call_output: one message
 *                 `Tool results: <outputs of the trailing output items joined by "; ">`
 *   [reasoning]   a reasoning item first: summary [summary_text `Let me think. The user said: <text>`] when
 *                 `reasoning.summary` is set (else []), `encrypted_content` when `include` has
 *                 `reasoning.encrypted_content`; its words count as reasoning tokens
 *   [error:429]   429 rate_limit_exceeded + retry-after: 1
 *   [error:500]   500 server_error
 *   [error:midstream] stream: created, in_progress, the first message events, then `response.failed`
 *                 (status failed, error server_error); non-stream: 500
 *   [error:context] as [error:midstream], the failure's code context_length_exceeded (what Codex
 *                 reads as "the conversation is too long", not as a retryable failure)
 *
 * Every input item is validated the way the API does (a reasoning item must carry an id and a
 * summary array; a function_call_output must name a call made earlier in the input; encrypted
 * reasoning must be one this fake issued), and `previous_response_id` must name a stored response
 * (`store` not false).
 *
 * ── Usage ── P = Σ over input items (countWords(text of the item) + 1) + countWords(instructions);
 *   C = countWords(reply) + 5 × calls; R = countWords(reasoning text) when [reasoning];
 *   input_tokens = P, cached_tokens = floor(P / 2) when prompt_cache_key is set, output_tokens = C + R,
 *   reasoning_tokens = R, total_tokens = P + C + R.
 */
import type http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

export const CUSTOM_TOOL_INPUT = '*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n';
export const ENCRYPTED_PREFIX = 'gAAAAfake';

type Json = Record<string, any>;

export class ResponsesHttpError extends Error {
  constructor(
    public status: number,
    message: string,
    public type = 'invalid_request_error',
    public param: string | null = null,
    public code: string | null = null,
    public headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const bad = (message: string, param: string | null = null, code: string | null = null) => new ResponsesHttpError(400, message, 'invalid_request_error', param, code);

function countWords(text: string | null | undefined): number {
  if (!text) return 0;
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

function hex(n: number): string {
  return randomBytes(n).toString('hex');
}

/** The text of one input item (its text parts, or a call's arguments/input, or an output). */
export function itemText(item: any): string {
  if (typeof item === 'string') return item;
  if (item?.type === 'function_call_output' || item?.type === 'custom_tool_call_output') return typeof item.output === 'string' ? item.output : '';
  if (item?.type === 'function_call') return '';
  if (item?.type === 'custom_tool_call') return '';
  if (item?.type === 'reasoning') return '';
  const content = item?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter((p: any) => typeof p?.text === 'string').map((p: any) => p.text).join(' ');
  return '';
}

export function inputItems(body: any): any[] {
  if (typeof body?.input === 'string') return [{ type: 'message', role: 'user', content: body.input }];
  return Array.isArray(body?.input) ? body.input : [];
}

export function promptTokensForResponses(body: any, items = inputItems(body)): number {
  return items.reduce((sum, item) => sum + countWords(itemText(item)) + 1, 0) + countWords(typeof body?.instructions === 'string' ? body.instructions : '');
}

function lastUserText(items: any[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if ((item?.type === 'message' || item?.type === undefined) && item?.role === 'user') return itemText(item);
  }
  return '';
}

const ITEM_TYPES = new Set(['message', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'reasoning', 'item_reference', 'web_search_call']);
const CONTENT_TYPES: Record<string, string[]> = {
  user: ['input_text', 'input_image', 'input_file'],
  system: ['input_text'],
  developer: ['input_text'],
  assistant: ['output_text', 'refusal', 'input_text'],
};

function validateItems(items: any[], issued: Set<string>): void {
  const calls = new Set<string>();
  items.forEach((item, i) => {
    const at = `input[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(`Invalid type for '${at}': expected an object.`, at, 'invalid_type');
    const type = item.type ?? (item.role ? 'message' : undefined);
    if (!ITEM_TYPES.has(type)) throw bad(`Invalid value: '${String(item.type)}'. Supported values are: ${[...ITEM_TYPES].map((t) => `'${t}'`).join(', ')}.`, `${at}.type`, 'invalid_value');
    switch (type) {
      case 'message': {
        const allowed = CONTENT_TYPES[item.role];
        if (!allowed) throw bad(`Invalid value: '${String(item.role)}'. Supported values are: 'user', 'assistant', 'system', and 'developer'.`, `${at}.role`, 'invalid_value');
        if (typeof item.content === 'string') break;
        if (!Array.isArray(item.content)) throw bad(`Invalid type for '${at}.content': expected one of a string or an array.`, `${at}.content`, 'invalid_type');
        item.content.forEach((part: any, j: number) => {
          if (!allowed.includes(part?.type)) throw bad(`Invalid value: '${String(part?.type)}'. Supported values are: ${allowed.map((t) => `'${t}'`).join(', ')}.`, `${at}.content[${j}].type`, 'invalid_value');
          if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text !== 'string') throw bad(`Missing required parameter: '${at}.content[${j}].text'.`, `${at}.content[${j}].text`, 'missing_required_parameter');
          if (part.type === 'input_image' && typeof part.image_url !== 'string' && typeof part.file_id !== 'string') throw bad(`Missing required parameter: '${at}.content[${j}].image_url'.`, `${at}.content[${j}].image_url`, 'missing_required_parameter');
        });
        break;
      }
      case 'function_call':
        for (const key of ['call_id', 'name', 'arguments']) if (typeof item[key] !== 'string') throw bad(`Missing required parameter: '${at}.${key}'.`, `${at}.${key}`, 'missing_required_parameter');
        calls.add(item.call_id);
        break;
      case 'custom_tool_call':
        for (const key of ['call_id', 'name', 'input']) if (typeof item[key] !== 'string') throw bad(`Missing required parameter: '${at}.${key}'.`, `${at}.${key}`, 'missing_required_parameter');
        calls.add(item.call_id);
        break;
      case 'function_call_output':
      case 'custom_tool_call_output':
        if (typeof item.call_id !== 'string') throw bad(`Missing required parameter: '${at}.call_id'.`, `${at}.call_id`, 'missing_required_parameter');
        if (item.output === undefined) throw bad(`Missing required parameter: '${at}.output'.`, `${at}.output`, 'missing_required_parameter');
        if (!calls.has(item.call_id)) throw bad(`No tool call found for function call output with call_id ${item.call_id}.`, 'input');
        break;
      case 'reasoning':
        if (typeof item.id !== 'string') throw bad(`Missing required parameter: '${at}.id'.`, `${at}.id`, 'missing_required_parameter');
        if (!Array.isArray(item.summary)) throw bad(`Missing required parameter: '${at}.summary'.`, `${at}.summary`, 'missing_required_parameter');
        if (item.encrypted_content != null && !issued.has(item.encrypted_content)) throw bad('The encrypted content for item ' + item.id + ' could not be verified.', null, 'invalid_encrypted_content');
        break;
    }
  });
}

function validateTools(tools: unknown): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools)) throw bad("Invalid type for 'tools': expected an array.", 'tools', 'invalid_type');
  tools.forEach((tool: any, i) => {
    if (typeof tool?.type !== 'string') throw bad(`Missing required parameter: 'tools[${i}].type'.`, `tools[${i}].type`, 'missing_required_parameter');
    if ((tool.type === 'function' || tool.type === 'custom') && typeof tool.name !== 'string') throw bad(`Missing required parameter: 'tools[${i}].name'.`, `tools[${i}].name`, 'missing_required_parameter');
    if (tool.type === 'function' && 'function' in tool) throw bad(`Unknown parameter: 'tools[${i}].function'.`, `tools[${i}].function`, 'unknown_parameter');
  });
}

const KNOWN = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'text', 'max_output_tokens', 'stream', 'store', 'include',
  'prompt_cache_key', 'metadata', 'previous_response_id', 'temperature', 'top_p', 'user', 'safety_identifier', 'truncation', 'service_tier', 'background',
  'client_metadata', 'max_tool_calls', 'top_logprobs', 'stream_options', 'prompt', 'conversation', 'prompt_cache_retention',
]);

export interface ResponsesState {
  models: string[];
  stored: Map<string, { items: any[]; response: Json }>;
  issued: Set<string>;
}

function validate(body: any, state: ResponsesState): any[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('Invalid type for body: expected an object.', null, 'invalid_type');
  for (const key of Object.keys(body)) if (!KNOWN.has(key)) throw bad(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
  if (typeof body.model !== 'string') throw bad("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) throw bad("Invalid type for 'input': expected one of a string or an array.", 'input', 'invalid_type');
  if (body.max_output_tokens != null && (!Number.isInteger(body.max_output_tokens) || body.max_output_tokens < 16)) {
    throw bad(`Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got ${String(body.max_output_tokens)} instead.`, 'max_output_tokens', 'integer_below_min_value');
  }
  if (body.include !== undefined && (!Array.isArray(body.include) || body.include.some((v: unknown) => typeof v !== 'string'))) throw bad("Invalid type for 'include': expected an array of strings.", 'include', 'invalid_type');
  validateTools(body.tools);
  let previous: any[] = [];
  if (body.previous_response_id != null) {
    const stored = state.stored.get(body.previous_response_id);
    if (!stored) throw bad(`Previous response with id '${String(body.previous_response_id)}' not found.`, 'previous_response_id', 'previous_response_not_found');
    previous = stored.items;
  }
  const items = [...previous, ...inputItems(body)];
  validateItems(items, state.issued);
  if (!state.models.includes(body.model)) throw new ResponsesHttpError(400, `The requested model '${body.model}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
  return items;
}

interface Plan {
  scenario: 'text' | 'tools' | 'custom' | 'tool_result' | 'error429' | 'error500' | 'midstream';
  output: Json[];
  usage: Json;
}

function plan(body: any, items: any[], state: ResponsesState): Plan {
  const userText = lastUserText(items);
  const has = (marker: string) => userText.includes(marker);
  const last = items[items.length - 1];
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  const functionTool = tools.find((t) => t.type === 'function');
  const customTool = tools.find((t) => t.type === 'custom');
  let scenario: Plan['scenario'] = 'text';
  if (has('[error:429]')) scenario = 'error429';
  else if (has('[error:500]')) scenario = 'error500';
  else if (has('[error:midstream]') || has('[error:context]')) scenario = 'midstream';
  else if (last?.type === 'function_call_output' || last?.type === 'custom_tool_call_output') scenario = 'tool_result';
  else if (has('[custom]') && customTool) scenario = 'custom';
  else if (has('[tools]') && functionTool) scenario = 'tools';

  const output: Json[] = [];
  let reasoningWords = 0;
  if (has('[reasoning]')) {
    const text = `Let me think. The user said: ${userText}`;
    reasoningWords = countWords(text);
    const item: Json = { id: `rs_${hex(24)}`, type: 'reasoning', summary: body.reasoning?.summary ? [{ type: 'summary_text', text }] : [] };
    if (Array.isArray(body.include) && body.include.includes('reasoning.encrypted_content')) {
      item.encrypted_content = `${ENCRYPTED_PREFIX}${createHash('sha256').update(text).digest('base64url')}`;
      state.issued.add(item.encrypted_content);
    }
    output.push(item);
  }
  let replyWords = 0;
  const message = (text: string) => {
    replyWords += countWords(text);
    output.push({ id: `msg_${hex(24)}`, type: 'message', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [], text }], role: 'assistant' });
  };
  if (scenario === 'tools') {
    ['{"city":"Lisbon"}', '{"city":"Porto"}'].forEach((args, i) => {
      replyWords += 5;
      output.push({ id: `fc_${hex(24)}`, type: 'function_call', status: 'completed', arguments: args, call_id: `call_${i + 1}`, name: functionTool.name });
    });
  } else if (scenario === 'custom') {
    replyWords += 5;
    output.push({ id: `ctc_${hex(24)}`, type: 'custom_tool_call', status: 'completed', call_id: 'call_c1', input: CUSTOM_TOOL_INPUT, name: customTool.name });
  } else if (scenario === 'tool_result') {
    const trailing: string[] = [];
    for (let i = items.length - 1; i >= 0 && (items[i]?.type === 'function_call_output' || items[i]?.type === 'custom_tool_call_output'); i--) trailing.unshift(itemText(items[i]));
    message(`Tool results: ${trailing.join('; ')}`);
  } else {
    message(`Hello from openai! You said: ${userText}`);
  }
  const P = promptTokensForResponses(body, items);
  const cached = typeof body.prompt_cache_key === 'string' && body.prompt_cache_key !== '' ? Math.floor(P / 2) : 0;
  const usage = {
    input_tokens: P,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: replyWords + reasoningWords,
    output_tokens_details: { reasoning_tokens: reasoningWords },
    total_tokens: P + replyWords + reasoningWords,
  };
  return { scenario, output, usage };
}

function responseObject(body: any, id: string, createdAt: number, status: string, output: Json[], usage: Json | null): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model: `${body.model}-2025-04-14`,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    safety_identifier: null,
    service_tier: 'default',
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: body.metadata ?? {},
  };
}

function pieces(text: string, size = 3): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

/** The SSE events (type + payload, before sequence numbers) that stream one output item. */
function itemEvents(item: Json, outputIndex: number): Json[] {
  const events: Json[] = [];
  const base = { output_index: outputIndex };
  switch (item.type) {
    case 'message': {
      const text: string = item.content[0].text;
      events.push({ type: 'response.output_item.added', ...base, item: { id: item.id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
      events.push({ type: 'response.content_part.added', item_id: item.id, ...base, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
      for (const delta of pieces(text)) events.push({ type: 'response.output_text.delta', item_id: item.id, ...base, content_index: 0, delta, logprobs: [] });
      events.push({ type: 'response.output_text.done', item_id: item.id, ...base, content_index: 0, text, logprobs: [] });
      events.push({ type: 'response.content_part.done', item_id: item.id, ...base, content_index: 0, part: item.content[0] });
      break;
    }
    case 'function_call':
      events.push({ type: 'response.output_item.added', ...base, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of pieces(item.arguments, 5)) events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, ...base, delta });
      events.push({ type: 'response.function_call_arguments.done', item_id: item.id, ...base, arguments: item.arguments });
      break;
    case 'custom_tool_call':
      events.push({ type: 'response.output_item.added', ...base, item: { ...item, status: 'in_progress', input: '' } });
      for (const delta of pieces(item.input, 8)) events.push({ type: 'response.custom_tool_call_input.delta', item_id: item.id, ...base, delta });
      events.push({ type: 'response.custom_tool_call_input.done', item_id: item.id, ...base, input: item.input });
      break;
    case 'reasoning': {
      const added: Json = { id: item.id, type: 'reasoning', summary: [] };
      if (item.encrypted_content) added.encrypted_content = item.encrypted_content;
      events.push({ type: 'response.output_item.added', ...base, item: added });
      item.summary.forEach((part: Json, summaryIndex: number) => {
        const where = { item_id: item.id, ...base, summary_index: summaryIndex };
        events.push({ type: 'response.reasoning_summary_part.added', ...where, part: { type: 'summary_text', text: '' } });
        for (const delta of pieces(part.text, 6)) events.push({ type: 'response.reasoning_summary_text.delta', ...where, delta });
        events.push({ type: 'response.reasoning_summary_text.done', ...where, text: part.text });
        events.push({ type: 'response.reasoning_summary_part.done', ...where, part });
      });
      break;
    }
  }
  events.push({ type: 'response.output_item.done', ...base, item });
  return events;
}

/** Handles one POST /v1/responses; throws ResponsesHttpError for the caller to send in OpenAI's error shape. */
export async function handleResponses(
  res: http.ServerResponse,
  body: any,
  state: ResponsesState,
  io: { sendJson: (res: http.ServerResponse, status: number, payload: unknown) => void; headers: () => Record<string, string>; rawStreams: string[] },
): Promise<void> {
  const items = validate(body, state);
  const p = plan(body, items, state);
  const stream = body.stream === true;
  if (p.scenario === 'error429') throw new ResponsesHttpError(429, `Rate limit reached for ${body.model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 900. Please try again in 1s.`, 'tokens', null, 'rate_limit_exceeded', { 'retry-after': '1' });
  if (p.scenario === 'error500' || (p.scenario === 'midstream' && !stream)) throw new ResponsesHttpError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
  const id = `resp_${hex(24)}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const done = responseObject(body, id, createdAt, 'completed', p.output, p.usage);
  if (body.store !== false) state.stored.set(id, { items: [...items, ...p.output], response: done });
  if (!stream) {
    io.sendJson(res, 200, done);
    return;
  }
  res.writeHead(200, { ...io.headers(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let sequence = 0;
  let raw = '';
  const write = async (event: Json) => {
    const text = `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence++ })}\n\n`;
    raw += text;
    // Every 4th event is split across two writes, to exercise decoders.
    if (sequence % 4 === 2) {
      const cut = Math.floor(text.length / 2);
      res.write(text.slice(0, cut));
      await new Promise<void>((r) => setImmediate(r));
      res.write(text.slice(cut));
    } else res.write(text);
  };
  const pending = responseObject(body, id, createdAt, 'in_progress', [], null);
  await write({ type: 'response.created', response: pending });
  await write({ type: 'response.in_progress', response: pending });
  if (p.scenario === 'midstream') {
    const events = itemEvents(p.output[p.output.length - 1]!, 0).slice(0, 3);
    for (const event of events) await write(event);
    const error = lastUserText(items).includes('[error:context]')
      ? { code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model. Please adjust your input and try again.' }
      : { code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' };
    const failed = { ...responseObject(body, id, createdAt, 'failed', [], null), error };
    await write({ type: 'response.failed', response: failed });
    io.rawStreams.push(raw);
    res.end();
    return;
  }
  for (const [index, item] of p.output.entries()) for (const event of itemEvents(item, index)) await write(event);
  await write({ type: 'response.completed', response: done });
  io.rawStreams.push(raw);
  res.end();
}

/** GET /v1/responses/{id}: a stored response. */
export function storedResponse(state: ResponsesState, id: string): Json {
  const stored = state.stored.get(id);
  if (!stored) throw new ResponsesHttpError(404, `Response with id '${id}' not found.`, 'invalid_request_error', null, null);
  return stored.response;
}
