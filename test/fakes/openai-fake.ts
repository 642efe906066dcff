/**
 * OpenAI-compatible provider fakes for the gateway's tests.
 *
 * `startOpenAIFake({ flavor })` starts a real HTTP server (node:http) on 127.0.0.1:0 that speaks the wire
 * format of OpenAI, xAI, Ollama (`/v1`) or LM Studio (`/v1`), as described in
 * shared/reference/provider-wire-formats.md sections 0, 1, 4 and 5, and validates requests about as strictly
 * as the real APIs do.
 *
 * Endpoints: POST /v1/chat/completions (JSON + SSE), GET /v1/models, GET /v1/models/{id}, POST /v1/embeddings;
 * the openai flavor also POST /v1/responses (JSON + SSE) and GET /v1/responses/{id} (openai-fake-responses.ts).
 * Anything else is a 404 in the flavor's error shape.
 *
 * ── Scenario markers ── (looked for in the text of the LAST user message)
 *   (none)            text reply `Hello from <flavor>! You said: <text>`; streamed in ~3-character pieces
 *   [tools]           (with `tools` in the request) two parallel calls of the first tool:
 *                     {"city":"Lisbon"} and {"city":"Porto"}, finish_reason `tool_calls`.
 *                     ids `call_1`/`call_2` (ollama: random `call_xxxxxxxx`, arguments whole in one delta per call)
 *   (tool turn)       when the LAST message has role `tool`: text reply
 *                     `Tool results: <contents of the trailing tool messages joined by "; ">` (overrides [tools])
 *   [reasoning]       adds reasoning: xai `reasoning_content`, ollama/lmstudio `reasoning`,
 *                     openai no text but `reasoning_tokens` in usage. Reasoning text is
 *                     `Let me think. The user said: <text>` (see `reasoningTextFor`).
 *   [length]          finish_reason `length`
 *   [refusal]         openai only: `refusal` string (REFUSAL_TEXT), content null
 *   [error:429]       429 + `retry-after: 1` + the flavor's error body
 *   [error:500]       500 server error
 *   [error:midstream] stream: first chunks, then an error frame, then the connection closes (no [DONE]);
 *                     non-stream: 500
 *   [drop]            stream: a couple of chunks, then the socket is destroyed (no finish, no [DONE])
 *   [slow]            stream: one "." content chunk every 20 ms for up to 10 s, then a normal finish
 *                     (non-stream: an ordinary immediate reply)
 *   [hang]            never respond (until the client goes away or the fake is closed)
 *
 * A client going away before a streaming response (or a `[hang]` request with `stream: true`) finished
 * counts in `abortedStreams`; `waitForAbort()` resolves once per such abort (queue semantics: an abort that
 * happened before the call is not lost).
 *
 * ── Usage formula ── (deterministic; `fakeUsageFor(flavor, body)` returns exactly what the fake reports)
 *   P (prompt_tokens)   = Σ over messages of (countWords(text of the message) + 1)
 *                         text of a message = string content, or its `text` parts joined by " " (other parts,
 *                         tool_calls and null content count 0 words)
 *   C (reply)           = countWords(reply text or refusal text) + 5 × number of tool calls
 *   R (reasoning)       = countWords(reasoning text) when [reasoning], else 0
 *   openai:   completion_tokens = C + R, completion_tokens_details.reasoning_tokens = R, total = P + C + R
 *   xai:      completion_tokens = C (reasoning EXCLUDED), reasoning_tokens = R, total = P + C + R
 *   ollama:   completion_tokens = C + R, total = P + C + R (only the three basic fields)
 *   lmstudio: completion_tokens = C + R, total = P + C + R (only the three basic fields)
 *   openai/xai: prompt_tokens_details.cached_tokens = floor(P / 2) when `prompt_cache_key` is set, else 0.
 *   Embeddings: prompt_tokens = total_tokens = Σ countWords(string input) (token-array inputs: their length).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { handleResponses, ResponsesHttpError, storedResponse, type ResponsesState } from './openai-fake-responses.js';

export type OpenAIFlavor = 'openai' | 'xai' | 'ollama' | 'lmstudio';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON or undefined */
  body: any;
}

export interface OpenAIFake {
  /** Base URL including /v1, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  flavor: OpenAIFlavor;
  /** every request received, in order */
  requests: RecordedRequest[];
  /** Number of streaming responses whose client went away before the stream finished. */
  abortedStreams: number;
  /** The raw SSE text of every finished /v1/responses stream, in order. */
  responsesStreams: string[];
  /** Resolves when the next streaming response is aborted by its client (for abort tests). */
  waitForAbort(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenAIFakeOptions {
  /** default 'openai' */
  flavor?: OpenAIFlavor;
  /** when set, requests must carry it (openai/xai only; ollama and lmstudio ignore auth) */
  apiKey?: string;
  /** override model list */
  models?: string[];
}

export const DEFAULT_MODELS: Record<OpenAIFlavor, string[]> = {
  openai: ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o-mini', 'o3', 'o4-mini', 'text-embedding-3-small'],
  xai: ['grok-3', 'grok-3-mini', 'grok-4'],
  ollama: ['llama3.2:latest', 'qwen3:8b', 'nomic-embed-text:latest'],
  lmstudio: ['qwen2.5-7b-instruct', 'text-embedding-nomic-embed-text-v1.5'],
};

export const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";
export const MIDSTREAM_ERROR_MESSAGE = 'The server had an error while processing your request.';
export const TOOL_ARGUMENTS = ['{"city":"Lisbon"}', '{"city":"Porto"}'] as const;

// ───────────────────────────── pure helpers (exported for gateway tests) ─────────────────────────────

/** Number of whitespace-separated words. */
export function countWords(text: string | null | undefined): number {
  if (!text) return 0;
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/** Text of a message's content: a string, or its `text` parts joined by a space. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .filter((p): p is { type: 'text'; text: string } => !!p && typeof p === 'object' && p.type === 'text' && typeof p.text === 'string')
      .map((p) => p.text)
      .join(' ');
  }
  return '';
}

/** prompt_tokens as reported by the fake: Σ (words + 1) over messages. */
export function promptTokensFor(messages: unknown[]): number {
  let n = 0;
  for (const m of messages) n += countWords(messageText((m as any)?.content)) + 1;
  return n;
}

export function defaultReplyFor(flavor: OpenAIFlavor, userText: string): string {
  return `Hello from ${flavor}! You said: ${userText}`;
}

export function reasoningTextFor(userText: string): string {
  return `Let me think. The user said: ${userText}`;
}

export type Scenario =
  | 'text'
  | 'tools'
  | 'tool_result'
  | 'refusal'
  | 'error429'
  | 'error500'
  | 'midstream'
  | 'drop'
  | 'slow'
  | 'hang';

export interface ChatPlan {
  scenario: Scenario;
  userText: string;
  /** final answer text ('' for tool calls; refusal text for refusals) */
  replyText: string;
  reasoningText: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: Record<string, any>;
}

function lastUserText(messages: any[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i].content);
  }
  return '';
}

function ollamaCallId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(8);
  let s = 'call_';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/** Decide what the fake will answer to a (valid) chat request. */
export function planChat(flavor: OpenAIFlavor, body: any): ChatPlan {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const userText = lastUserText(messages);
  const has = (marker: string) => userText.includes(marker);
  const last = messages[messages.length - 1];

  let scenario: Scenario = 'text';
  if (has('[hang]')) scenario = 'hang';
  else if (has('[error:429]')) scenario = 'error429';
  else if (has('[error:500]')) scenario = 'error500';
  else if (has('[error:midstream]')) scenario = 'midstream';
  else if (has('[drop]')) scenario = 'drop';
  else if (has('[slow]')) scenario = 'slow';
  else if (last?.role === 'tool') scenario = 'tool_result';
  else if (has('[tools]') && Array.isArray(body?.tools) && body.tools.length > 0) scenario = 'tools';
  else if (has('[refusal]') && flavor === 'openai') scenario = 'refusal';

  let replyText = defaultReplyFor(flavor, userText);
  const toolCalls: ChatPlan['toolCalls'] = [];
  if (scenario === 'tool_result') {
    const trailing: string[] = [];
    for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) trailing.unshift(messageText(messages[i].content));
    replyText = `Tool results: ${trailing.join('; ')}`;
  } else if (scenario === 'tools') {
    const tool = body.tools[0];
    const name: string = tool?.function?.name ?? tool?.custom?.name ?? 'tool';
    replyText = '';
    TOOL_ARGUMENTS.forEach((args, i) => {
      toolCalls.push({ id: flavor === 'ollama' ? ollamaCallId() : `call_${i + 1}`, name, arguments: args });
    });
  } else if (scenario === 'refusal') {
    replyText = REFUSAL_TEXT;
  } else if (scenario === 'slow') {
    replyText = '';
  }
  const reasoningText = has('[reasoning]') ? reasoningTextFor(userText) : '';
  const finishReason: ChatPlan['finishReason'] = toolCalls.length > 0 ? 'tool_calls' : has('[length]') ? 'length' : 'stop';

  const P = promptTokensFor(messages);
  const C = countWords(replyText) + 5 * toolCalls.length;
  const R = countWords(reasoningText);
  const cached = body?.prompt_cache_key != null && body.prompt_cache_key !== '' ? Math.floor(P / 2) : 0;
  const usage = usageObject(flavor, P, C, R, cached);
  return { scenario, userText, replyText, reasoningText, toolCalls, finishReason, usage };
}

function usageObject(flavor: OpenAIFlavor, P: number, C: number, R: number, cached: number): Record<string, any> {
  switch (flavor) {
    case 'openai':
      return {
        prompt_tokens: P,
        completion_tokens: C + R,
        total_tokens: P + C + R,
        prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: R, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      };
    case 'xai':
      return {
        prompt_tokens: P,
        completion_tokens: C,
        total_tokens: P + C + R,
        prompt_tokens_details: { text_tokens: P, audio_tokens: 0, image_tokens: 0, cached_tokens: cached },
        completion_tokens_details: { reasoning_tokens: R, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        num_sources_used: 0,
      };
    case 'ollama':
    case 'lmstudio':
      return { prompt_tokens: P, completion_tokens: C + R, total_tokens: P + C + R };
  }
}

/** The exact `usage` object the fake reports for this chat request (non-stream, or the stream's usage chunk). */
export function fakeUsageFor(flavor: OpenAIFlavor, body: any): Record<string, any> {
  return planChat(flavor, body).usage;
}

/** Deterministic embedding: value i = ((charCodeSum * (i+1)) % 1000) / 1000, as float32. */
export function fakeEmbedding(input: string | number[], dimensions = 8): number[] {
  let sum = 0;
  if (typeof input === 'string') {
    for (let i = 0; i < input.length; i++) sum += input.charCodeAt(i);
  } else {
    for (const n of input) sum += n;
  }
  const out: number[] = [];
  for (let i = 0; i < dimensions; i++) out.push(Math.fround(((sum * (i + 1)) % 1000) / 1000));
  return out;
}

/** base64 of the little-endian float32 bytes, as OpenAI returns for encoding_format "base64". */
export function embeddingToBase64(vec: number[]): string {
  const buf = Buffer.alloc(vec.length * 4);
  vec.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

// ───────────────────────────── errors ─────────────────────────────

const XAI_CODES: Record<number, string> = {
  400: 'Client specified an invalid argument',
  401: 'The request does not have valid authentication credentials for the operation',
  403: 'The caller does not have permission to execute the specified operation',
  404: 'Some requested entity was not found',
  429: 'Some resource has been exhausted',
  500: 'Internal error',
};

class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
    public type: string = 'invalid_request_error',
    public param: string | null = null,
    public code: string | null = null,
    public headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function errorBody(flavor: OpenAIFlavor, e: HttpError): unknown {
  if (flavor === 'xai') return { code: XAI_CODES[e.status] ?? 'Unknown error', error: e.message };
  if (flavor === 'ollama') {
    // ollama openai/openai.go NewError: type by status, param/code always null
    const type = e.status === 400 ? 'invalid_request_error' : e.status === 404 ? 'not_found_error' : 'api_error';
    return { error: { message: e.message, type, param: null, code: null } };
  }
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

const bad = (message: string, param: string | null = null, code: string | null = null) =>
  new HttpError(400, message, 'invalid_request_error', param, code);

function maskKey(key: string): string {
  if (key.length <= 4) return '***';
  return `${key.slice(0, 2)}***${key.slice(-2)}`;
}

// ───────────────────────────── request validation ─────────────────────────────

const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return 'a boolean';
  return `a ${typeof v}`;
}

function isXaiReasoningModel(model: string): boolean {
  if (model.includes('non-reasoning')) return false;
  return model.startsWith('grok-3-mini') || model.includes('reasoning') || model === 'grok-4' || /^grok-4-\d/.test(model);
}

function validateChat(flavor: OpenAIFlavor, body: any, models: string[]): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad(`Invalid type for body: expected an object, but got ${typeName(body)} instead.`, null, 'invalid_type');
  }
  if (body.model === undefined) throw bad('you must provide a model parameter');
  if (typeof body.model !== 'string') {
    throw bad(`Invalid type for 'model': expected a string, but got ${typeName(body.model)} instead.`, 'model', 'invalid_type');
  }
  const msgs = body.messages;
  if (msgs === undefined) throw bad("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(msgs)) {
    throw bad(`Invalid type for 'messages': expected an array of objects, but got ${typeName(msgs)} instead.`, 'messages', 'invalid_type');
  }
  if (msgs.length === 0) {
    throw bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }

  // Per-message checks and tool-call sequencing.
  let answerable: Set<string> | null = null; // ids of the latest assistant tool_calls still in scope
  let pending: { index: number; ids: Set<string> } | null = null;
  const missingResponses = () => {
    if (pending && pending.ids.size > 0) {
      throw bad(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending.ids].join(', ')}`,
        `messages.[${pending.index}].role`,
      );
    }
  };
  msgs.forEach((m: any, i: number) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw bad(`Invalid type for 'messages[${i}]': expected an object, but got ${typeName(m)} instead.`, `messages[${i}]`, 'invalid_type');
    }
    if (!ROLES.includes(m.role)) {
      throw bad(
        `Invalid value: '${String(m.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `messages[${i}].role`,
        'invalid_value',
      );
    }
    const hasToolCalls = m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
    const content = m.content;
    const contentOk = typeof content === 'string' || Array.isArray(content) || ((content === null || content === undefined) && m.role === 'assistant' && (hasToolCalls || m.function_call != null || m.refusal != null || m.audio != null));
    if (!contentOk) {
      if (content === undefined) {
        throw bad(`Missing required parameter: 'messages[${i}].content'.`, `messages[${i}].content`, 'missing_required_parameter');
      }
      throw bad(`Invalid type for 'messages[${i}].content': expected one of a string or array of objects, but got ${typeName(content)} instead.`, `messages[${i}].content`, 'invalid_type');
    }
    switch (m.role) {
      case 'assistant': {
        missingResponses();
        if (m.tool_calls !== undefined && !Array.isArray(m.tool_calls)) {
          throw bad(`Invalid type for 'messages[${i}].tool_calls': expected an array of objects, but got ${typeName(m.tool_calls)} instead.`, `messages[${i}].tool_calls`, 'invalid_type');
        }
        if (hasToolCalls) {
          const ids = new Set<string>();
          m.tool_calls.forEach((tc: any, j: number) => {
            if (typeof tc?.id !== 'string') throw bad(`Missing required parameter: 'messages[${i}].tool_calls[${j}].id'.`, `messages[${i}].tool_calls[${j}].id`, 'missing_required_parameter');
            if (typeof tc?.function?.name !== 'string') throw bad(`Missing required parameter: 'messages[${i}].tool_calls[${j}].function.name'.`, `messages[${i}].tool_calls[${j}].function.name`, 'missing_required_parameter');
            if (typeof tc?.function?.arguments !== 'string') throw bad(`Missing required parameter: 'messages[${i}].tool_calls[${j}].function.arguments'.`, `messages[${i}].tool_calls[${j}].function.arguments`, 'missing_required_parameter');
            ids.add(tc.id);
          });
          answerable = new Set(ids);
          pending = { index: i, ids };
        } else {
          answerable = null;
          pending = null;
        }
        break;
      }
      case 'tool': {
        if (typeof m.tool_call_id !== 'string') {
          throw bad(`Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.`, `messages.[${i}].tool_call_id`);
        }
        if (!answerable) {
          throw bad("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", `messages.[${i}].role`);
        }
        if (!answerable.has(m.tool_call_id)) {
          throw bad(`Invalid parameter: 'tool_call_id' of '${m.tool_call_id}' not found in 'tool_calls' of previous message.`, `messages.[${i}].tool_call_id`);
        }
        pending?.ids.delete(m.tool_call_id);
        break;
      }
      case 'user':
        missingResponses();
        answerable = null;
        pending = null;
        break;
      default:
        break;
    }
  });
  missingResponses();

  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    throw bad(`Invalid type for 'stream': expected a boolean, but got ${typeName(body.stream)} instead.`, 'stream', 'invalid_type');
  }
  if (body.stream_options != null && body.stream !== true) {
    throw bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  if (body.tools !== undefined && !Array.isArray(body.tools)) {
    throw bad(`Invalid type for 'tools': expected an array of objects, but got ${typeName(body.tools)} instead.`, 'tools', 'invalid_type');
  }

  if (flavor === 'openai' && /^o\d/.test(body.model) && body.max_tokens != null) {
    throw bad("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter');
  }
  if (flavor === 'xai') {
    if (isXaiReasoningModel(body.model)) {
      // Real message seen in the wild: {"code":"Client specified an invalid argument","error":"Argument not supported on this model: presencePenalty"}
      for (const [field, camel] of [
        ['presence_penalty', 'presencePenalty'],
        ['frequency_penalty', 'frequencyPenalty'],
        ['stop', 'stop'],
      ] as const) {
        if (body[field] != null) throw bad(`Argument not supported on this model: ${camel}`, field);
      }
    }
    if (body.reasoning_effort != null) {
      if (!body.model.startsWith('grok-3-mini')) throw bad(`Argument not supported on this model: reasoningEffort`, 'reasoning_effort');
      if (body.reasoning_effort !== 'low' && body.reasoning_effort !== 'high') {
        throw bad(`Invalid reasoning effort '${String(body.reasoning_effort)}'. Supported values are: low, high.`, 'reasoning_effort');
      }
    }
  }
  // ollama: tool_choice, logit_bias, user, n are not supported and silently ignored (not rejected).

  if (!models.includes(body.model)) throw modelNotFound(flavor, body.model);
}

function modelNotFound(flavor: OpenAIFlavor, model: string): HttpError {
  switch (flavor) {
    case 'openai':
      return new HttpError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
    case 'xai':
      return new HttpError(404, `The model ${model} does not exist or your team does not have access to it. Please ensure you're using the correct API key. If you believe this is an error, contact support@x.ai.`);
    case 'ollama':
      return new HttpError(404, `model "${model}" not found, try pulling it first`, 'not_found_error');
    case 'lmstudio':
      return new HttpError(404, `Model "${model}" not found. Please load the model or check the model identifier.`, 'invalid_request_error', 'model', 'model_not_found');
  }
}

function rateLimited(flavor: OpenAIFlavor, model: string): HttpError {
  const headers = { 'retry-after': '1', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1s' };
  if (flavor === 'xai') {
    return new HttpError(429, `Your team has exceeded the rate limit for ${model}. Please retry after 1s.`, 'rate_limit', null, null, headers);
  }
  if (flavor === 'ollama') {
    return new HttpError(429, 'server busy, please try again.  maximum pending requests exceeded', 'api_error', null, null, headers);
  }
  return new HttpError(
    429,
    `Rate limit reached for ${model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 900. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    'tokens',
    null,
    'rate_limit_exceeded',
    headers,
  );
}

function serverError(flavor: OpenAIFlavor): HttpError {
  const msg =
    flavor === 'openai' || flavor === 'lmstudio'
      ? 'The server had an error while processing your request. Sorry about that!'
      : 'The service encountered an internal error.';
  return new HttpError(500, msg, 'server_error');
}

// ───────────────────────────── SSE writer ─────────────────────────────

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setImmediate(r));

class SseWriter {
  private n = 0;
  constructor(
    private res: http.ServerResponse,
    private flavor: OpenAIFlavor,
  ) {}

  get alive(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  /**
   * Writes one `data:` frame. To exercise client decoders: lmstudio uses `\r\n` line endings everywhere,
   * other flavors use `\r\n\r\n` on every 4th frame; every 3rd frame is split across two `res.write` calls
   * (byte-wise in the middle, which may cut a UTF-8 sequence; for lmstudio between the final `\r` and `\n`).
   */
  async frame(payload: unknown): Promise<boolean> {
    if (!this.alive) return false;
    const i = this.n++;
    const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const eol = this.flavor === 'lmstudio' || i % 4 === 3 ? '\r\n' : '\n';
    const bytes = Buffer.from(`data: ${data}${eol}${eol}`, 'utf8');
    if (i % 3 === 1) {
      const cut = this.flavor === 'lmstudio' ? bytes.length - 1 : Math.floor(bytes.length / 2);
      this.res.write(bytes.subarray(0, cut));
      await sleep(2);
      if (!this.alive) return false;
      this.res.write(bytes.subarray(cut));
    } else {
      this.res.write(bytes);
    }
    await tick();
    return this.alive;
  }
}

function splitPieces(text: string, size = 3): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

function randomAlnum(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

function completionId(flavor: OpenAIFlavor): string {
  switch (flavor) {
    case 'openai':
      return `chatcmpl-${randomAlnum(29)}`;
    case 'xai':
      return randomUUID();
    case 'ollama':
      return `chatcmpl-${Math.floor(Math.random() * 999)}`;
    case 'lmstudio':
      return `chatcmpl-${randomAlnum(26).toLowerCase()}`;
  }
}

// ───────────────────────────── chat responses ─────────────────────────────

interface ChatCtx {
  flavor: OpenAIFlavor;
  body: any;
  plan: ChatPlan;
  id: string;
  created: number;
  fingerprint: string;
}

function nonStreamBody(ctx: ChatCtx): unknown {
  const { flavor, body, plan } = ctx;
  const hasTools = plan.toolCalls.length > 0;
  const toolCalls = plan.toolCalls.map((tc, i) => ({
    id: tc.id,
    ...(flavor === 'ollama' ? { index: i } : {}),
    type: 'function',
    function: { name: tc.name, arguments: tc.arguments },
  }));
  switch (flavor) {
    case 'openai': {
      const isRefusal = plan.scenario === 'refusal';
      const message: Record<string, unknown> = {
        role: 'assistant',
        content: hasTools || isRefusal ? null : plan.replyText,
        refusal: isRefusal ? plan.replyText : null,
        annotations: [],
      };
      if (hasTools) message.tool_calls = toolCalls;
      return {
        id: ctx.id,
        object: 'chat.completion',
        created: ctx.created,
        model: body.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
        usage: plan.usage,
        service_tier: 'default',
        system_fingerprint: ctx.fingerprint,
      };
    }
    case 'xai': {
      const message: Record<string, unknown> = { role: 'assistant', content: hasTools ? null : plan.replyText };
      if (plan.reasoningText) message.reasoning_content = plan.reasoningText;
      if (hasTools) message.tool_calls = toolCalls;
      message.refusal = null;
      return {
        id: ctx.id,
        object: 'chat.completion',
        created: ctx.created,
        model: body.model,
        choices: [{ index: 0, message, finish_reason: plan.finishReason }],
        usage: plan.usage,
        system_fingerprint: ctx.fingerprint,
      };
    }
    case 'ollama': {
      const message: Record<string, unknown> = { role: 'assistant', content: plan.replyText };
      if (plan.reasoningText) message.reasoning = plan.reasoningText;
      if (hasTools) message.tool_calls = toolCalls;
      return {
        id: ctx.id,
        object: 'chat.completion',
        created: ctx.created,
        model: body.model,
        system_fingerprint: 'fp_ollama',
        choices: [{ index: 0, message, finish_reason: plan.finishReason }],
        usage: plan.usage,
      };
    }
    case 'lmstudio': {
      const message: Record<string, unknown> = { role: 'assistant', content: plan.replyText };
      if (plan.reasoningText) message.reasoning = plan.reasoningText;
      message.tool_calls = toolCalls;
      return {
        id: ctx.id,
        object: 'chat.completion',
        created: ctx.created,
        model: body.model,
        choices: [{ index: 0, logprobs: null, finish_reason: plan.finishReason, message }],
        usage: plan.usage,
        stats: {},
        system_fingerprint: body.model,
      };
    }
  }
}

/** A semantic delta; turned into the flavor's chunk shape by `chunkFor`. */
type Delta = Record<string, unknown>;

/** The sequence of deltas (without the finish chunk) for a streamed answer. */
function streamDeltas(ctx: ChatCtx): Delta[] {
  const { flavor, plan } = ctx;
  const reasoningField = flavor === 'xai' ? 'reasoning_content' : 'reasoning';
  const deltas: Delta[] = [];
  const reasoningPieces = flavor === 'openai' ? [] : splitPieces(plan.reasoningText);
  const contentPieces = splitPieces(plan.replyText);

  if (flavor === 'openai') {
    if (plan.toolCalls.length > 0) {
      // exactly like reference §1.4: role + first call header, split arguments, second call header, whole arguments
      const [a, b] = plan.toolCalls as [ChatPlan['toolCalls'][0], ChatPlan['toolCalls'][0]];
      deltas.push({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: a.id, type: 'function', function: { name: a.name, arguments: '' } }] });
      const cut = a.arguments.indexOf(':') + 1;
      deltas.push({ tool_calls: [{ index: 0, function: { arguments: a.arguments.slice(0, cut) } }] });
      deltas.push({ tool_calls: [{ index: 0, function: { arguments: a.arguments.slice(cut) } }] });
      deltas.push({ tool_calls: [{ index: 1, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] });
      deltas.push({ tool_calls: [{ index: 1, function: { arguments: b.arguments } }] });
      return deltas;
    }
    deltas.push({ role: 'assistant', content: '', refusal: null });
    if (plan.scenario === 'refusal') for (const p of contentPieces) deltas.push({ refusal: p });
    else for (const p of contentPieces) deltas.push({ content: p });
    return deltas;
  }

  if (flavor === 'ollama') {
    // ollama openai.go ToChunk: every delta carries role and content (string), plus reasoning/tool_calls when present
    for (const p of reasoningPieces) deltas.push({ role: 'assistant', content: '', [reasoningField]: p });
    for (const p of contentPieces) deltas.push({ role: 'assistant', content: p });
    plan.toolCalls.forEach((tc, i) => {
      deltas.push({ role: 'assistant', content: '', tool_calls: [{ id: tc.id, index: i, type: 'function', function: { name: tc.name, arguments: tc.arguments } }] });
    });
    if (deltas.length === 0) deltas.push({ role: 'assistant', content: '' });
    return deltas;
  }

  // xai and lmstudio: role rides on the first real delta (no role-only chunk)
  for (const p of reasoningPieces) deltas.push({ [reasoningField]: p });
  for (const p of contentPieces) deltas.push({ content: p });
  plan.toolCalls.forEach((tc, i) => {
    const cut = tc.arguments.indexOf(':') + 1;
    deltas.push({ tool_calls: [{ index: i, id: tc.id, type: 'function', function: { name: tc.name, arguments: '' } }] });
    deltas.push({ tool_calls: [{ index: i, function: { arguments: tc.arguments.slice(0, cut) } }] });
    deltas.push({ tool_calls: [{ index: i, function: { arguments: tc.arguments.slice(cut) } }] });
  });
  if (deltas.length === 0) deltas.push({ content: '' });
  deltas[0] = { role: 'assistant', ...deltas[0] };
  return deltas;
}

function chunkFor(ctx: ChatCtx, delta: Delta, finishReason: string | null): Record<string, unknown> {
  const { flavor, body } = ctx;
  const includeUsage = body.stream_options?.include_usage === true;
  switch (flavor) {
    case 'openai': {
      const chunk: Record<string, unknown> = {
        id: ctx.id,
        object: 'chat.completion.chunk',
        created: ctx.created,
        model: body.model,
        service_tier: 'default',
        system_fingerprint: ctx.fingerprint,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      };
      if (includeUsage) chunk.usage = null;
      if (body.stream_options?.include_obfuscation !== false) chunk.obfuscation = randomAlnum(1 + (randomBytes(1)[0]! % 12));
      return chunk;
    }
    case 'xai':
      return {
        id: ctx.id,
        object: 'chat.completion.chunk',
        created: ctx.created,
        model: body.model,
        choices: [finishReason ? { index: 0, delta, finish_reason: finishReason } : { index: 0, delta }],
        system_fingerprint: ctx.fingerprint,
      };
    case 'ollama':
      return {
        id: ctx.id,
        object: 'chat.completion.chunk',
        created: ctx.created,
        model: body.model,
        system_fingerprint: 'fp_ollama',
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      };
    case 'lmstudio':
      return {
        id: ctx.id,
        object: 'chat.completion.chunk',
        created: ctx.created,
        model: body.model,
        system_fingerprint: body.model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      };
  }
}

function usageChunk(ctx: ChatCtx): Record<string, unknown> {
  const { flavor, body } = ctx;
  const base: Record<string, unknown> = { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: body.model };
  if (flavor === 'openai') {
    Object.assign(base, { service_tier: 'default', system_fingerprint: ctx.fingerprint, choices: [], usage: ctx.plan.usage });
    if (body.stream_options?.include_obfuscation !== false) base.obfuscation = randomAlnum(8);
    return base;
  }
  if (flavor === 'xai') return { ...base, choices: [], usage: ctx.plan.usage, system_fingerprint: ctx.fingerprint };
  return { ...base, system_fingerprint: flavor === 'ollama' ? 'fp_ollama' : body.model, choices: [], usage: ctx.plan.usage };
}

function finishDelta(flavor: OpenAIFlavor): Delta {
  // ollama's finish chunk still carries role + empty content (openai.go ToChunk); the others send `{}`.
  return flavor === 'ollama' ? { role: 'assistant', content: '' } : {};
}

function midstreamErrorFrame(flavor: OpenAIFlavor): unknown {
  if (flavor === 'xai') return { code: XAI_CODES[500], error: MIDSTREAM_ERROR_MESSAGE };
  if (flavor === 'ollama') return { error: { message: MIDSTREAM_ERROR_MESSAGE, type: 'api_error', param: null, code: null } };
  return { error: { message: MIDSTREAM_ERROR_MESSAGE, type: 'server_error', param: null, code: null } };
}

// ───────────────────────────── server ─────────────────────────────

export async function startOpenAIFake(options: OpenAIFakeOptions = {}): Promise<OpenAIFake> {
  const flavor: OpenAIFlavor = options.flavor ?? 'openai';
  const models = options.models ?? DEFAULT_MODELS[flavor];
  const apiKey = options.apiKey;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const abortWaiters: { target: number; resolve: () => void }[] = [];
  let waitCalls = 0;
  let closing = false;
  const fingerprint = `fp_${randomBytes(5).toString('hex')}`;
  const modelCreated = 1744316542;

  const fake: OpenAIFake = {
    url: '',
    flavor,
    requests,
    abortedStreams: 0,
    responsesStreams: [],
    waitForAbort() {
      const target = ++waitCalls;
      return new Promise<void>((resolve) => {
        if (fake.abortedStreams >= target) resolve();
        else abortWaiters.push({ target, resolve });
      });
    },
    close() {
      closing = true;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };

  const recordAbort = () => {
    fake.abortedStreams++;
    for (let i = abortWaiters.length - 1; i >= 0; i--) {
      const w = abortWaiters[i]!;
      if (fake.abortedStreams >= w.target) {
        abortWaiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  /** Count a client going away before `res` finished (not when we drop it ourselves or close the fake). */
  const watchAbort = (res: http.ServerResponse, state: { selfDropped: boolean }) => {
    res.on('close', () => {
      if (!res.writableFinished && !state.selfDropped && !closing) recordAbort();
    });
  };

  const baseHeaders = (): Record<string, string> => {
    const h: Record<string, string> = {};
    if (flavor === 'openai') {
      h['x-request-id'] = `req_${randomBytes(16).toString('hex')}`;
      h['openai-processing-ms'] = '12';
      h['openai-version'] = '2020-10-01';
    }
    return h;
  };

  const sendJson = (res: http.ServerResponse, status: number, payload: unknown, extra: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      ...baseHeaders(),
      'content-type': flavor === 'ollama' ? 'application/json; charset=utf-8' : 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...extra,
    });
    res.end(text);
  };

  const sendError = (res: http.ServerResponse, e: HttpError) => sendJson(res, e.status, errorBody(flavor, e), e.headers);
  const responsesState: ResponsesState = { models, stored: new Map(), issued: new Set() };
  const responsesPath = flavor === 'openai' ? /^\/v1\/responses(?:\/([^/]+))?$/ : null;

  const modelObject = (id: string) => {
    switch (flavor) {
      case 'openai':
        return { id, object: 'model', created: modelCreated, owned_by: id.startsWith('text-embedding') ? 'system' : 'openai' };
      case 'xai':
        return { id, created: modelCreated, object: 'model', owned_by: 'xai' };
      case 'ollama':
        return { id, object: 'model', created: modelCreated, owned_by: 'library' };
      case 'lmstudio':
        // LM Studio's /v1/models entries carry no `created`.
        return { id, object: 'model', owned_by: 'organization_owner' };
    }
  };

  const checkAuth = (req: http.IncomingMessage) => {
    if (!apiKey || flavor === 'ollama' || flavor === 'lmstudio') return;
    const header = req.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (given === apiKey) return;
    if (flavor === 'xai') {
      throw new HttpError(400, `Incorrect API key provided: ${maskKey(given)}. You can obtain an API key from https://console.x.ai.`);
    }
    throw new HttpError(
      401,
      `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      null,
      'invalid_api_key',
    );
  };

  const handleChat = async (req: http.IncomingMessage, res: http.ServerResponse, body: any) => {
    validateChat(flavor, body, models);
    const plan = planChat(flavor, body);
    const stream = body.stream === true;
    const state = { selfDropped: false };

    switch (plan.scenario) {
      case 'hang':
        if (stream) watchAbort(res, state);
        return; // never respond
      case 'error429':
        throw rateLimited(flavor, body.model);
      case 'error500':
        throw serverError(flavor);
      case 'midstream':
        if (!stream) throw serverError(flavor);
        break;
      default:
        break;
    }

    const ctx: ChatCtx = { flavor, body, plan, id: completionId(flavor), created: Math.floor(Date.now() / 1000), fingerprint };
    if (!stream) {
      sendJson(res, 200, nonStreamBody(ctx));
      return;
    }

    const headers: Record<string, string> = {
      ...baseHeaders(),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
    };
    if (plan.scenario === 'midstream') headers.connection = 'close';
    res.writeHead(200, headers);
    res.flushHeaders();
    watchAbort(res, state);
    const sse = new SseWriter(res, flavor);
    const deltas = streamDeltas(ctx);

    if (plan.scenario === 'midstream') {
      for (const d of deltas.slice(0, 3)) await sse.frame(chunkFor(ctx, d, null));
      await sse.frame(midstreamErrorFrame(flavor));
      res.end(); // `connection: close` makes node close the socket after this
      return;
    }
    if (plan.scenario === 'drop') {
      for (const d of deltas.slice(0, 3)) await sse.frame(chunkFor(ctx, d, null));
      await sleep(20);
      state.selfDropped = true;
      res.socket?.destroy();
      return;
    }
    if (plan.scenario === 'slow') {
      const first = deltas[0]!;
      if (!(await sse.frame(chunkFor(ctx, first, null)))) return;
      const started = Date.now();
      let dots = '';
      while (Date.now() - started < 10_000) {
        await sleep(20);
        if (!sse.alive) return;
        dots += '.';
        if (!(await sse.frame(chunkFor(ctx, flavor === 'ollama' ? { role: 'assistant', content: '.' } : { content: '.' }, null)))) return;
      }
      plan.replyText = dots;
      plan.usage = usageObject(flavor, plan.usage.prompt_tokens, countWords(dots), 0, plan.usage.prompt_tokens_details?.cached_tokens ?? 0);
    } else {
      for (const d of deltas) if (!(await sse.frame(chunkFor(ctx, d, null)))) return;
    }
    if (!(await sse.frame(chunkFor(ctx, finishDelta(flavor), plan.finishReason)))) return;
    if (body.stream_options?.include_usage === true) {
      if (!(await sse.frame(usageChunk(ctx)))) return;
    }
    if (!(await sse.frame('[DONE]'))) return;
    res.end();
  };

  const handleEmbeddings = (res: http.ServerResponse, body: any) => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw bad(`Invalid type for body: expected an object, but got ${typeName(body)} instead.`, null, 'invalid_type');
    }
    if (body.model === undefined) throw bad('you must provide a model parameter');
    if (typeof body.model !== 'string') throw bad(`Invalid type for 'model': expected a string, but got ${typeName(body.model)} instead.`, 'model', 'invalid_type');
    const input = body.input;
    if (input === undefined) throw bad("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    const invalidInput = () => bad("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");

    let inputs: (string | number[])[];
    const isTokens = (a: unknown): a is number[] => Array.isArray(a) && a.length > 0 && a.every((x) => Number.isInteger(x) && x >= 0);
    if (typeof input === 'string') inputs = [input];
    else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) inputs = input;
    else if (isTokens(input)) inputs = [input];
    else if (Array.isArray(input) && input.length > 0 && input.every(isTokens)) inputs = input as number[][];
    else throw invalidInput();
    if (flavor === 'ollama' && inputs.some((x) => typeof x !== 'string')) {
      // ollama /v1/embeddings accepts a string or string[] only
      throw bad('invalid input type');
    }
    if (inputs.some((x) => x.length === 0)) throw invalidInput();
    if (inputs.length > 2048) throw bad(`'$.input' is invalid. The array must have at most 2048 items.`, 'input');
    if (body.encoding_format != null && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
      throw bad(`Invalid value: '${String(body.encoding_format)}'. Supported values are: 'float' and 'base64'.`, 'encoding_format', 'invalid_value');
    }
    let dims = 8;
    if (flavor === 'openai' && body.dimensions != null) {
      if (!Number.isInteger(body.dimensions) || body.dimensions < 1) {
        throw bad(`Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got ${String(body.dimensions)} instead.`, 'dimensions', 'integer_below_min_value');
      }
      dims = body.dimensions;
    }
    if (!models.includes(body.model)) throw modelNotFound(flavor, body.model);

    // ollama and lmstudio ignore encoding_format and always return float arrays. This mirrors servers that
    // do not implement base64 (older Ollama builds, LM Studio), so a gateway must convert to base64 itself
    // when its caller (e.g. openai-node, which sends base64 by default) asked for it.
    const base64 = body.encoding_format === 'base64' && (flavor === 'openai' || flavor === 'xai');
    let tokens = 0;
    const data = inputs.map((inp, index) => {
      tokens += typeof inp === 'string' ? countWords(inp) : inp.length;
      const vec = fakeEmbedding(inp, dims);
      return { object: 'embedding', index, embedding: base64 ? embeddingToBase64(vec) : vec };
    });
    sendJson(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any = undefined;
      let parseError = false;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          parseError = true;
        }
      }
      const url = req.url ?? '/';
      const path = url.split('?')[0]!;
      const method = req.method ?? 'GET';
      requests.push({ method, path: url, headers: req.headers, body });

      const route = async () => {
        const modelMatch = /^\/v1\/models\/(.+)$/.exec(path);
        const responsesMatch = responsesPath?.exec(path) ?? null;
        const known =
          (method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/embeddings' || (responsesMatch !== null && responsesMatch[1] === undefined))) ||
          (method === 'GET' && responsesMatch?.[1] !== undefined) ||
          (method === 'GET' && (path === '/v1/models' || modelMatch !== null));
        if (!known) {
          throw new HttpError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error');
        }
        checkAuth(req);
        if (method === 'GET' && responsesMatch) {
          sendJson(res, 200, storedResponse(responsesState, decodeURIComponent(responsesMatch[1]!)));
          return;
        }
        if (method === 'GET') {
          if (path === '/v1/models') {
            sendJson(res, 200, { object: 'list', data: models.map(modelObject) });
            return;
          }
          const id = decodeURIComponent(modelMatch![1]!);
          if (!models.includes(id)) {
            if (flavor === 'openai') throw new HttpError(404, `The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
            throw modelNotFound(flavor, id);
          }
          sendJson(res, 200, modelObject(id));
          return;
        }
        if (parseError || body === undefined) {
          throw bad(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
          );
        }
        if (path === '/v1/embeddings') handleEmbeddings(res, body);
        else if (responsesMatch) await handleResponses(res, body, responsesState, { sendJson, headers: baseHeaders, rawStreams: fake.responsesStreams });
        else await handleChat(req, res, body);
      };
      route().catch((e: unknown) => {
        if (e instanceof ResponsesHttpError) sendError(res, new HttpError(e.status, e.message, e.type, e.param, e.code, e.headers));
        else if (e instanceof HttpError) sendError(res, e);
        else if (!res.headersSent) sendError(res, new HttpError(500, String((e as Error)?.message ?? e), 'server_error'));
        else res.destroy();
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}/v1`;
  return fake;
}
