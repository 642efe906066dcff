/**
 * Google Gemini API (generativelanguage.googleapis.com, v1beta) fake for the gateway's tests.
 *
 * `startGeminiFake()` starts a real HTTP server (node:http) on 127.0.0.1:0 that speaks the Gemini wire format
 * (shared/reference/provider-wire-formats.md §0 and §3) and validates every request about as strictly as the
 * real API (in places stricter, see "Stricter than the real API" below). Anything it rejects as invalid (a 4xx
 * that is not a scripted scenario error) is listed in `fake.rejected`; gateway tests assert it stays empty.
 *
 * Endpoints (root URL = `fake.url`, paths under /v1beta):
 *   POST /v1beta/models/{model}:generateContent
 *   POST /v1beta/models/{model}:streamGenerateContent?alt=sse   (SSE `data:` frames, no sentinel; some frames end
 *                                                                 in \r\n\r\n; without alt=sse: one JSON array)
 *   POST /v1beta/models/{model}:countTokens | :embedContent | :batchEmbedContents
 *   GET  /v1beta/models?pageSize=&pageToken=                      GET /v1beta/models/{model}
 * Auth: `x-goog-api-key` header or `?key=`. Missing → 403 PERMISSION_DENIED; wrong → 400 INVALID_ARGUMENT with an
 *       ErrorInfo detail of reason API_KEY_INVALID. Without `options.apiKey` any non-empty key is accepted.
 * Model pages: at most 2 models per page with the default list (so clients exercise `nextPageToken`); with
 *       `options.models` the default page size is 50 (max 1000); `options.pageSize` overrides the cap.
 *
 * ── Scenario markers ── (in the text parts of the LAST content with role "user")
 *   (none)            text `Hello from gemini! You said: <text>` (text parts joined by " "); streamed in 3-char
 *                     chunks, finishReason `STOP` on the last chunk only
 *   (tool turn)       the last user content holds functionResponse parts: text
 *                     `Tool results: <JSON.stringify(response) of each, joined by "; ">`
 *   [tools]           (request declares functions, mode not NONE; mode ANY forces it without the marker) two
 *                     functionCall parts of the first declared (or first allowed) function, args {"city":"Lisbon"}
 *                     and {"city":"Porto"}, NO ids; on thinking models (gemini-2.5*) the first carries a
 *                     `thoughtSignature`. finishReason STOP. Stream: one chunk per call.
 *   [thinking]        (or generationConfig.thinkingConfig.includeThoughts) on thinking models, unless
 *                     thinkingBudget is 0: a `{text: THOUGHT_TEXT, thought: true}` part first; the
 *                     turn's last text part then carries a `thoughtSignature` (a signature replayed on a
 *                     text part must be one the fake issued on a text part, byte for byte)
 *   [length]          finishReason MAX_TOKENS           [safety]  finishReason SAFETY, no content
 *   [blocked]         promptFeedback.blockReason SAFETY, no candidates
 *   [cache]           usageMetadata.cachedContentTokenCount = floor(promptTokenCount / 2)
 *   [error:429]       429 RESOURCE_EXHAUSTED with QuotaFailure + RetryInfo (retryDelay "1s") details
 *   [error:midstream] stream: first chunk, then `data: {"error":{"code":500,"message":"Internal error",
 *                     "status":"INTERNAL"}}` and the connection closes. Non-stream: 500 INTERNAL.
 *   [slow]            reply is the default text + " tick" × 300, one 3-char chunk every 20 ms (≈10 s);
 *                     non-stream: the reply is delayed up to 10 s
 * A client that goes away before a streaming (or [slow]) response finished counts in `abortedStreams`;
 * `waitForAbort()` resolves once per abort (queue semantics).
 *
 * ── Usage formula ── (deterministic; `geminiUsageFor(body, model)` returns the final usageMetadata)
 *   countWords(s)         = number of whitespace-separated words in s
 *   promptTokenCount  P   = countWords(systemInstruction text parts) + Σ over contents
 *                           (countWords(its non-thought text parts joined by " ") + 2)
 *   candidatesTokenCount  = countWords(reply text) + 5 × number of functionCall parts   (omitted when 0)
 *   thoughtsTokenCount    = countWords(thought text), EXCLUDED from candidatesTokenCount  (omitted when 0)
 *   totalTokenCount       = P + candidates + thoughts
 *   cachedContentTokenCount = floor(P / 2) with [cache] (a subset of P)
 *   Stream: every chunk carries the CUMULATIVE usageMetadata (candidatesTokenCount grows with the text so far).
 *   countTokens: { totalTokens: P }.
 * Embeddings: values[i] = Math.fround(((charCodeSum(text) * (i + 1)) % 1000) / 1000), 8 dims or
 *   `outputDimensionality`; text = the content's text parts joined by " ". (`fakeGeminiEmbedding`)
 *
 * ── Stricter than the real API (on purpose, so the gateway sends canonical requests) ──
 *   snake_case field names are rejected (the real proto-JSON parser accepts them); lowercase schema `type`
 *   values in `parameters`/`responseSchema` are rejected; `$ref` in `parametersJsonSchema` is rejected; a
 *   missing `role` is rejected; gemini-2.5 models require the thoughtSignature the fake issued on replay.
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
  /** root URL, e.g. http://127.0.0.1:PORT (paths are /v1beta/...) */
  url: string;
  requests: RecordedRequest[];
  rejected: Array<{ path: string; status: number; message: string }>;
  abortedStreams: number;
  waitForAbort(): Promise<void>;
  close(): Promise<void>;
}

export interface GeminiFakeOptions {
  apiKey?: string;
  models?: string[];
  pageSize?: number;
}

export const DEFAULT_GEMINI_MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash', 'gemini-embedding-001', 'text-embedding-004'];
export const THOUGHT_TEXT = 'The user wants a friendly reply. I will answer briefly.';
export const FUNCTION_ARGS = [{ city: 'Lisbon' }, { city: 'Porto' }] as const;

interface ModelMeta {
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  thinking: boolean;
  embedding: boolean;
  /** [min, max] thinkingBudget; 0 allowed when min is 0 */
  budget?: [number, number];
  maxDims?: number;
}

const GEN_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];
const MODEL_META: Record<string, ModelMeta> = {
  'gemini-2.5-pro': { version: '2.5', displayName: 'Gemini 2.5 Pro', description: 'Stable release (June 17th, 2025) of Gemini 2.5 Pro', inputTokenLimit: 1048576, outputTokenLimit: 65536, supportedGenerationMethods: GEN_METHODS, thinking: true, embedding: false, budget: [128, 32768] },
  'gemini-2.5-flash': { version: '001', displayName: 'Gemini 2.5 Flash', description: 'Stable version of Gemini 2.5 Flash', inputTokenLimit: 1048576, outputTokenLimit: 65536, supportedGenerationMethods: GEN_METHODS, thinking: true, embedding: false, budget: [0, 24576] },
  'gemini-2.0-flash': { version: '2.0', displayName: 'Gemini 2.0 Flash', description: 'Gemini 2.0 Flash', inputTokenLimit: 1048576, outputTokenLimit: 8192, supportedGenerationMethods: GEN_METHODS, thinking: false, embedding: false },
  'gemini-embedding-001': { version: '001', displayName: 'Gemini Embedding 001', description: 'Obtain a distributed representation of a text.', inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'], thinking: false, embedding: true, maxDims: 3072 },
  'text-embedding-004': { version: '004', displayName: 'Text Embedding 004', description: 'Obtain a distributed representation of a text.', inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent'], thinking: false, embedding: true, maxDims: 768 },
};
function modelMeta(id: string): ModelMeta {
  const known = MODEL_META[id];
  if (known) return known;
  if (id.includes('embedding')) return { version: '001', displayName: id, description: id, inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent'], thinking: false, embedding: true, maxDims: 3072 };
  const thinking = !/gemini-(1\.|2\.0)/.test(id);
  return { version: '001', displayName: id, description: id, inputTokenLimit: 1048576, outputTokenLimit: 65536, supportedGenerationMethods: GEN_METHODS, thinking, embedding: false, budget: thinking ? [0, 24576] : undefined };
}

// ───────────────────────────── pure helpers (exported for gateway tests) ─────────────────────────────

/** Number of whitespace-separated words. */
export function countWords(text: string | null | undefined): number {
  if (!text) return 0;
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The non-thought text parts of a Content, joined by " ". */
export function geminiContentText(content: any): string {
  const parts: any[] = Array.isArray(content?.parts) ? content.parts : [];
  return parts.filter((p) => typeof p?.text === 'string' && p.thought !== true).map((p) => p.text).join(' ');
}

/** promptTokenCount for a (valid) generateContent body. */
export function geminiPromptTokens(body: any): number {
  let n = countWords(geminiContentText(body?.systemInstruction));
  for (const c of Array.isArray(body?.contents) ? body.contents : []) n += countWords(geminiContentText(c)) + 2;
  return n;
}

export function defaultGeminiReply(userText: string): string {
  return `Hello from gemini! You said: ${userText}`;
}

/** Deterministic embedding of `text` (see header). */
export function fakeGeminiEmbedding(text: string, dims = 8): number[] {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
  return Array.from({ length: dims }, (_, i) => Math.fround(((sum * (i + 1)) % 1000) / 1000));
}

type OutPart = { text: string; thought?: true; thoughtSignature?: string } | { functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string };

interface Plan {
  scenario: 'ok' | 'error:429';
  parts: OutPart[];
  finishReason: string;
  blocked: boolean;
  midstreamError: boolean;
  slow: boolean;
  cache: boolean;
  prompt: number;
}

function lastUserContent(body: any): any {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  for (let i = contents.length - 1; i >= 0; i--) if (contents[i]?.role === 'user') return contents[i];
  return undefined;
}

function planGenerate(body: any, model: string, newSignature: (call: { name: string; args: unknown } | null) => string | undefined): Plan {
  const meta = modelMeta(model);
  const last = lastUserContent(body);
  const text = geminiContentText(last);
  const has = (m: string) => text.includes(m);
  const gc = isObj(body.generationConfig) ? body.generationConfig : {};
  const tc = isObj(gc.thinkingConfig) ? gc.thinkingConfig : {};
  const parts: OutPart[] = [];
  const slow = has('[slow]');

  if (meta.thinking && tc.thinkingBudget !== 0 && (has('[thinking]') || tc.includeThoughts === true)) parts.push({ text: THOUGHT_TEXT, thought: true });

  const decls: any[] = (Array.isArray(body.tools) ? body.tools : []).flatMap((t: any) => (Array.isArray(t?.functionDeclarations) ? t.functionDeclarations : []));
  const fcc = body.toolConfig?.functionCallingConfig ?? {};
  const mode = fcc.mode ?? 'AUTO';
  const responses: any[] = (last?.parts ?? []).filter((p: any) => isObj(p?.functionResponse)).map((p: any) => p.functionResponse);
  let finishReason = 'STOP';
  if (responses.length) {
    parts.push({ text: `Tool results: ${responses.map((r) => JSON.stringify(r.response)).join('; ')}` });
  } else if (decls.length && mode !== 'NONE' && (has('[tools]') || mode === 'ANY')) {
    const name: string = Array.isArray(fcc.allowedFunctionNames) && fcc.allowedFunctionNames.length ? fcc.allowedFunctionNames[0] : decls[0].name;
    FUNCTION_ARGS.forEach((a, i) => {
      const call = { name, args: { ...a } };
      const sig = i === 0 && meta.thinking ? newSignature(call) : undefined;
      parts.push(sig ? { functionCall: call, thoughtSignature: sig } : { functionCall: call });
    });
  } else if (has('[safety]')) {
    finishReason = 'SAFETY';
  } else if (!has('[blocked]')) {
    let reply = defaultGeminiReply(text);
    if (slow) reply += ' tick'.repeat(300);
    parts.push({ text: reply });
  }
  // After thinking, Gemini signs the turn's last text part when no function call carries the signature.
  const lastPart = parts[parts.length - 1];
  if (parts.some((p) => 'text' in p && p.thought) && lastPart && 'text' in lastPart && !lastPart.thought) lastPart.thoughtSignature = newSignature(null);
  if (has('[length]') && finishReason === 'STOP') finishReason = 'MAX_TOKENS';
  if (has('[safety]')) parts.length = 0;
  return {
    scenario: has('[error:429]') ? 'error:429' : 'ok',
    parts,
    finishReason,
    blocked: has('[blocked]'),
    midstreamError: has('[error:midstream]'),
    slow,
    cache: has('[cache]'),
    prompt: geminiPromptTokens(body),
  };
}

function usageOf(plan: Plan, parts: OutPart[]): Record<string, unknown> {
  let cand = 0;
  let thoughts = 0;
  for (const p of parts) {
    if ('functionCall' in p) cand += 5;
    else if (p.thought) thoughts += countWords(p.text);
    else cand += countWords(p.text);
  }
  const u: Record<string, unknown> = { promptTokenCount: plan.prompt };
  if (cand) u.candidatesTokenCount = cand;
  u.totalTokenCount = plan.prompt + cand + thoughts;
  if (plan.cache) {
    u.cachedContentTokenCount = Math.floor(plan.prompt / 2);
  }
  u.promptTokensDetails = [{ modality: 'TEXT', tokenCount: plan.prompt }];
  if (plan.cache) u.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: Math.floor(plan.prompt / 2) }];
  if (thoughts) u.thoughtsTokenCount = thoughts;
  return u;
}

/** The final usageMetadata the fake reports for a (valid) generateContent body. */
export function geminiUsageFor(body: any, model = 'gemini-2.5-flash'): Record<string, unknown> {
  const plan = planGenerate(body, model, () => 'sig');
  return usageOf(plan, plan.parts);
}

// ───────────────────────────── validation ─────────────────────────────

class HttpError extends Error {
  constructor(
    public status: number,
    public grpcStatus: string,
    message: string,
    public record = true,
    public details?: unknown[],
  ) {
    super(message);
  }
}

function fail(message: string, status = 400, grpc = 'INVALID_ARGUMENT', details?: unknown[]): never {
  throw new HttpError(status, grpc, message, true, details);
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** proto-style field errors */
function field(path: string, msg: string, req = 'GenerateContentRequest'): never {
  fail(`* ${req}.${path}: ${msg}\n`);
}
function unknownName(key: string, at: string): never {
  fail(at ? `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.` : `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
}
function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], at: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) unknownName(k, at);
}
function invalidValue(at: string, type: string, v: unknown): never {
  fail(`Invalid value at '${at}' (${type}), ${JSON.stringify(v)}`);
}
function requireObj(v: unknown, at: string): asserts v is Record<string, any> {
  if (!isObj(v)) fail(`Invalid value at '${at}' (type.googleapis.com/google.protobuf.Struct or message), ${JSON.stringify(v)}`);
}
function expectString(v: unknown, at: string): asserts v is string {
  if (typeof v !== 'string') invalidValue(at, 'TYPE_STRING', v);
}
function expectInt(v: unknown, at: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) invalidValue(at, 'TYPE_INT32', v);
}
function expectNumber(v: unknown, at: string): asserts v is number {
  if (typeof v !== 'number') invalidValue(at, 'TYPE_FLOAT', v);
}
function expectBool(v: unknown, at: string): asserts v is boolean {
  if (typeof v !== 'boolean') invalidValue(at, 'TYPE_BOOL', v);
}
function expectEnum(v: unknown, values: readonly string[], at: string, type: string): void {
  if (typeof v !== 'string' || !values.includes(v)) invalidValue(at, `type.googleapis.com/google.ai.generativelanguage.v1beta.${type}`, v);
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]*={0,2}$/;
const isBase64 = (s: string) => BASE64_RE.test(s) || BASE64URL_RE.test(s);

const PART_KEYS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult', 'thought', 'thoughtSignature', 'videoMetadata', 'mediaResolution', 'partMetadata'];
const DATA_KEYS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const FILE_URI_PREFIXES = ['https://generativelanguage.googleapis.com/', 'https://www.youtube.com/', 'https://youtube.com/', 'https://youtu.be/'];
const MIME_RE = /^(image|audio|video|text)\/[\w.+-]+$|^application\/(pdf|json|x-javascript|x-python)$/;

function validatePart(p: unknown, at: string, req: string): void {
  requireObj(p, at);
  checkKeys(p, PART_KEYS, at);
  const data = DATA_KEYS.filter((k) => p[k] !== undefined);
  if (data.length > 1) fail(`Invalid value at '${at}' (oneof), oneof field 'data' is already set. Cannot set '${data[1]}'`);
  if (data.length === 0 || (data[0] === 'text' && p.text === '')) field(`${at}.data`, "required oneof field 'data' must have one initialized field", req);
  if (p.thought !== undefined) expectBool(p.thought, `${at}.thought`);
  if (p.thoughtSignature !== undefined) {
    expectString(p.thoughtSignature, `${at}.thought_signature`);
    if (!isBase64(p.thoughtSignature)) invalidValue(`${at}.thought_signature`, 'TYPE_BYTES', `Base64 decoding failed for "${p.thoughtSignature}"`);
  }
  switch (data[0]) {
    case 'text':
      expectString(p.text, `${at}.text`);
      break;
    case 'inlineData': {
      const d = p.inlineData;
      requireObj(d, `${at}.inline_data`);
      checkKeys(d, ['mimeType', 'data', 'displayName'], `${at}.inline_data`);
      if (!d.mimeType) field(`${at}.inline_data.mime_type`, 'mime_type must be specified.', req);
      expectString(d.mimeType, `${at}.inline_data.mime_type`);
      if (!MIME_RE.test(d.mimeType)) fail(`Unsupported MIME type: ${d.mimeType}`);
      if (typeof d.data !== 'string' || d.data.length === 0) field(`${at}.inline_data.data`, 'data must be specified.', req);
      if (!isBase64(d.data)) invalidValue(`${at}.inline_data.data`, 'TYPE_BYTES', `Base64 decoding failed for "${d.data.slice(0, 40)}"`);
      break;
    }
    case 'fileData': {
      const f = p.fileData;
      requireObj(f, `${at}.file_data`);
      checkKeys(f, ['mimeType', 'fileUri', 'displayName'], `${at}.file_data`);
      if (typeof f.fileUri !== 'string' || !f.fileUri) field(`${at}.file_data.file_uri`, 'file_uri must be specified.', req);
      if (!FILE_URI_PREFIXES.some((pre) => f.fileUri.startsWith(pre))) field(`${at}.file_data.file_uri`, `Unsupported file uri: ${f.fileUri}`, req);
      if (f.mimeType !== undefined) expectString(f.mimeType, `${at}.file_data.mime_type`);
      break;
    }
    case 'functionCall': {
      const fc = p.functionCall;
      requireObj(fc, `${at}.function_call`);
      checkKeys(fc, ['id', 'name', 'args', 'partialArgs', 'willContinue'], `${at}.function_call`);
      if (typeof fc.name !== 'string' || !fc.name) field(`${at}.function_call.name`, 'Name cannot be empty.', req);
      if (fc.args !== undefined && !isObj(fc.args)) invalidValue(`${at}.function_call.args`, 'type.googleapis.com/google.protobuf.Struct', fc.args);
      if (fc.id !== undefined) expectString(fc.id, `${at}.function_call.id`);
      break;
    }
    case 'functionResponse': {
      const fr = p.functionResponse;
      requireObj(fr, `${at}.function_response`);
      checkKeys(fr, ['id', 'name', 'response', 'willContinue', 'scheduling', 'parts'], `${at}.function_response`);
      if (typeof fr.name !== 'string' || !fr.name) field(`${at}.function_response.name`, 'Name cannot be empty.', req);
      if (fr.response === undefined) field(`${at}.function_response.response`, 'response must be specified.', req);
      if (!isObj(fr.response)) invalidValue(`${at}.function_response.response`, 'type.googleapis.com/google.protobuf.Struct', fr.response);
      if (fr.id !== undefined) expectString(fr.id, `${at}.function_response.id`);
      break;
    }
    case 'executableCode':
      requireObj(p.executableCode, `${at}.executable_code`);
      break;
    case 'codeExecutionResult':
      requireObj(p.codeExecutionResult, `${at}.code_execution_result`);
      break;
  }
}

const SCHEMA_KEYS = ['type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum'];
const SCHEMA_TYPES = ['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL'];

/** OpenAPI-subset Schema (upper-case `type` enum), as in `parameters` and `responseSchema`. */
function validateSchema(s: unknown, at: string, root: boolean): void {
  requireObj(s, at);
  checkKeys(s, SCHEMA_KEYS, at);
  if (s.type !== undefined) expectEnum(s.type, SCHEMA_TYPES, `${at}.type`, 'Type');
  if (s.nullable !== undefined) expectBool(s.nullable, `${at}.nullable`);
  for (const k of ['format', 'title', 'description', 'pattern'] as const) if (s[k] !== undefined) expectString(s[k], `${at}.${snake(k)}`);
  if (s.enum !== undefined) {
    if (!Array.isArray(s.enum)) invalidValue(`${at}.enum`, 'TYPE_STRING', s.enum);
    s.enum.forEach((e: unknown, i: number) => expectString(e, `${at}.enum[${i}]`));
  }
  if (s.properties !== undefined) {
    requireObj(s.properties, `${at}.properties`);
    if (s.type !== 'OBJECT') field(`${at}.properties`, 'only allowed for OBJECT type');
    for (const [name, sub] of Object.entries(s.properties)) validateSchema(sub, `${at}.properties[${name}]`, false);
  }
  if (s.required !== undefined) {
    if (!Array.isArray(s.required)) invalidValue(`${at}.required`, 'TYPE_STRING', s.required);
    if (s.type !== 'OBJECT') field(`${at}.required`, 'only allowed for OBJECT type');
    s.required.forEach((r: unknown, i: number) => {
      expectString(r, `${at}.required[${i}]`);
      if (!isObj(s.properties) || !(r in s.properties)) field(`${at}.required[${i}]`, 'property is not defined');
    });
  }
  if (s.propertyOrdering !== undefined && !Array.isArray(s.propertyOrdering)) invalidValue(`${at}.property_ordering`, 'TYPE_STRING', s.propertyOrdering);
  if (s.type === 'OBJECT' && !root && (!isObj(s.properties) || Object.keys(s.properties).length === 0)) field(`${at}.properties`, 'should be non-empty for OBJECT type');
  if (s.items !== undefined) {
    if (s.type !== 'ARRAY') field(`${at}.items`, 'only allowed for ARRAY type');
    validateSchema(s.items, `${at}.items`, false);
  }
  if (s.type === 'ARRAY' && s.items === undefined) field(`${at}.items`, 'missing field.');
  if (s.anyOf !== undefined) {
    if (!Array.isArray(s.anyOf)) invalidValue(`${at}.any_of`, 'type.googleapis.com/google.ai.generativelanguage.v1beta.Schema', s.anyOf);
    s.anyOf.forEach((sub: unknown, i: number) => validateSchema(sub, `${at}.any_of[${i}]`, false));
  }
  for (const k of ['minItems', 'maxItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength'] as const) {
    if (s[k] !== undefined && !(typeof s[k] === 'number' && Number.isInteger(s[k])) && !(typeof s[k] === 'string' && /^\d+$/.test(s[k]))) invalidValue(`${at}.${snake(k)}`, 'TYPE_INT64', s[k]);
  }
  for (const k of ['minimum', 'maximum'] as const) if (s[k] !== undefined) expectNumber(s[k], `${at}.${k}`);
}

function findRef(v: unknown, at: string): string | null {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findRef(v[i], `${at}[${i}]`);
      if (r) return r;
    }
  } else if (isObj(v)) {
    for (const [k, sub] of Object.entries(v)) {
      if (k === '$ref') return `${at}.$ref`;
      const r = findRef(sub, `${at}.${k}`);
      if (r) return r;
    }
  }
  return null;
}

const TOP_LEVEL = ['model', 'contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'generationConfig', 'cachedContent', 'serviceTier'];
const GEN_CONFIG_KEYS = [
  'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'candidateCount', 'maxOutputTokens',
  'temperature', 'topP', 'topK', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs', 'logprobs', 'enableEnhancedCivicAnswers',
  'speechConfig', 'thinkingConfig', 'imageConfig', 'mediaResolution',
];
const HARM_CATEGORIES = ['HARM_CATEGORY_UNSPECIFIED', 'HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_SEXUALLY_EXPLICIT', 'HARM_CATEGORY_DANGEROUS_CONTENT', 'HARM_CATEGORY_CIVIC_INTEGRITY'];
const HARM_THRESHOLDS = ['HARM_BLOCK_THRESHOLD_UNSPECIFIED', 'BLOCK_LOW_AND_ABOVE', 'BLOCK_MEDIUM_AND_ABOVE', 'BLOCK_ONLY_HIGH', 'BLOCK_NONE', 'OFF'];
const FN_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/;

interface SignatureBook {
  /** signature → canonical key of the call it was issued with (null: issued on a text part) */
  bySig: Map<string, string | null>;
  /** canonical keys of calls issued with a signature */
  signedCalls: Set<string>;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
const callKey = (name: string, args: unknown) => `${name}|${canonical(args ?? {})}`;

function validateContents(contents: unknown, at: string, req: string, model: string, sigs: SignatureBook): void {
  if (contents === undefined || (Array.isArray(contents) && contents.length === 0)) field(`${at}`, 'contents is not specified', req);
  if (!Array.isArray(contents)) invalidValue(at, 'type.googleapis.com/google.ai.generativelanguage.v1beta.Content', contents);
  contents.forEach((c: unknown, i: number) => {
    const cat = `${at}[${i}]`;
    requireObj(c, cat);
    checkKeys(c, ['role', 'parts'], cat);
    if (c.role !== 'user' && c.role !== 'model') fail('Please use a valid role: user, model.');
    if (c.parts === undefined || (Array.isArray(c.parts) && c.parts.length === 0)) field(`${cat}.parts`, 'contents.parts must not be empty.', req);
    if (!Array.isArray(c.parts)) invalidValue(`${cat}.parts`, 'type.googleapis.com/google.ai.generativelanguage.v1beta.Part', c.parts);
    c.parts.forEach((p: unknown, j: number) => validatePart(p, `${cat}.parts[${j}]`, req));
  });
  const checkSignatures = modelMeta(model).thinking;
  contents.forEach((c: any, i: number) => {
    const calls = c.parts.filter((p: any) => p.functionCall);
    const responses = c.parts.filter((p: any) => p.functionResponse);
    if (c.role === 'model' && calls.length) {
      const prev = contents[i - 1];
      if (!prev || prev.role !== 'user') fail('Please ensure that function call turn comes immediately after a user turn or after a function response turn.');
    }
    if (responses.length) {
      const prev = contents[i - 1];
      const prevCalls: any[] = prev && prev.role === 'model' ? prev.parts.filter((p: any) => p.functionCall).map((p: any) => p.functionCall) : [];
      if (c.role !== 'user' || prevCalls.length === 0) fail('Please ensure that function response turn comes immediately after a function call turn.');
      if (responses.length !== prevCalls.length) fail('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
      const open = [...prevCalls];
      c.parts.forEach((p: any, j: number) => {
        if (!p.functionResponse) return;
        const fr = p.functionResponse;
        const k = open.findIndex((fc) => fc.name === fr.name && (fr.id === undefined || fc.id === fr.id));
        if (k < 0) {
          const why = fr.id !== undefined ? `id "${fr.id}" and name "${fr.name}"` : `name "${fr.name}"`;
          field(`${at}[${i}].parts[${j}].function_response`, `Function response with ${why} does not match any function call in the preceding model turn.`, req);
        }
        open.splice(k, 1);
      });
    }
    if (c.role === 'model' && checkSignatures) {
      let position = 0;
      c.parts.forEach((p: any, j: number) => {
        position++;
        const key = p.functionCall ? callKey(p.functionCall.name, p.functionCall.args) : null;
        if (p.thoughtSignature !== undefined) {
          const issuedFor = sigs.bySig.get(p.thoughtSignature);
          if (issuedFor === undefined || issuedFor !== key) field(`${at}[${i}].parts[${j}].thought_signature`, 'Thought signature is not valid.', req);
        } else if (key && sigs.signedCalls.has(key)) {
          fail(`Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${p.functionCall.name}\` , position ${position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`);
        }
      });
    }
  });
}

function validateGenerate(body: unknown, model: string, sigs: SignatureBook, req = 'GenerateContentRequest', prefix = ''): void {
  if (!isObj(body)) fail('Invalid JSON payload received. Expected an object.');
  checkKeys(body, TOP_LEVEL, prefix.replace(/\.$/, ''));
  const P = (s: string) => `${prefix}${s}`;
  if (prefix && body.model === undefined) field(P('model'), 'model must be specified.', req);
  if (body.model !== undefined && body.model !== `models/${model}`) field(P('model'), `model must be "models/${model}" (the model in the URL)`, req);
  validateContents(body.contents, P('contents'), req, model, sigs);

  if (body.systemInstruction !== undefined) {
    const si = body.systemInstruction;
    requireObj(si, P('system_instruction'));
    checkKeys(si, ['role', 'parts'], P('system_instruction'));
    if (!Array.isArray(si.parts) || si.parts.length === 0) field(P('system_instruction.parts'), 'contents.parts must not be empty.', req);
    si.parts.forEach((p: unknown, j: number) => validatePart(p, P(`system_instruction.parts[${j}]`), req));
  }

  // tools
  const names: string[] = [];
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) invalidValue(P('tools'), 'type.googleapis.com/google.ai.generativelanguage.v1beta.Tool', body.tools);
    body.tools.forEach((t: unknown, i: number) => {
      const tat = P(`tools[${i}]`);
      requireObj(t, tat);
      checkKeys(t, ['functionDeclarations', 'googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext', 'fileSearch', 'computerUse', 'googleMaps'], tat);
      if (t.functionDeclarations === undefined) return;
      if (!Array.isArray(t.functionDeclarations)) invalidValue(`${tat}.function_declarations`, 'type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration', t.functionDeclarations);
      t.functionDeclarations.forEach((d: unknown, j: number) => {
        const dat = `${tat}.function_declarations[${j}]`;
        requireObj(d, dat);
        checkKeys(d, ['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema', 'behavior'], dat);
        if (typeof d.name !== 'string' || !FN_NAME_RE.test(d.name)) {
          field(`${dat}.name`, 'Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.', req);
        }
        if (names.includes(d.name)) field(`${dat}.name`, `Duplicate function declaration found: ${d.name}`, req);
        names.push(d.name);
        if (d.description !== undefined) expectString(d.description, `${dat}.description`);
        if (d.parameters !== undefined && d.parametersJsonSchema !== undefined) field(`${dat}`, 'parameters and parameters_json_schema cannot both be set.', req);
        if (d.parameters !== undefined) validateSchema(d.parameters, `${dat}.parameters`, true);
        if (d.parametersJsonSchema !== undefined) {
          if (!isObj(d.parametersJsonSchema)) invalidValue(`${dat}.parameters_json_schema`, 'type.googleapis.com/google.protobuf.Value', d.parametersJsonSchema);
          const ref = findRef(d.parametersJsonSchema, `${dat}.parameters_json_schema`);
          if (ref) field(ref, '$ref is not supported; inline the referenced schema.', req);
        }
        if (d.response !== undefined) validateSchema(d.response, `${dat}.response`, true);
      });
    });
  }

  // toolConfig
  if (body.toolConfig !== undefined) {
    const tc = body.toolConfig;
    requireObj(tc, P('tool_config'));
    checkKeys(tc, ['functionCallingConfig', 'retrievalConfig'], P('tool_config'));
    if (tc.functionCallingConfig !== undefined) {
      const f = tc.functionCallingConfig;
      const fat = P('tool_config.function_calling_config');
      requireObj(f, fat);
      checkKeys(f, ['mode', 'allowedFunctionNames'], fat);
      if (f.mode !== undefined) expectEnum(f.mode, ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'], `${fat}.mode`, 'FunctionCallingConfig.Mode');
      if (f.allowedFunctionNames !== undefined) {
        if (!Array.isArray(f.allowedFunctionNames)) invalidValue(`${fat}.allowed_function_names`, 'TYPE_STRING', f.allowedFunctionNames);
        if (f.mode !== 'ANY' && f.mode !== 'VALIDATED') field(`${fat}.allowed_function_names`, 'allowed_function_names should only be set when the function calling mode is ANY or VALIDATED.', req);
        f.allowedFunctionNames.forEach((n: unknown, i: number) => {
          expectString(n, `${fat}.allowed_function_names[${i}]`);
          if (!names.includes(n)) field(`${fat}.allowed_function_names[${i}]`, `Function "${n}" is not declared in tools.`, req);
        });
      }
    }
  }

  // safetySettings
  if (body.safetySettings !== undefined) {
    if (!Array.isArray(body.safetySettings)) invalidValue(P('safety_settings'), 'type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting', body.safetySettings);
    body.safetySettings.forEach((s: unknown, i: number) => {
      const sat = P(`safety_settings[${i}]`);
      requireObj(s, sat);
      checkKeys(s, ['category', 'threshold', 'method'], sat);
      expectEnum(s.category, HARM_CATEGORIES, `${sat}.category`, 'HarmCategory');
      expectEnum(s.threshold, HARM_THRESHOLDS, `${sat}.threshold`, 'SafetySetting.HarmBlockThreshold');
    });
  }

  if (body.cachedContent !== undefined) {
    expectString(body.cachedContent, P('cached_content'));
    fail(`CachedContent not found (or permission denied)`, 403, 'PERMISSION_DENIED');
  }

  // generationConfig
  if (body.generationConfig !== undefined) {
    const gc = body.generationConfig;
    const gat = P('generation_config');
    requireObj(gc, gat);
    checkKeys(gc, GEN_CONFIG_KEYS, gat);
    const meta = modelMeta(model);
    if (gc.temperature !== undefined) {
      expectNumber(gc.temperature, `${gat}.temperature`);
      if (gc.temperature < 0 || gc.temperature > 2) field(`${gat}.temperature`, 'temperature must be in the range [0.0, 2.0]', req);
    }
    if (gc.topP !== undefined) {
      expectNumber(gc.topP, `${gat}.top_p`);
      if (gc.topP < 0 || gc.topP > 1) field(`${gat}.top_p`, 'top_p must be in the range [0.0, 1.0]', req);
    }
    if (gc.topK !== undefined) expectInt(gc.topK, `${gat}.top_k`);
    if (gc.seed !== undefined) expectInt(gc.seed, `${gat}.seed`);
    if (gc.presencePenalty !== undefined) expectNumber(gc.presencePenalty, `${gat}.presence_penalty`);
    if (gc.frequencyPenalty !== undefined) expectNumber(gc.frequencyPenalty, `${gat}.frequency_penalty`);
    if (gc.candidateCount !== undefined) {
      expectInt(gc.candidateCount, `${gat}.candidate_count`);
      if (gc.candidateCount < 1 || gc.candidateCount > 8) field(`${gat}.candidate_count`, 'candidate_count must be in the range [1, 8]', req);
    }
    if (gc.maxOutputTokens !== undefined) {
      expectInt(gc.maxOutputTokens, `${gat}.max_output_tokens`);
      if (gc.maxOutputTokens < 1 || gc.maxOutputTokens > meta.outputTokenLimit) {
        fail(`Unable to submit request because it has a maxOutputTokens value of ${gc.maxOutputTokens} but the supported range is from 1 (inclusive) to ${meta.outputTokenLimit + 1} (exclusive). Update the value and try again.`);
      }
    }
    if (gc.stopSequences !== undefined) {
      if (!Array.isArray(gc.stopSequences)) invalidValue(`${gat}.stop_sequences`, 'TYPE_STRING', gc.stopSequences);
      gc.stopSequences.forEach((s: unknown, i: number) => expectString(s, `${gat}.stop_sequences[${i}]`));
      if (gc.stopSequences.length > 5) field(`${gat}.stop_sequences`, 'the number of stop_sequences must not exceed 5.', req);
    }
    if (gc.responseLogprobs !== undefined) expectBool(gc.responseLogprobs, `${gat}.response_logprobs`);
    if (gc.logprobs !== undefined) {
      expectInt(gc.logprobs, `${gat}.logprobs`);
      if (gc.responseLogprobs !== true) field(`${gat}.logprobs`, 'logprobs can only be set when response_logprobs is true.', req);
    }
    if (gc.responseModalities !== undefined) {
      if (!Array.isArray(gc.responseModalities)) invalidValue(`${gat}.response_modalities`, 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality', gc.responseModalities);
      gc.responseModalities.forEach((m: unknown, i: number) => expectEnum(m, ['MODALITY_UNSPECIFIED', 'TEXT', 'IMAGE', 'AUDIO'], `${gat}.response_modalities[${i}]`, 'GenerationConfig.Modality'));
    }
    if (gc.responseMimeType !== undefined) {
      expectString(gc.responseMimeType, `${gat}.response_mime_type`);
      if (!['text/plain', 'application/json', 'application/xml', 'application/yaml', 'text/x.enum'].includes(gc.responseMimeType)) {
        field(`${gat}.response_mime_type`, 'allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.', req);
      }
    }
    if (gc.responseSchema !== undefined && gc.responseJsonSchema !== undefined) field(`${gat}`, 'response_schema and response_json_schema cannot both be set.', req);
    if (gc.responseSchema !== undefined) {
      if (gc.responseMimeType !== 'application/json' && gc.responseMimeType !== 'text/x.enum') field(`${gat}.response_mime_type`, 'response_mime_type must be application/json or text/x.enum when response_schema is set.', req);
      validateSchema(gc.responseSchema, `${gat}.response_schema`, false);
    }
    if (gc.responseJsonSchema !== undefined) {
      if (gc.responseMimeType !== 'application/json') field(`${gat}.response_mime_type`, 'response_mime_type must be application/json when response_json_schema is set.', req);
      if (!isObj(gc.responseJsonSchema) && typeof gc.responseJsonSchema !== 'boolean') invalidValue(`${gat}.response_json_schema`, 'type.googleapis.com/google.protobuf.Value', gc.responseJsonSchema);
    }
    if (gc.thinkingConfig !== undefined) {
      const t = gc.thinkingConfig;
      const tat = `${gat}.thinking_config`;
      requireObj(t, tat);
      checkKeys(t, ['includeThoughts', 'thinkingBudget', 'thinkingLevel'], tat);
      if (t.includeThoughts !== undefined) expectBool(t.includeThoughts, `${tat}.include_thoughts`);
      if (t.thinkingLevel !== undefined) {
        expectEnum(t.thinkingLevel, ['THINKING_LEVEL_UNSPECIFIED', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH'], `${tat}.thinking_level`, 'ThinkingConfig.ThinkingLevel');
        if (/gemini-2\./.test(model)) fail('Thinking level is not supported for this model.');
      }
      if (t.thinkingBudget !== undefined) {
        expectInt(t.thinkingBudget, `${tat}.thinking_budget`);
        const b = t.thinkingBudget;
        if (!meta.thinking && b !== 0) fail('Thinking is not enabled for this model.');
        if (meta.budget && b !== -1) {
          const [lo, hi] = meta.budget;
          if (b === 0 && lo > 0) fail('Budget 0 is invalid. This model only works in thinking mode.');
          if (b !== 0 && (b < Math.max(lo, 1) || b > hi)) fail(`The thinking budget ${b} is invalid. Please choose a value between ${lo} and ${hi}.`);
        }
      }
    }
  }
}

// ───────────────────────────── server ─────────────────────────────

function rid(n = 22): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (const b of randomBytes(n)) s += chars[b % chars.length];
  return s;
}

function chunk(s: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const TASK_TYPES = ['TASK_TYPE_UNSPECIFIED', 'RETRIEVAL_QUERY', 'RETRIEVAL_DOCUMENT', 'SEMANTIC_SIMILARITY', 'CLASSIFICATION', 'CLUSTERING', 'QUESTION_ANSWERING', 'FACT_VERIFICATION', 'CODE_RETRIEVAL_QUERY'];

const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
];

export async function startGeminiFake(options: GeminiFakeOptions = {}): Promise<ProviderFake> {
  const models = options.models ?? DEFAULT_GEMINI_MODELS;
  const maxPage = options.pageSize ?? (options.models ? 1000 : 2);
  const defaultPage = Math.min(options.models ? 50 : 2, maxPage);
  const sigs: SignatureBook = { bySig: new Map(), signedCalls: new Set() };
  const sockets = new Set<Socket>();
  let closing = false;
  const abortWaiters: Array<{ target: number; resolve: () => void }> = [];
  let abortClaims = 0;

  const fake: ProviderFake = {
    url: '',
    requests: [],
    rejected: [],
    abortedStreams: 0,
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

  const sendJson = (res: http.ServerResponse, status: number, body: unknown) => {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(data).toString(), vary: 'Origin, X-Origin, Referer', 'server-timing': 'gfet4t7; dur=12' });
    res.end(data);
  };
  const sendError = (res: http.ServerResponse, path: string, e: HttpError) => {
    if (e.record) fake.rejected.push({ path, status: e.status, message: e.message });
    sendJson(res, e.status, { error: { code: e.status, message: e.message, status: e.grpcStatus, ...(e.details ? { details: e.details } : {}) } });
  };
  const modelInfo = (id: string) => {
    const m = modelMeta(id);
    const base: Record<string, unknown> = {
      name: `models/${id}`,
      version: m.version,
      displayName: m.displayName,
      description: m.description,
      inputTokenLimit: m.inputTokenLimit,
      outputTokenLimit: m.outputTokenLimit,
      supportedGenerationMethods: m.supportedGenerationMethods,
    };
    if (!m.embedding) Object.assign(base, { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2 });
    if (m.thinking) base.thinking = true;
    return base;
  };
  const notFound = (id: string, method: string): never =>
    fail(`models/${id} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`, 404, 'NOT_FOUND');

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

    try {
      const headerKey = req.headers['x-goog-api-key'];
      const key = typeof headerKey === 'string' && headerKey !== '' ? headerKey : query.key;
      if (!key) {
        fail('Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.', 403, 'PERMISSION_DENIED');
      }
      if (options.apiKey !== undefined && key !== options.apiKey) {
        fail('API key not valid. Please pass a valid API key.', 400, 'INVALID_ARGUMENT', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
        ]);
      }

      if (req.method === 'GET' && path === '/v1beta/models') {
        let size = defaultPage;
        if (query.pageSize !== undefined) {
          size = Number(query.pageSize);
          if (!Number.isInteger(size) || size < 0) invalidValue('page_size', 'TYPE_INT32', query.pageSize);
          if (size === 0) size = defaultPage;
        }
        size = Math.min(size, maxPage, 1000);
        let start = 0;
        if (query.pageToken) {
          const decoded = /^offset:(\d+)$/.exec(Buffer.from(query.pageToken, 'base64url').toString('utf8'));
          if (!decoded) fail('Invalid page token.');
          start = Number(decoded[1]);
        }
        const page = models.slice(start, start + size);
        const out: Record<string, unknown> = { models: page.map(modelInfo) };
        if (start + size < models.length) out.nextPageToken = Buffer.from(`offset:${start + size}`).toString('base64url');
        return sendJson(res, 200, out);
      }
      const getMatch = /^\/v1beta\/models\/([^/:]+)$/.exec(path);
      if (req.method === 'GET' && getMatch) {
        const id = decodeURIComponent(getMatch[1]!);
        if (!models.includes(id)) fail(`models/${id} is not found for API version v1beta, or is not supported for GetModel. Call ListModels to see the list of available models and their supported methods.`, 404, 'NOT_FOUND');
        return sendJson(res, 200, modelInfo(id));
      }
      const postMatch = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/.exec(path);
      if (req.method === 'POST' && postMatch) {
        const id = decodeURIComponent(postMatch[1]!);
        const method = postMatch[2]!;
        if (!['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'].includes(method)) fail(`Method not found: ${method}`, 404, 'NOT_FOUND');
        if (badJson) fail(`Invalid JSON payload received. Unexpected token.\n${raw.slice(0, 40)}\n^`);
        if (!models.includes(id)) notFound(id, method);
        const meta = modelMeta(id);
        if (method === 'embedContent' || method === 'batchEmbedContents') {
          if (!meta.embedding) notFound(id, method);
          return handleEmbed(res, id, method, body);
        }
        if (meta.embedding && method !== 'countTokens') notFound(id, method);
        if (method === 'countTokens') {
          if (!isObj(body)) fail('Invalid JSON payload received. Expected an object.');
          checkKeys(body, ['contents', 'generateContentRequest'], '');
          if (body.contents !== undefined && body.generateContentRequest !== undefined) fail('* CountTokensRequest: contents and generate_content_request cannot both be set.\n');
          if (body.generateContentRequest !== undefined) {
            validateGenerate(body.generateContentRequest, id, sigs, 'CountTokensRequest', 'generate_content_request.');
            const n = geminiPromptTokens(body.generateContentRequest);
            return sendJson(res, 200, { totalTokens: n, promptTokensDetails: [{ modality: 'TEXT', tokenCount: n }] });
          }
          validateContents(body.contents, 'contents', 'CountTokensRequest', id, sigs);
          const n = geminiPromptTokens(body);
          return sendJson(res, 200, { totalTokens: n, promptTokensDetails: [{ modality: 'TEXT', tokenCount: n }] });
        }
        validateGenerate(body, id, sigs);
        return await respondGenerate(res, body, id, method === 'streamGenerateContent', query.alt === 'sse');
      }
      fail(`The requested URL ${path} was not found on this server.`, 404, 'NOT_FOUND');
    } catch (e) {
      if (e instanceof HttpError) return sendError(res, path, e);
      throw e;
    }
  };

  const embedOne = (r: unknown, at: string, req: string, model: string): number[] => {
    requireObj(r, at || 'request');
    checkKeys(r, ['model', 'content', 'taskType', 'title', 'outputDimensionality'], at);
    const P = (s: string) => (at ? `${at}.${s}` : s);
    if (r.content === undefined) field(P('content'), 'content must be specified.', req);
    requireObj(r.content, P('content'));
    checkKeys(r.content, ['role', 'parts'], P('content'));
    if (!Array.isArray(r.content.parts) || r.content.parts.length === 0) field(P('content.parts'), 'contents.parts must not be empty.', req);
    r.content.parts.forEach((p: unknown, j: number) => {
      validatePart(p, P(`content.parts[${j}]`), req);
      if (typeof (p as any).text !== 'string') field(P(`content.parts[${j}]`), 'Only text is supported for embeddings.', req);
    });
    if (r.taskType !== undefined) expectEnum(r.taskType, TASK_TYPES, P('task_type'), 'TaskType');
    if (r.title !== undefined) expectString(r.title, P('title'));
    let dims = 8;
    if (r.outputDimensionality !== undefined) {
      expectInt(r.outputDimensionality, P('output_dimensionality'));
      const max = modelMeta(model).maxDims ?? 3072;
      if (r.outputDimensionality < 1 || r.outputDimensionality > max) field(P('output_dimensionality'), `output_dimensionality must be in the range [1, ${max}].`, req);
      dims = r.outputDimensionality;
    }
    const text = r.content.parts.map((p: any) => p.text).join(' ');
    return fakeGeminiEmbedding(text, dims);
  };

  const handleEmbed = (res: http.ServerResponse, model: string, method: string, body: any) => {
    if (method === 'embedContent') {
      if (isObj(body) && body.model !== undefined && body.model !== `models/${model}`) field('model', `model must be "models/${model}" (the model in the URL)`, 'EmbedContentRequest');
      const values = embedOne(body, '', 'EmbedContentRequest', model);
      return sendJson(res, 200, { embedding: { values } });
    }
    if (!isObj(body)) fail('Invalid JSON payload received. Expected an object.');
    checkKeys(body, ['requests'], '');
    if (!Array.isArray(body.requests) || body.requests.length === 0) field('requests', 'requests must not be empty.', 'BatchEmbedContentsRequest');
    const embeddings = body.requests.map((r: any, i: number) => {
      if (!isObj(r) || r.model !== `models/${model}`) {
        field(`requests[${i}].model`, `Model "${isObj(r) ? String(r.model) : ''}" in the request does not match the model "models/${model}" in the URL.`, 'BatchEmbedContentsRequest');
      }
      return { values: embedOne(r, `requests[${i}]`, 'BatchEmbedContentsRequest', model) };
    });
    return sendJson(res, 200, { embeddings });
  };

  const respondGenerate = async (res: http.ServerResponse, body: any, model: string, stream: boolean, sse: boolean) => {
    const plan = planGenerate(body, model, (call) => {
      const sig = randomBytes(48).toString('base64');
      const key = call ? callKey(call.name, call.args) : null;
      sigs.bySig.set(sig, key);
      if (key !== null) sigs.signedCalls.add(key);
      return sig;
    });
    if (plan.scenario === 'error:429') {
      throw new HttpError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.', false, [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaDimensions: { location: 'global', model }, quotaValue: '10' }],
        },
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
      ]);
    }
    if (plan.midstreamError && !stream) throw new HttpError(500, 'INTERNAL', 'Internal error', false);
    const responseId = rid();
    const envelope = (candidates: unknown[] | undefined, usage: Record<string, unknown>) => {
      const out: Record<string, unknown> = {};
      if (candidates) out.candidates = candidates;
      if (plan.blocked) out.promptFeedback = { blockReason: 'SAFETY', safetyRatings: SAFETY_RATINGS };
      out.usageMetadata = usage;
      out.modelVersion = model;
      out.responseId = responseId;
      return out;
    };
    const candidate = (parts: OutPart[], finish: string | undefined) => {
      const c: Record<string, unknown> = {};
      if (parts.length) c.content = { parts, role: 'model' };
      if (finish) c.finishReason = finish;
      if (finish === 'SAFETY') c.safetyRatings = SAFETY_RATINGS;
      c.index = 0;
      return c;
    };

    if (!stream) {
      if (plan.slow) {
        let gone = false;
        res.on('close', () => {
          if (!res.writableFinished) gone = true;
        });
        for (let t = 0; t < 10_000 && !gone && !closing; t += 20) await sleep(20);
        if (gone) return noteAbort();
      }
      const cands = plan.blocked ? undefined : [candidate(plan.parts, plan.finishReason)];
      return sendJson(res, 200, envelope(cands, usageOf(plan, plan.parts)));
    }

    // Build the stream frames: each carries only the new parts, plus cumulative usage.
    const pieces: OutPart[][] = [];
    for (const p of plan.parts) {
      if ('text' in p && !p.thought) {
        const chunks = chunk(p.text, 3);
        chunks.forEach((c, i) => pieces.push([i === chunks.length - 1 && p.thoughtSignature ? { text: c, thoughtSignature: p.thoughtSignature } : { text: c }]));
      }
      else pieces.push([p]);
    }
    const frames: Record<string, unknown>[] = [];
    if (plan.blocked) frames.push(envelope(undefined, usageOf(plan, [])));
    else if (pieces.length === 0) frames.push(envelope([candidate([], plan.finishReason)], usageOf(plan, [])));
    else {
      const soFar: OutPart[] = [];
      let textSoFar = '';
      pieces.forEach((piece, i) => {
        for (const p of piece) {
          if ('text' in p && !p.thought) textSoFar += p.text;
          else soFar.push(p);
        }
        const acc: OutPart[] = textSoFar ? [...soFar, { text: textSoFar }] : [...soFar];
        frames.push(envelope([candidate(piece, i === pieces.length - 1 ? plan.finishReason : undefined)], usageOf(plan, acc)));
      });
    }

    if (!sse) {
      // Without alt=sse the API answers with one JSON array of the response objects.
      return sendJson(res, 200, frames);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', vary: 'Origin, X-Origin, Referer' });
    res.flushHeaders();
    let finished = false;
    let aborted = false;
    res.on('close', () => {
      if (!finished) {
        aborted = true;
        noteAbort();
      }
    });
    for (let i = 0; i < frames.length; i++) {
      if (plan.slow) await sleep(20);
      else await new Promise<void>((r) => setImmediate(r));
      if (aborted || closing) return;
      res.write(`data: ${JSON.stringify(frames[i])}${i % 2 === 1 ? '\r\n\r\n' : '\n\n'}`);
      if (plan.midstreamError) {
        await new Promise<void>((r) => setImmediate(r));
        res.write(`data: ${JSON.stringify({ error: { code: 500, message: 'Internal error', status: 'INTERNAL' } })}\n\n`);
        break;
      }
    }
    finished = true;
    res.end();
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 500, message: `fake crashed: ${String(e?.stack ?? e)}`, status: 'INTERNAL' } }));
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
