/**
 * Anthropic Messages API fake for the gateway's tests.
 *
 * `startAnthropicFake()` starts a real HTTP server (node:http) on 127.0.0.1:0 that speaks the wire format of
 * `https://api.anthropic.com` (shared/reference/provider-wire-formats.md §0 and §2) and validates every request
 * about as strictly as the real API. Anything it rejects as invalid (a 4xx that is not a scripted scenario error)
 * is listed in `fake.rejected`; gateway tests assert that list stays empty.
 *
 * Endpoints: POST /v1/messages (JSON, or SSE with `stream: true`), POST /v1/messages/count_tokens,
 *            GET /v1/models (limit / after_id / before_id pagination), GET /v1/models/{id}.
 * Auth:      `x-api-key: <key>` or `Authorization: Bearer <key>`; `anthropic-version: 2023-06-01 | 2026-10-21`.
 *            Without `options.apiKey` any non-empty key is accepted.
 * Models:    aliases resolve like the real API (`claude-sonnet-4-5` → `claude-sonnet-4-5-20250929`), and the
 *            response's `model` is the resolved id. Default model list pages are at most 2 long (so clients
 *            exercise pagination); pass `models` (page size then up to 1000) or `pageSize` to change that.
 *
 * ── Scenario markers ── (looked for in the text of the LAST user message: a string, or its text blocks)
 *   (none)            text `Hello from anthropic! You said: <text>` (text blocks joined by " "); streamed as
 *                     `text_delta`s of 3 characters
 *   (tool turn)       the last user message holds tool_result blocks: text
 *                     `Tool results: <each tool_result's content (string, or its text blocks joined by " ")
 *                     joined by "; ">` (overrides the markers below except [thinking] / errors)
 *   [tools]           (request has custom tools, tool_choice not `none`) a text block TOOL_PREAMBLE, then TWO
 *                     tool_use blocks of the first tool (or tool_choice.name): {"city":"Lisbon"}, {"city":"Porto"};
 *                     stop_reason `tool_use`. Stream: first input_json_delta is "", then the JSON in ≥2 pieces.
 *                     `disable_parallel_tool_use: true` → only the first call. tool_choice any/tool forces this
 *                     reply even without the marker.
 *   [tools-noargs]    one tool_use (no text) of the first tool whose input_schema has no properties, input {};
 *                     the stream has exactly one input_json_delta with partial_json "".
 *   [thinking]        (or `thinking` enabled/adaptive in the request) a thinking block THINKING_TEXT with a
 *                     signature first (stream: thinking_delta(s), then one signature_delta). Signatures are
 *                     remembered; replayed thinking blocks must carry an issued signature and unchanged text.
 *                     `thinking.display: "omitted"` → empty thinking text (still billed).
 *   [length]          stop_reason `max_tokens`          [refusal]   stop_reason `refusal`, no content blocks
 *   [stop-seq]        stop_reason `stop_sequence`, stop_sequence = first of the request's stop_sequences
 *   [cache]           cache_read_input_tokens = 100, cache_creation_input_tokens = 50 (see usage below)
 *   [error:529]       529 overloaded_error, `retry-after: 1`   [error:429] 429 rate_limit_error, `retry-after: 1`
 *   [error:midstream] stream: message_start, ping, first block start + one delta, then `event: error`
 *                     (overloaded_error) and the connection closes. Non-stream: 529 overloaded_error.
 *   [ping]            a `ping` event after every delta (one early ping is always sent)
 *   [citations]       the text reply carries FAKE_CITATION; streamed as a `citations_delta` right after the
 *                     text block's first text_delta (before the rest of its text)
 *   [future]          stream: event types newer than clients know: a `message_future` event after the first
 *                     ping and a `future_delta` content_block_delta after the first text_delta of each text block
 *   [slow]            reply is the default text + " tick" × 300, one 3-char delta every 20 ms (≈10 s).
 *                     Non-stream: the reply is delayed up to 10 s.
 * A client that goes away before a streaming (or [slow]) response finished counts in `abortedStreams`;
 * `waitForAbort()` resolves once per abort (queue semantics: an abort before the call is not lost).
 *
 * ── Usage formula ── (deterministic; `anthropicUsageFor(body)` returns what the fake reports)
 *   countWords(s)   = number of whitespace-separated words in s
 *   text of content = a string content, or its `text` blocks + the text of tool_result contents (string, or
 *                     their text blocks), all joined by " ". Images, tool_use input, thinking blocks count 0.
 *   input_tokens    = countWords(system text) + Σ over messages (countWords(text of message) + 3)
 *                     With [cache]: cache_read_input_tokens = 100, cache_creation_input_tokens = 50 and
 *                     input_tokens stays the formula above (the uncached part; the full prompt is input + 150).
 *                     Otherwise both cache fields are 0.
 *   output_tokens   = countWords(reply text) + countWords(THINKING_TEXT if a thinking block was produced)
 *                     + 5 × number of tool_use blocks
 *   Stream: message_start.usage.output_tokens = 1; message_delta.usage repeats input_tokens and the cache
 *   fields and carries the final cumulative output_tokens.
 *   count_tokens returns { input_tokens } with the same input formula (no cache split).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

// ───────────────────────────── public types ─────────────────────────────

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON body; the raw string when it was not JSON; undefined when empty */
  body: any;
}

export interface ProviderFake {
  /** root URL, e.g. http://127.0.0.1:PORT (no /v1) */
  url: string;
  /** every request received, in order (including rejected ones) */
  requests: RecordedRequest[];
  /** every request rejected as invalid (a 4xx from validation, not a scripted scenario error) */
  rejected: Array<{ path: string; status: number; message: string }>;
  abortedStreams: number;
  waitForAbort(): Promise<void>;
  close(): Promise<void>;
}

export interface AnthropicFake extends ProviderFake {
  /** the text of every SSE response body written, in order (complete once the response ended) */
  streams: string[];
}

export interface AnthropicFakeOptions {
  /** the only key accepted; default: any non-empty key */
  apiKey?: string;
  /** model ids served (default DEFAULT_ANTHROPIC_MODELS) */
  models?: string[];
  /** maximum page size of GET /v1/models (default 2 with the default model list, else 1000) */
  pageSize?: number;
}

export const DEFAULT_ANTHROPIC_MODELS = [
  'claude-opus-4-8',
  'claude-sonnet-4-6',
  'claude-sonnet-4-5-20250929',
  'claude-haiku-4-5-20251001',
  'claude-3-5-haiku-20241022',
];
export const ANTHROPIC_VERSIONS = ['2023-06-01', '2026-10-21'];
export const FAKE_CITATION = { type: 'char_location', cited_text: 'Hello from anthropic', document_index: 0, document_title: 'Fake document', start_char_index: 0, end_char_index: 20 } as const;
export const THINKING_TEXT = 'Let me think step by step about how to answer this.';
export const TOOL_PREAMBLE = "I'll check the weather in both cities.";
export const TOOL_INPUTS = [{ city: 'Lisbon' }, { city: 'Porto' }] as const;
/** models on which `temperature` and `top_p` may not both be set */
export const NO_TEMPERATURE_AND_TOP_P = ['claude-opus-4-8', 'claude-sonnet-4-6'];

const MODEL_META: Record<string, { display_name: string; created_at: string; max_input_tokens: number; max_tokens: number; thinking: boolean }> = {
  'claude-opus-4-8': { display_name: 'Claude Opus 4.8', created_at: '2026-06-01T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, thinking: true },
  'claude-sonnet-4-6': { display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 64_000, thinking: true },
  'claude-sonnet-4-5-20250929': { display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z', max_input_tokens: 200_000, max_tokens: 64_000, thinking: true },
  'claude-haiku-4-5-20251001': { display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z', max_input_tokens: 200_000, max_tokens: 64_000, thinking: true },
  'claude-3-5-haiku-20241022': { display_name: 'Claude Haiku 3.5', created_at: '2024-10-22T00:00:00Z', max_input_tokens: 200_000, max_tokens: 8_192, thinking: false },
};
function modelMeta(id: string) {
  return MODEL_META[id] ?? { display_name: id, created_at: '2025-01-01T00:00:00Z', max_input_tokens: 200_000, max_tokens: 64_000, thinking: true };
}

// ───────────────────────────── pure helpers (exported for gateway tests) ─────────────────────────────

/** Number of whitespace-separated words: `countWords("a  b\nc") === 3`, `countWords("") === 0`. */
export function countWords(text: string | null | undefined): number {
  if (!text) return 0;
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/** Text of an Anthropic message content (see the usage formula in the header comment). */
export function anthropicContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const b of content) {
    if (!isObj(b)) continue;
    if (b.type === 'text' && typeof b.text === 'string') parts.push(b.text);
    if (b.type === 'tool_result') parts.push(toolResultText(b.content));
  }
  return parts.join(' ');
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter((b) => isObj(b) && b.type === 'text' && typeof b.text === 'string').map((b: any) => b.text).join(' ');
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) return '';
  return system.filter((b) => isObj(b) && typeof b.text === 'string').map((b: any) => b.text).join(' ');
}

/** input_tokens for a (valid) Messages / count_tokens request body. */
export function anthropicInputTokens(body: any): number {
  let n = countWords(systemText(body?.system));
  for (const m of Array.isArray(body?.messages) ? body.messages : []) n += countWords(anthropicContentText(m?.content)) + 3;
  return n;
}

/** Text of the last user message's text content (string, or text blocks joined by " "). */
export function lastUserText(body: any): string {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.filter((b: any) => b?.type === 'text').map((b: any) => b.text).join(' ');
    return '';
  }
  return '';
}

export function defaultAnthropicReply(userText: string): string {
  return `Hello from anthropic! You said: ${userText}`;
}

type OutBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string; citations?: unknown[] }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

interface Plan {
  scenario: 'ok' | 'error:529' | 'error:429';
  blocks: OutBlock[];
  stopReason: string;
  stopSequence: string | null;
  usage: { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number; output_tokens: number };
  midstreamError: boolean;
  ping: boolean;
  slow: boolean;
  future: boolean;
}

/** Usage the fake reports for a (valid) Messages request body, for gateway tests. */
export function anthropicUsageFor(body: any): Plan['usage'] {
  return planMessage(body, () => 'sig', () => 'toolu_x').usage;
}

function thinkingOn(body: any): boolean {
  return isObj(body?.thinking) && (body.thinking.type === 'enabled' || body.thinking.type === 'adaptive');
}

function planMessage(body: any, newSignature: (thinking: string) => string, newToolId: () => string): Plan {
  const text = lastUserText(body);
  const has = (m: string) => text.includes(m);
  const msgs: any[] = body.messages ?? [];
  const last = [...msgs].reverse().find((m) => m?.role === 'user');
  const toolResults: any[] = Array.isArray(last?.content) ? last.content.filter((b: any) => b?.type === 'tool_result') : [];
  const customTools: any[] = (Array.isArray(body.tools) ? body.tools : []).filter((t: any) => t && (t.type === undefined || t.type === 'custom'));
  const choice = isObj(body.tool_choice) ? body.tool_choice : undefined;
  const blocks: OutBlock[] = [];
  const slow = has('[slow]');

  if (has('[thinking]') || thinkingOn(body)) {
    const shown = body.thinking?.display === 'omitted' ? '' : THINKING_TEXT;
    blocks.push({ type: 'thinking', thinking: shown, signature: newSignature(shown) });
  }
  let thinkingWords = blocks.length ? countWords(THINKING_TEXT) : 0;

  const forced = choice && (choice.type === 'any' || choice.type === 'tool');
  const toolsAllowed = customTools.length > 0 && choice?.type !== 'none';
  if (toolResults.length > 0) {
    blocks.push({ type: 'text', text: `Tool results: ${toolResults.map((r) => toolResultText(r.content)).join('; ')}` });
  } else if (toolsAllowed && has('[tools-noargs]')) {
    const tool = customTools.find((t) => !isObj(t.input_schema?.properties) || Object.keys(t.input_schema.properties).length === 0) ?? customTools[0];
    blocks.push({ type: 'tool_use', id: newToolId(), name: choice?.type === 'tool' ? choice.name : tool.name, input: {} });
  } else if (toolsAllowed && (has('[tools]') || forced)) {
    const name: string = choice?.type === 'tool' ? choice.name : customTools[0].name;
    blocks.push({ type: 'text', text: TOOL_PREAMBLE });
    const inputs = choice?.disable_parallel_tool_use === true ? TOOL_INPUTS.slice(0, 1) : TOOL_INPUTS;
    for (const input of inputs) blocks.push({ type: 'tool_use', id: newToolId(), name, input: { ...input } });
  } else if (has('[refusal]')) {
    // no content at all
  } else {
    let reply = defaultAnthropicReply(text);
    if (slow) reply += ' tick'.repeat(300);
    blocks.push(has('[citations]') ? { type: 'text', text: reply, citations: [{ ...FAKE_CITATION }] } : { type: 'text', text: reply });
  }

  const toolUses = blocks.filter((b) => b.type === 'tool_use').length;
  const stopSeqs: string[] = Array.isArray(body.stop_sequences) ? body.stop_sequences : [];
  let stopReason = 'end_turn';
  let stopSequence: string | null = null;
  if (toolUses > 0) stopReason = 'tool_use';
  else if (has('[length]')) stopReason = 'max_tokens';
  else if (has('[refusal]')) stopReason = 'refusal';
  else if (has('[stop-seq]') && stopSeqs.length > 0) {
    stopReason = 'stop_sequence';
    stopSequence = stopSeqs[0]!;
  }
  const replyWords = blocks.reduce((n, b) => n + (b.type === 'text' ? countWords(b.text) : 0), 0);
  const cache = has('[cache]');
  return {
    scenario: has('[error:529]') ? 'error:529' : has('[error:429]') ? 'error:429' : 'ok',
    blocks,
    stopReason,
    stopSequence,
    usage: {
      input_tokens: anthropicInputTokens(body),
      cache_creation_input_tokens: cache ? 50 : 0,
      cache_read_input_tokens: cache ? 100 : 0,
      output_tokens: replyWords + thinkingWords + 5 * toolUses,
    },
    midstreamError: has('[error:midstream]'),
    ping: has('[ping]'),
    slow,
    future: has('[future]'),
  };
}

// ───────────────────────────── validation ─────────────────────────────

class HttpError extends Error {
  constructor(
    public status: number,
    public errType: string,
    message: string,
    /** false for scripted scenario errors (not listed in `rejected`) */
    public record = true,
    public headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function fail(message: string, status = 400, errType = 'invalid_request_error'): never {
  throw new HttpError(status, errType, message);
}

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`${join(path, k)}: Extra inputs are not permitted`);
}

function requireObj(v: unknown, path: string): asserts v is Record<string, any> {
  if (!isObj(v)) fail(`${path}: Input should be a valid dictionary or object to extract fields from`);
}

function requireString(v: unknown, path: string): asserts v is string {
  if (typeof v !== 'string') fail(`${path}: Input should be a valid string`);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TOOL_USE_ID_RE = /^[a-zA-Z0-9_-]+$/;
const TOOL_NAME_RE = /^[a-zA-Z0-9_-]{1,128}$/;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

function sniffImage(buf: Buffer): string | null {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
  if (buf.length >= 6 && (buf.subarray(0, 6).toString('latin1') === 'GIF87a' || buf.subarray(0, 6).toString('latin1') === 'GIF89a')) return 'image/gif';
  if (buf.length >= 12 && buf.subarray(0, 4).toString('latin1') === 'RIFF' && buf.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

function validateCacheControl(v: unknown, path: string, counter: { n: number }): void {
  if (v === undefined || v === null) return;
  requireObj(v, path);
  checkKeys(v, ['type', 'ttl'], path);
  if (v.type !== 'ephemeral') fail(`${path}.type: Input should be 'ephemeral'`);
  if (v.ttl !== undefined && v.ttl !== '5m' && v.ttl !== '1h') fail(`${path}.ttl: Input should be '5m' or '1h'`);
  counter.n++;
}

function validateTextBlock(b: Record<string, any>, path: string, cc: { n: number }): void {
  checkKeys(b, ['type', 'text', 'cache_control', 'citations'], path);
  if (b.text === undefined) fail(`${path}.text: Field required`);
  requireString(b.text, `${path}.text`);
  if (b.text.length === 0) fail('messages: text content blocks must be non-empty');
  if (b.text.trim() === '') fail('messages: text content blocks must contain non-whitespace text');
  if (b.citations !== undefined && b.citations !== null && !Array.isArray(b.citations)) fail(`${path}.citations: Input should be a valid list`);
  validateCacheControl(b.cache_control, `${path}.cache_control`, cc);
}

function validateImageBlock(b: Record<string, any>, path: string, cc: { n: number }): void {
  checkKeys(b, ['type', 'source', 'cache_control'], path);
  const s = b.source;
  if (s === undefined) fail(`${path}.source: Field required`);
  requireObj(s, `${path}.source`);
  if (s.type === 'base64') {
    const p = `${path}.source.base64`;
    checkKeys(s, ['type', 'media_type', 'data'], p);
    if (!IMAGE_TYPES.includes(s.media_type)) fail(`${p}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`);
    if (typeof s.data !== 'string' || s.data.length === 0 || !BASE64_RE.test(s.data)) fail(`${p}.data: Invalid base64 data`);
    const sniffed = sniffImage(Buffer.from(s.data, 'base64'));
    if (!sniffed) fail(`${p}.data: Could not process image`);
    if (sniffed !== s.media_type) fail(`${p}.data: The image was specified using the ${s.media_type} media type, but the image appears to be a ${sniffed} image`);
  } else if (s.type === 'url') {
    checkKeys(s, ['type', 'url'], `${path}.source.url`);
    requireString(s.url, `${path}.source.url.url`);
    if (!/^https?:\/\/[^\s/]+/.test(s.url)) fail(`${path}.source.url.url: Input should be a valid URL`);
  } else if (s.type === 'file') {
    checkKeys(s, ['type', 'file_id'], `${path}.source.file`);
    requireString(s.file_id, `${path}.source.file.file_id`);
  } else {
    fail(`${path}.source: Input tag '${String(s.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`);
  }
  validateCacheControl(b.cache_control, `${path}.cache_control`, cc);
}

function validateDocumentBlock(b: Record<string, any>, path: string, cc: { n: number }): void {
  checkKeys(b, ['type', 'source', 'cache_control', 'citations', 'context', 'title'], path);
  const s = b.source;
  requireObj(s, `${path}.source`);
  switch (s.type) {
    case 'base64':
      checkKeys(s, ['type', 'media_type', 'data'], `${path}.source.base64`);
      if (s.media_type !== 'application/pdf') fail(`${path}.source.base64.media_type: Input should be 'application/pdf'`);
      if (typeof s.data !== 'string' || !BASE64_RE.test(s.data) || !Buffer.from(s.data, 'base64').subarray(0, 5).equals(Buffer.from('%PDF-'))) fail(`${path}.source.base64.data: The PDF specified was not valid.`);
      break;
    case 'text':
      checkKeys(s, ['type', 'media_type', 'data'], `${path}.source.text`);
      if (s.media_type !== 'text/plain') fail(`${path}.source.text.media_type: Input should be 'text/plain'`);
      requireString(s.data, `${path}.source.text.data`);
      break;
    case 'url':
      checkKeys(s, ['type', 'url'], `${path}.source.url`);
      requireString(s.url, `${path}.source.url.url`);
      break;
    case 'content':
      checkKeys(s, ['type', 'content'], `${path}.source.content`);
      if (typeof s.content !== 'string' && !Array.isArray(s.content)) fail(`${path}.source.content.content: Input should be a valid string or list`);
      break;
    case 'file':
      checkKeys(s, ['type', 'file_id'], `${path}.source.file`);
      requireString(s.file_id, `${path}.source.file.file_id`);
      break;
    default:
      fail(`${path}.source: Input tag '${String(s.type)}' found using 'type' does not match any of the expected tags: 'base64', 'text', 'url', 'content', 'file'`);
  }
  validateCacheControl(b.cache_control, `${path}.cache_control`, cc);
}

const USER_BLOCK_TYPES = ['text', 'image', 'document', 'tool_result', 'search_result'];
const ASSISTANT_BLOCK_TYPES = ['text', 'tool_use', 'thinking', 'redacted_thinking', 'server_tool_use', 'web_search_tool_result'];

interface Signatures {
  thinking: Map<string, string>;
  redacted: Set<string>;
}

function validateBlock(b: unknown, role: string, path: string, cc: { n: number }, sigs: Signatures): void {
  requireObj(b, path);
  if (b.type === undefined) fail(`${path}.type: Field required`);
  const all = [...new Set([...USER_BLOCK_TYPES, ...ASSISTANT_BLOCK_TYPES])];
  if (!all.includes(b.type)) fail(`${path}: Input tag '${String(b.type)}' found using 'type' does not match any of the expected tags: ${all.map((t) => `'${t}'`).join(', ')}`);
  if (role === 'user' && !USER_BLOCK_TYPES.includes(b.type)) fail(`${path}.type: \`${b.type}\` blocks can only be in \`assistant\` messages`);
  if (role === 'assistant' && !ASSISTANT_BLOCK_TYPES.includes(b.type)) fail(`${path}.type: \`${b.type}\` blocks can only be in \`user\` messages`);
  switch (b.type) {
    case 'text':
      return validateTextBlock(b, path, cc);
    case 'image':
      return validateImageBlock(b, path, cc);
    case 'document':
      return validateDocumentBlock(b, path, cc);
    case 'search_result':
      checkKeys(b, ['type', 'source', 'title', 'content', 'citations', 'cache_control'], path);
      requireString(b.source, `${path}.source`);
      requireString(b.title, `${path}.title`);
      if (!Array.isArray(b.content)) fail(`${path}.content: Input should be a valid list`);
      b.content.forEach((c: unknown, k: number) => {
        requireObj(c, `${path}.content.${k}`);
        validateTextBlock(c, `${path}.content.${k}`, cc);
      });
      return validateCacheControl(b.cache_control, `${path}.cache_control`, cc);
    case 'tool_use':
      checkKeys(b, ['type', 'id', 'name', 'input', 'cache_control', 'caller'], path);
      if (b.id === undefined) fail(`${path}.id: Field required`);
      requireString(b.id, `${path}.id`);
      if (!TOOL_USE_ID_RE.test(b.id)) fail(`${path}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      requireString(b.name, `${path}.name`);
      if (!TOOL_NAME_RE.test(b.name)) fail(`${path}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
      if (b.input === undefined) fail(`${path}.input: Field required`);
      if (!isObj(b.input)) fail(`${path}.input: Input should be a valid dictionary`);
      return validateCacheControl(b.cache_control, `${path}.cache_control`, cc);
    case 'server_tool_use':
      checkKeys(b, ['type', 'id', 'name', 'input', 'cache_control', 'caller'], path);
      requireString(b.id, `${path}.id`);
      if (!/^srvtoolu_[a-zA-Z0-9_]+$/.test(b.id)) fail(`${path}.id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'`);
      requireString(b.name, `${path}.name`);
      if (!isObj(b.input)) fail(`${path}.input: Input should be a valid dictionary`);
      return;
    case 'web_search_tool_result':
      checkKeys(b, ['type', 'tool_use_id', 'content', 'cache_control', 'caller'], path);
      requireString(b.tool_use_id, `${path}.tool_use_id`);
      return;
    case 'tool_result': {
      checkKeys(b, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'], path);
      if (b.tool_use_id === undefined) fail(`${path}.tool_use_id: Field required`);
      requireString(b.tool_use_id, `${path}.tool_use_id`);
      if (!TOOL_USE_ID_RE.test(b.tool_use_id)) fail(`${path}.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      if (b.is_error !== undefined && typeof b.is_error !== 'boolean') fail(`${path}.is_error: Input should be a valid boolean`);
      if (b.content !== undefined && typeof b.content !== 'string') {
        if (!Array.isArray(b.content)) fail(`${path}.content: Input should be a valid string or list`);
        b.content.forEach((c: unknown, k: number) => {
          const p = `${path}.content.${k}`;
          requireObj(c, p);
          if (c.type === 'text') validateTextBlock(c, p, cc);
          else if (c.type === 'image') validateImageBlock(c, p, cc);
          else if (c.type === 'document') validateDocumentBlock(c, p, cc);
          else if (c.type === 'search_result') validateBlock(c, 'user', p, cc, sigs);
          else fail(`${p}: Input tag '${String(c.type)}' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', 'search_result'`);
        });
      }
      return validateCacheControl(b.cache_control, `${path}.cache_control`, cc);
    }
    case 'thinking':
      checkKeys(b, ['type', 'thinking', 'signature'], path);
      if (b.thinking === undefined) fail(`${path}.thinking: Field required`);
      requireString(b.thinking, `${path}.thinking`);
      if (b.signature === undefined) fail(`${path}.signature: Field required`);
      requireString(b.signature, `${path}.signature`);
      if (b.signature.length === 0 || sigs.thinking.get(b.signature) !== b.thinking) fail(`${path}: Invalid \`signature\` in \`thinking\` block`);
      return;
    case 'redacted_thinking':
      checkKeys(b, ['type', 'data'], path);
      requireString(b.data, `${path}.data`);
      if (!sigs.redacted.has(b.data)) fail(`${path}: Invalid \`data\` in \`redacted_thinking\` block`);
      return;
  }
}

/** Minimal JSON-Schema (draft 2020-12) sanity check, as the real API meta-validates input_schema. */
function jsonSchemaOk(s: unknown, depth = 0): boolean {
  if (typeof s === 'boolean') return true;
  if (!isObj(s) || depth > 64) return false;
  const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  if (s.type !== undefined) {
    const ts = Array.isArray(s.type) ? s.type : [s.type];
    if (ts.length === 0 || !ts.every((t: unknown) => typeof t === 'string' && TYPES.includes(t))) return false;
  }
  if (s.properties !== undefined && (!isObj(s.properties) || !Object.values(s.properties).every((p) => jsonSchemaOk(p, depth + 1)))) return false;
  if (s.required !== undefined && (!Array.isArray(s.required) || !s.required.every((r: unknown) => typeof r === 'string'))) return false;
  if (s.items !== undefined && !jsonSchemaOk(s.items, depth + 1)) return false;
  for (const k of ['anyOf', 'oneOf', 'allOf']) if (s[k] !== undefined && (!Array.isArray(s[k]) || !s[k].every((x: unknown) => jsonSchemaOk(x, depth + 1)))) return false;
  for (const k of ['$defs', 'definitions']) if (s[k] !== undefined && (!isObj(s[k]) || !Object.values(s[k]).every((x) => jsonSchemaOk(x, depth + 1)))) return false;
  if (s.enum !== undefined && !Array.isArray(s.enum)) return false;
  return true;
}

const MESSAGES_TOP_LEVEL = [
  'model', 'messages', 'max_tokens', 'system', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_k', 'top_p',
  'tools', 'tool_choice', 'thinking', 'service_tier', 'cache_control', 'output_config', 'container', 'context_management',
  'mcp_servers', 'inference_geo',
];
const COUNT_TOKENS_TOP_LEVEL = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'cache_control', 'output_config', 'context_management', 'mcp_servers'];

function validateRequest(body: unknown, kind: 'messages' | 'count_tokens', resolveModel: (m: string) => string | undefined, sigs: Signatures): string {
  if (!isObj(body)) fail('Input should be a valid dictionary or object to extract fields from');
  checkKeys(body, kind === 'messages' ? MESSAGES_TOP_LEVEL : COUNT_TOKENS_TOP_LEVEL, '');
  const cc = { n: 0 };

  // model
  if (body.model === undefined) fail('model: Field required');
  requireString(body.model, 'model');
  if (body.model === '') fail('model: String should have at least 1 character');

  // max_tokens
  if (kind === 'messages') {
    if (body.max_tokens === undefined) fail('max_tokens: Field required');
    if (!isInt(body.max_tokens)) fail('max_tokens: Input should be a valid integer');
    if (body.max_tokens < 1) fail('max_tokens: Input should be greater than or equal to 1');
  }

  // messages
  const msgs = body.messages;
  if (msgs === undefined) fail('messages: Field required');
  if (!Array.isArray(msgs)) fail('messages: Input should be a valid list');
  if (msgs.length === 0) fail('messages: at least one message is required');
  msgs.forEach((m: unknown, i: number) => {
    const p = `messages.${i}`;
    requireObj(m, p);
    if (m.role === 'system') fail('messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.');
    if (m.role === undefined) fail(`${p}.role: Field required`);
    if (m.role !== 'user' && m.role !== 'assistant') fail(`${p}.role: Input should be 'user' or 'assistant'`);
    checkKeys(m, ['role', 'content'], p);
    if (m.content === undefined) fail(`${p}.content: Field required`);
  });
  if (msgs[0].role !== 'user') fail('messages: first message must use the "user" role');
  for (let i = 1; i < msgs.length; i++) {
    if (msgs[i].role === msgs[i - 1].role) fail(`messages: roles must alternate between user and assistant, but found multiple "${msgs[i].role}" roles in a row`);
  }
  msgs.forEach((m: any, i: number) => {
    const p = `messages.${i}`;
    const finalAssistant = i === msgs.length - 1 && m.role === 'assistant';
    if (typeof m.content === 'string') {
      if (m.content.length === 0 && !finalAssistant) fail(`${p}: all messages must have non-empty content except for the optional final assistant message`);
    } else if (Array.isArray(m.content)) {
      if (m.content.length === 0 && !finalAssistant) fail(`${p}: all messages must have non-empty content except for the optional final assistant message`);
      m.content.forEach((b: unknown, j: number) => validateBlock(b, m.role, `${p}.content.${j}`, cc, sigs));
    } else {
      fail(`${p}.content: Input should be a valid string or list`);
    }
  });
  const lastMsg = msgs[msgs.length - 1];
  if (lastMsg.role === 'assistant') {
    const lastText = typeof lastMsg.content === 'string' ? lastMsg.content : lastMsg.content.length && lastMsg.content[lastMsg.content.length - 1].type === 'text' ? lastMsg.content[lastMsg.content.length - 1].text : '';
    if (/\s$/.test(lastText)) fail('messages: final assistant content cannot end with trailing whitespace');
  }

  // tool_use / tool_result pairing
  const seenToolIds = new Set<string>();
  msgs.forEach((m: any, i: number) => {
    if (!Array.isArray(m.content)) return;
    if (m.role === 'assistant') {
      m.content.forEach((b: any, j: number) => {
        if (b.type !== 'tool_use' && b.type !== 'server_tool_use') return;
        if (seenToolIds.has(b.id)) fail(`messages.${i}.content.${j}: \`tool_use\` ids must be unique`);
        seenToolIds.add(b.id);
      });
      const ids: string[] = m.content.filter((b: any) => b.type === 'tool_use').map((b: any) => b.id);
      const next = msgs[i + 1];
      if (ids.length && next) {
        const answered = new Set(Array.isArray(next.content) ? next.content.filter((b: any) => b.type === 'tool_result').map((b: any) => b.tool_use_id) : []);
        const missing = ids.filter((id) => !answered.has(id));
        if (missing.length) fail(`messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`);
      }
    } else {
      const prev = msgs[i - 1];
      const prevIds = new Set<string>(prev && Array.isArray(prev.content) ? prev.content.filter((b: any) => b.type === 'tool_use').map((b: any) => b.id) : []);
      let seenOther = false;
      const answered = new Set<string>();
      m.content.forEach((b: any, j: number) => {
        if (b.type !== 'tool_result') {
          seenOther = true;
          return;
        }
        if (seenOther) fail(`messages.${i}.content.${j}: \`tool_result\` blocks must come FIRST in the user message content, before any other blocks`);
        if (!prevIds.has(b.tool_use_id)) fail(`messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${b.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`);
        if (answered.has(b.tool_use_id)) fail(`messages.${i}.content.${j}: each \`tool_use\` id may only have one \`tool_result\` block: ${b.tool_use_id}`);
        answered.add(b.tool_use_id);
      });
    }
  });
  if (cc.n > 0) {
    /* counted below together with system and tools */
  }

  // system
  if (body.system !== undefined) {
    if (typeof body.system === 'string') {
      /* any string */
    } else if (Array.isArray(body.system)) {
      body.system.forEach((b: unknown, j: number) => {
        const p = `system.${j}`;
        requireObj(b, p);
        if (b.type !== 'text') fail(`${p}.type: Input should be 'text'`);
        checkKeys(b, ['type', 'text', 'cache_control', 'citations'], p);
        requireString(b.text, `${p}.text`);
        if (b.text.trim() === '') fail('system: text content blocks must be non-empty');
        validateCacheControl(b.cache_control, `${p}.cache_control`, cc);
      });
    } else {
      fail('system: Input should be a valid string or list');
    }
  }

  // tools
  const toolNames: string[] = [];
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) fail('tools: Input should be a valid list');
    body.tools.forEach((t: unknown, k: number) => {
      const p = `tools.${k}`;
      requireObj(t, p);
      if (t.type === undefined || t.type === 'custom') {
        const cp = `${p}.custom`;
        checkKeys(t, ['type', 'name', 'description', 'input_schema', 'cache_control', 'strict', 'input_examples', 'defer_loading', 'eager_input_streaming', 'allowed_callers'], cp);
        if (t.name === undefined) fail(`${cp}.name: Field required`);
        requireString(t.name, `${cp}.name`);
        if (!TOOL_NAME_RE.test(t.name)) fail(`${cp}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
        if (t.description !== undefined) requireString(t.description, `${cp}.description`);
        if (t.input_schema === undefined) fail(`${cp}.input_schema: Field required`);
        requireObj(t.input_schema, `${cp}.input_schema`);
        if (t.input_schema.type !== 'object') fail(`${cp}.input_schema.type: Input should be 'object'`);
        if (!jsonSchemaOk(t.input_schema)) fail(`${cp}.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12 (https://json-schema.org/draft/2020-12). Learn more about tool use at https://docs.claude.com/en/docs/tool-use.`);
        if (t.strict !== undefined && typeof t.strict !== 'boolean') fail(`${cp}.strict: Input should be a valid boolean`);
        validateCacheControl(t.cache_control, `${cp}.cache_control`, cc);
        toolNames.push(t.name);
      } else if (typeof t.type === 'string' && /^[a-z_]+_\d{8}$/.test(t.type)) {
        requireString(t.name, `${p}.name`);
        toolNames.push(t.name);
      } else {
        fail(`${p}: Input tag '${String(t.type)}' found using 'type' does not match any of the expected tags`);
      }
    });
    if (new Set(toolNames).size !== toolNames.length) fail('tools: Tool names must be unique.');
  }

  // tool_choice
  const tc = body.tool_choice;
  if (tc !== undefined) {
    requireObj(tc, 'tool_choice');
    switch (tc.type) {
      case 'auto':
      case 'any':
        checkKeys(tc, ['type', 'disable_parallel_tool_use'], `tool_choice.${tc.type}`);
        break;
      case 'tool':
        checkKeys(tc, ['type', 'name', 'disable_parallel_tool_use'], 'tool_choice.tool');
        if (tc.name === undefined) fail('tool_choice.tool.name: Field required');
        requireString(tc.name, 'tool_choice.tool.name');
        break;
      case 'none':
        checkKeys(tc, ['type'], 'tool_choice.none');
        break;
      default:
        fail(`tool_choice: Input tag '${String(tc.type)}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`);
    }
    if (tc.disable_parallel_tool_use !== undefined && typeof tc.disable_parallel_tool_use !== 'boolean') fail(`tool_choice.${tc.type}.disable_parallel_tool_use: Input should be a valid boolean`);
    if (tc.type !== 'none' && toolNames.length === 0) fail('tool_choice: `tool_choice` may only be specified while providing tools.');
    if (tc.type === 'tool' && !toolNames.includes(tc.name)) fail(`tool_choice.tool.name: Tool '${tc.name}' not found in provided tools`);
  }

  if (cc.n > 4) fail(`A maximum of 4 blocks with cache_control may be provided. Found ${cc.n}.`);
  validateCacheControl(body.cache_control, 'cache_control', { n: 0 });

  // sampling
  for (const k of ['temperature', 'top_p'] as const) {
    if (body[k] === undefined) continue;
    if (typeof body[k] !== 'number') fail(`${k}: Input should be a valid number`);
    if (body[k] < 0) fail(`${k}: Input should be greater than or equal to 0`);
    if (body[k] > 1) fail(`${k}: Input should be less than or equal to 1`);
  }
  if (body.top_k !== undefined) {
    if (!isInt(body.top_k)) fail('top_k: Input should be a valid integer');
    if (body.top_k < 0) fail('top_k: Input should be greater than or equal to 0');
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences)) fail('stop_sequences: Input should be a valid list');
    body.stop_sequences.forEach((s: unknown, k: number) => {
      requireString(s, `stop_sequences.${k}`);
      if (s.trim() === '') fail('stop_sequences: each stop sequence must contain non-whitespace');
    });
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') fail('stream: Input should be a valid boolean');
  if (body.metadata !== undefined) {
    requireObj(body.metadata, 'metadata');
    checkKeys(body.metadata, ['user_id'], 'metadata');
    if (body.metadata.user_id !== undefined && body.metadata.user_id !== null) requireString(body.metadata.user_id, 'metadata.user_id');
  }
  if (body.service_tier !== undefined && body.service_tier !== 'auto' && body.service_tier !== 'standard_only') fail("service_tier: Input should be 'auto' or 'standard_only'");
  if (body.output_config !== undefined) {
    requireObj(body.output_config, 'output_config');
    checkKeys(body.output_config, ['effort', 'format'], 'output_config');
    if (body.output_config.effort !== undefined && !['low', 'medium', 'high', 'xhigh', 'max'].includes(body.output_config.effort)) fail("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'");
    if (body.output_config.format !== undefined && body.output_config.format !== null) {
      requireObj(body.output_config.format, 'output_config.format');
      if (body.output_config.format.type !== 'json_schema') fail("output_config.format.type: Input should be 'json_schema'");
      requireObj(body.output_config.format.schema, 'output_config.format.schema');
    }
  }

  // thinking
  const th = body.thinking;
  if (th !== undefined) {
    requireObj(th, 'thinking');
    if (th.type === 'enabled') {
      checkKeys(th, ['type', 'budget_tokens', 'display'], 'thinking.enabled');
      if (th.budget_tokens === undefined) fail('thinking.enabled.budget_tokens: Field required');
      if (!isInt(th.budget_tokens)) fail('thinking.enabled.budget_tokens: Input should be a valid integer');
      if (th.budget_tokens < 1024) fail('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      if (kind === 'messages' && th.budget_tokens >= body.max_tokens) fail('`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size');
    } else if (th.type === 'adaptive') {
      checkKeys(th, ['type', 'display'], 'thinking.adaptive');
    } else if (th.type === 'disabled') {
      checkKeys(th, ['type'], 'thinking.disabled');
    } else {
      fail(`thinking: Input tag '${String(th.type)}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'`);
    }
    if (th.display !== undefined && th.display !== 'summarized' && th.display !== 'omitted') fail(`thinking.${th.type}.display: Input should be 'summarized' or 'omitted'`);
  }
  const thinking = thinkingOn(body);
  if (thinking) {
    if (body.temperature !== undefined && body.temperature !== 1) fail('`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility');
    if (body.top_k !== undefined) fail('`top_k` must be unset when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility');
    if (body.top_p !== undefined && body.top_p < 0.95) fail('`top_p` must be unset or between 0.95 and 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility');
    if (tc && (tc.type === 'any' || tc.type === 'tool')) fail('Thinking may not be enabled when tool_choice forces tool use.');
    // The assistant turns of the current tool-use loop must start with their thinking block.
    for (let i = msgs.length - 1; i >= 1; i -= 2) {
      const user = msgs[i];
      const asst = msgs[i - 1];
      if (user.role !== 'user' || asst.role !== 'assistant') break;
      if (!Array.isArray(user.content) || !user.content.some((b: any) => b.type === 'tool_result')) break;
      if (!Array.isArray(asst.content) || !asst.content.some((b: any) => b.type === 'tool_use')) break;
      const first = asst.content[0];
      if (first.type !== 'thinking' && first.type !== 'redacted_thinking') {
        fail(`messages.${i - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`);
      }
    }
  }

  // model-dependent checks
  const model = resolveModel(body.model);
  if (!model) fail(`model: ${body.model}`, 404, 'not_found_error');
  const meta = modelMeta(model);
  if (kind === 'messages' && body.max_tokens > meta.max_tokens) fail(`max_tokens: ${body.max_tokens} > ${meta.max_tokens}, which is the maximum allowed number of output tokens for ${model}`);
  if (body.temperature !== undefined && body.top_p !== undefined && NO_TEMPERATURE_AND_TOP_P.includes(model)) fail('temperature and top_p cannot both be specified for this model. Please use only one.');
  if (thinking && !meta.thinking) fail(`'${model}' does not support thinking.`);
  return model;
}

// ───────────────────────────── server ─────────────────────────────

function rid(prefix: string, n = 24): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n);
  let s = prefix;
  for (const b of bytes) s += chars[b % chars.length];
  return s;
}

function chunk(s: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startAnthropicFake(options: AnthropicFakeOptions = {}): Promise<AnthropicFake> {
  const models = options.models ?? DEFAULT_ANTHROPIC_MODELS;
  const maxPage = options.pageSize ?? (options.models ? 1000 : 2);
  const sigs: Signatures = { thinking: new Map(), redacted: new Set() };
  const sockets = new Set<Socket>();
  let closing = false;
  const abortWaiters: Array<{ target: number; resolve: () => void }> = [];
  let abortClaims = 0;

  const resolveModel = (name: string): string | undefined => {
    if (models.includes(name)) return name;
    const base = name.endsWith('-latest') ? name.slice(0, -'-latest'.length) : name;
    return models.find((m) => m.startsWith(`${base}-`) && /^\d{8}$/.test(m.slice(base.length + 1)));
  };

  const fake: AnthropicFake = {
    url: '',
    requests: [],
    rejected: [],
    abortedStreams: 0,
    streams: [],
    waitForAbort() {
      const target = ++abortClaims;
      if (fake.abortedStreams >= target) return Promise.resolve();
      return new Promise<void>((resolve) => abortWaiters.push({ target, resolve }));
    },
    close() {
      closing = true;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };

  const noteAbort = () => {
    if (closing) return;
    fake.abortedStreams++;
    for (let i = abortWaiters.length - 1; i >= 0; i--) {
      if (fake.abortedStreams >= abortWaiters[i]!.target) {
        abortWaiters[i]!.resolve();
        abortWaiters.splice(i, 1);
      }
    }
  };

  const commonHeaders = (requestId: string): Record<string, string> => {
    const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      'request-id': requestId,
      'anthropic-organization-id': 'org-fake',
      'anthropic-ratelimit-requests-limit': '4000',
      'anthropic-ratelimit-requests-remaining': '3999',
      'anthropic-ratelimit-requests-reset': reset,
      'anthropic-ratelimit-tokens-limit': '400000',
      'anthropic-ratelimit-tokens-remaining': '399000',
      'anthropic-ratelimit-tokens-reset': reset,
    };
  };

  const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>) => {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data).toString(), ...headers });
    res.end(data);
  };

  const sendError = (res: http.ServerResponse, path: string, err: HttpError, requestId: string) => {
    if (err.record) fake.rejected.push({ path, status: err.status, message: err.message });
    sendJson(res, err.status, { type: 'error', error: { type: err.errType, message: err.message }, request_id: requestId }, { ...commonHeaders(requestId), ...err.headers });
  };

  const modelInfo = (id: string) => {
    const m = modelMeta(id);
    return { type: 'model', id, display_name: m.display_name, created_at: m.created_at, max_input_tokens: m.max_input_tokens, max_tokens: m.max_tokens, capabilities: null };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = u.pathname;
    const query: Record<string, string> = Object.fromEntries(u.searchParams.entries());
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any = undefined;
    let badJson = false;
    if (raw.length) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    fake.requests.push({ method: req.method ?? 'GET', path, query, headers: { ...req.headers }, body });
    const requestId = rid('req_011C');

    try {
      // auth
      const xKey = req.headers['x-api-key'];
      const authz = req.headers['authorization'];
      const bearer = typeof authz === 'string' && /^Bearer\s+/i.test(authz) ? authz.replace(/^Bearer\s+/i, '') : undefined;
      const key = typeof xKey === 'string' && xKey !== '' ? xKey : bearer;
      if (!key) fail('x-api-key header is required', 401, 'authentication_error');
      if (options.apiKey !== undefined && key !== options.apiKey) fail('invalid x-api-key', 401, 'authentication_error');
      const version = req.headers['anthropic-version'];
      if (version === undefined) fail('anthropic-version: header is required');
      if (typeof version !== 'string' || !ANTHROPIC_VERSIONS.includes(version)) fail(`anthropic-version: invalid version '${String(version)}'`);

      if (req.method === 'GET' && path === '/v1/models') {
        let limit = 20;
        if (query.limit !== undefined) {
          limit = Number(query.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail('limit: Input should be an integer between 1 and 1000');
        }
        limit = Math.min(limit, maxPage);
        if (query.after_id !== undefined && query.before_id !== undefined) fail('Only one of after_id and before_id may be specified');
        let page: string[];
        let hasMore: boolean;
        if (query.before_id !== undefined) {
          const idx = models.indexOf(query.before_id);
          if (idx < 0) fail(`before_id: invalid cursor '${query.before_id}'`);
          const start = Math.max(0, idx - limit);
          page = models.slice(start, idx);
          hasMore = start > 0;
        } else {
          let start = 0;
          if (query.after_id !== undefined) {
            const idx = models.indexOf(query.after_id);
            if (idx < 0) fail(`after_id: invalid cursor '${query.after_id}'`);
            start = idx + 1;
          }
          page = models.slice(start, start + limit);
          hasMore = start + limit < models.length;
        }
        return sendJson(res, 200, { data: page.map(modelInfo), has_more: hasMore, first_id: page[0] ?? null, last_id: page[page.length - 1] ?? null }, commonHeaders(requestId));
      }
      const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && modelMatch) {
        const id = resolveModel(decodeURIComponent(modelMatch[1]!));
        if (!id) fail(`model: ${decodeURIComponent(modelMatch[1]!)}`, 404, 'not_found_error');
        return sendJson(res, 200, modelInfo(id), commonHeaders(requestId));
      }
      if (req.method === 'POST' && (path === '/v1/messages' || path === '/v1/messages/count_tokens')) {
        if (badJson) fail('There was an error parsing the body of your request. Please check that it is valid JSON.');
        if (path === '/v1/messages/count_tokens') {
          validateRequest(body, 'count_tokens', resolveModel, sigs);
          return sendJson(res, 200, { input_tokens: anthropicInputTokens(body) }, commonHeaders(requestId));
        }
        const model = validateRequest(body, 'messages', resolveModel, sigs);
        return await respondMessage(req, res, body, model, requestId);
      }
      fail(`Not found: ${req.method} ${path}`, 404, 'not_found_error');
    } catch (e) {
      if (e instanceof HttpError) return sendError(res, path, e, requestId);
      throw e;
    }
  };

  const respondMessage = async (req: http.IncomingMessage, res: http.ServerResponse, body: any, model: string, requestId: string) => {
    const plan = planMessage(
      body,
      (thinking) => {
        const sig = randomBytes(96).toString('base64');
        sigs.thinking.set(sig, thinking);
        return sig;
      },
      () => rid('toolu_01', 22),
    );
    if (plan.scenario === 'error:529' || (plan.midstreamError && !body.stream)) {
      throw new HttpError(529, 'overloaded_error', 'Overloaded', false, { 'retry-after': '1' });
    }
    if (plan.scenario === 'error:429') {
      throw new HttpError(429, 'rate_limit_error', 'This request would exceed the rate limit for your organization of 4,000 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.', false, {
        'retry-after': '1',
        'anthropic-ratelimit-requests-remaining': '0',
      });
    }
    const id = rid('msg_01', 22);
    const u = plan.usage;
    const usageFull = {
      input_tokens: u.input_tokens,
      cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens,
      cache_creation: { ephemeral_5m_input_tokens: u.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
      output_tokens: u.output_tokens,
      service_tier: 'standard',
    };

    if (!body.stream) {
      if (plan.slow) {
        let gone = false;
        res.on('close', () => {
          if (!res.writableFinished) gone = true;
        });
        for (let t = 0; t < 10_000 && !gone && !closing; t += 20) await sleep(20);
        if (gone) return noteAbort();
      }
      return sendJson(
        res,
        200,
        { id, type: 'message', role: 'assistant', model, content: plan.blocks, stop_reason: plan.stopReason, stop_sequence: plan.stopSequence, usage: usageFull, container: null },
        commonHeaders(requestId),
      );
    }

    // ── streaming ──
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...commonHeaders(requestId) });
    res.flushHeaders();
    let finished = false;
    let aborted = false;
    res.on('close', () => {
      if (!finished) {
        aborted = true;
        noteAbort();
      }
    });
    const streamIndex = fake.streams.push('') - 1;
    const send = async (event: string, data: unknown) => {
      if (aborted || closing) return false;
      const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      fake.streams[streamIndex] += frame;
      res.write(frame);
      return true;
    };
    const delta = async (index: number, d: unknown) => {
      if (plan.slow) await sleep(20);
      else await new Promise<void>((r) => setImmediate(r));
      if (!(await send('content_block_delta', { type: 'content_block_delta', index, delta: d }))) return false;
      if (plan.ping) await send('ping', { type: 'ping' });
      return !aborted;
    };

    await send('message_start', {
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usageFull, output_tokens: 1 } },
    });
    await send('ping', { type: 'ping' });
    if (plan.future) await send('message_future', { type: 'message_future', note: 'an event type newer than this client' });
    if (plan.midstreamError) {
      await send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      await delta(0, { type: 'text_delta', text: 'Hel' });
      await send('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: requestId });
      finished = true;
      res.end();
      return;
    }
    for (let i = 0; i < plan.blocks.length; i++) {
      const b = plan.blocks[i]!;
      if (b.type === 'text') {
        await send('content_block_start', { type: 'content_block_start', index: i, content_block: b.citations ? { type: 'text', text: '', citations: [] } : { type: 'text', text: '' } });
        const pieces = chunk(b.text, 3);
        for (let p = 0; p < pieces.length; p++) {
          if (!(await delta(i, { type: 'text_delta', text: pieces[p] }))) return;
          if (p === 0 && b.citations) for (const citation of b.citations) if (!(await delta(i, { type: 'citations_delta', citation }))) return;
          if (p === 0 && plan.future) if (!(await delta(i, { type: 'future_delta', note: 'a delta type newer than this client' }))) return;
        }
      } else if (b.type === 'thinking') {
        await send('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'thinking', thinking: '', signature: '' } });
        for (const piece of chunk(b.thinking, 12)) if (!(await delta(i, { type: 'thinking_delta', thinking: piece }))) return;
        if (!(await delta(i, { type: 'signature_delta', signature: b.signature }))) return;
      } else {
        await send('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
        if (!(await delta(i, { type: 'input_json_delta', partial_json: '' }))) return;
        const json = JSON.stringify(b.input);
        if (json !== '{}') {
          const size = Math.max(1, Math.min(8, Math.ceil(json.length / 2)));
          for (const piece of chunk(json, size)) if (!(await delta(i, { type: 'input_json_delta', partial_json: piece }))) return;
        }
      }
      await send('content_block_stop', { type: 'content_block_stop', index: i });
    }
    if (aborted || closing) return;
    await send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence },
      usage: { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, output_tokens: u.output_tokens },
    });
    await send('message_stop', { type: 'message_stop' });
    finished = true;
    res.end();
    void req;
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `fake crashed: ${String(e?.stack ?? e)}` }, request_id: null }));
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
