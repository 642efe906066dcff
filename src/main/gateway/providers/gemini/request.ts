/**
 * Core request → Gemini `generateContent` request. Sampling and output settings go in
 * `generationConfig`; tools, tool choice and the system instruction at the top level (as
 * js-genai sends them). Parameters Gemini has no equivalent for are dropped with a recorded
 * warning, never forwarded.
 *
 * A request decoded from OpenAI's chat format may keep fields with no neutral meaning in its
 * `extensions` (family `openai`); two of them have a Gemini equivalent and are read here:
 * a `tool_choice` of type `allowed_tools` (→ ANY / VALIDATED with allowedFunctionNames) and a
 * tools list or response_format the decoder kept whole. Every other extension field is
 * dropped with a warning, in the client's field order.
 */
import { invalidRequest } from '../../errors.js';
import type { CoreRequest, CoreToolChoice } from '../../../core/types.js';
import type { RequestWarning } from '../../types.js';
import type { PreparedRequest, UpstreamTarget } from '../types.js';
import { convertMessages } from './contents.js';
import { toGeminiJsonSchema } from './schema.js';
import { thinkingConfigFor } from './thinking.js';
import type { GeminiFunctionCallingConfig, GeminiFunctionDeclaration, GeminiGenerateContentRequest, GeminiGenerationConfig } from './wire-types.js';

/** Gemini accepts at most this many stop sequences. */
const MAX_STOP_SEQUENCES = 5;

/** Client fields (OpenAI chat names) this module translates, or that the gateway itself handles. */
const TRANSLATED = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'stop',
  'max_tokens',
  'max_completion_tokens',
  'tools',
  'tool_choice',
  'response_format',
  'reasoning_effort',
]);

/**
 * Fields with no Gemini equivalent, and the values at which leaving them out changes
 * nothing (no warning then).
 */
const HARMLESS_WHEN: Record<string, (value: unknown) => boolean> = {
  parallel_tool_calls: (value) => value === true,
  logprobs: (value) => value === false,
  store: (value) => value === false,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function warnDropped(parameter: string, reason: string, warnings: RequestWarning[]): void {
  warnings.push({ type: 'unsupported-parameter', parameter, message: `${parameter} dropped: ${reason}` });
}

/** The bare model id Gemini puts in its URL (`models/` prefix removed). */
export function bareModel(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}

/** The OpenAI-family extension fields of a request (none for other families). */
function openAIExtensions(core: CoreRequest): Record<string, unknown> {
  return core.extensions?.family === 'openai' ? core.extensions.fields : {};
}

function declaration(name: string, description: unknown, parameters: unknown, index: number): GeminiFunctionDeclaration {
  const result: GeminiFunctionDeclaration = { name };
  if (typeof description === 'string' && description.length > 0) result.description = description;
  if (parameters !== undefined && parameters !== null) result.parametersJsonSchema = toGeminiJsonSchema(parameters, `tools[${index}].function.parameters`);
  return result;
}

function functionDeclarations(core: CoreRequest, warnings: RequestWarning[]): GeminiFunctionDeclaration[] {
  const declarations: GeminiFunctionDeclaration[] = [];
  const kept = openAIExtensions(core).tools;
  if (Array.isArray(kept)) {
    // A tools list the OpenAI decoder kept whole (a hosted tool among them, or extra keys).
    kept.forEach((tool, index) => {
      const type = isRecord(tool) && typeof tool.type === 'string' ? tool.type : 'unknown';
      if (type !== 'function' || !isRecord(tool) || !isRecord(tool.function)) {
        warnDropped(`tools[${index}]`, `Gemini has no '${type}' tools`, warnings);
        return;
      }
      declarations.push(declaration(String(tool.function.name), tool.function.description, tool.function.parameters, index));
    });
    return declarations;
  }
  core.tools.forEach((tool, index) => {
    if (tool.type === 'function') declarations.push(declaration(tool.name, tool.description, tool.parameters, index));
    else warnDropped(`tools[${index}]`, `Gemini has no '${tool.type === 'hosted' ? tool.kind : tool.type}' tools`, warnings);
  });
  return declarations;
}

function namedFunction(choice: Record<string, unknown>): string | null {
  const fn = choice.function;
  return typeof fn === 'object' && fn !== null && typeof (fn as { name?: unknown }).name === 'string' ? (fn as { name: string }).name : null;
}

/** The core tool choice in the client's words, or the client's own kept whole. */
function toolChoiceOf(core: CoreRequest): unknown {
  const kept = openAIExtensions(core).tool_choice;
  if (kept !== undefined) return kept;
  const choice: CoreToolChoice | null = core.toolChoice;
  if (!choice) return null;
  return choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

function functionCallingConfig(choice: unknown, declared: Set<string>, warnings: RequestWarning[]): GeminiFunctionCallingConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'required') return { mode: 'ANY' };
  if (choice === 'none') return { mode: 'NONE' };
  if (!isRecord(choice)) return undefined;
  const checkName = (name: string, param: string): string => {
    if (!declared.has(name)) throw invalidRequest(`'${param}' names the function '${name}', which is not among the request's tools.`, param, 'invalid_value');
    return name;
  };
  if (choice.type === 'function') {
    const name = namedFunction(choice);
    if (!name) throw invalidRequest("'tool_choice.function.name' is required.", 'tool_choice.function.name', 'missing_required_parameter');
    return { mode: 'ANY', allowedFunctionNames: [checkName(name, 'tool_choice.function.name')] };
  }
  if (choice.type === 'allowed_tools' && isRecord(choice.allowed_tools)) {
    // OpenAI's "only these tools": required → ANY, auto → VALIDATED (call one of them or answer).
    const allowed = choice.allowed_tools;
    const names = (Array.isArray(allowed.tools) ? allowed.tools : [])
      .map((tool) => (isRecord(tool) ? namedFunction(tool) : null))
      .filter((name): name is string => name !== null)
      .map((name) => checkName(name, 'tool_choice.allowed_tools.tools'));
    return { mode: allowed.mode === 'required' ? 'ANY' : 'VALIDATED', allowedFunctionNames: names };
  }
  warnDropped('tool_choice', `Gemini has no '${String(choice.type)}' tool choice`, warnings);
  return undefined;
}

function responseFormat(core: CoreRequest, config: GeminiGenerationConfig, warnings: RequestWarning[]): void {
  const kept = openAIExtensions(core).response_format;
  if (kept !== undefined) {
    // A response_format the OpenAI decoder kept whole (extra keys, or a type it does not know).
    if (!isRecord(kept) || kept.type === 'text') return;
    if (kept.type === 'json_object') config.responseMimeType = 'application/json';
    else if (kept.type === 'json_schema') {
      config.responseMimeType = 'application/json';
      const schema = isRecord(kept.json_schema) ? kept.json_schema.schema : undefined;
      if (schema !== undefined && schema !== null) config.responseJsonSchema = toGeminiJsonSchema(schema, 'response_format.json_schema.schema');
    } else warnDropped('response_format', `Gemini has no '${String(kept.type)}' response format`, warnings);
    return;
  }
  const format = core.responseFormat;
  if (!format || format.type === 'text') return;
  config.responseMimeType = 'application/json';
  if (format.type === 'json_schema') config.responseJsonSchema = toGeminiJsonSchema(format.schema, 'response_format.json_schema.schema');
}

function generationConfig(core: CoreRequest, model: string, warnings: RequestWarning[]): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  if (core.temperature !== null) config.temperature = core.temperature;
  if (core.topP !== null) config.topP = core.topP;
  if (core.topK !== null) config.topK = core.topK;
  if (core.seed !== null) config.seed = core.seed;
  if (core.presencePenalty !== null) config.presencePenalty = core.presencePenalty;
  if (core.frequencyPenalty !== null) config.frequencyPenalty = core.frequencyPenalty;
  if (core.choices > 1) config.candidateCount = core.choices;
  if (core.maxOutputTokens !== null) config.maxOutputTokens = core.maxOutputTokens;

  const stops = core.stop.filter((stop) => stop.length > 0);
  if (stops.length > MAX_STOP_SEQUENCES) {
    warnings.push({ type: 'unsupported-parameter', parameter: 'stop', message: `stop: Gemini takes at most ${MAX_STOP_SEQUENCES} sequences; the rest were dropped` });
  }
  if (stops.length > 0) config.stopSequences = stops.slice(0, MAX_STOP_SEQUENCES);

  responseFormat(core, config, warnings);

  const reasoning = core.reasoning;
  if (reasoning?.effort !== undefined) {
    const thinking = thinkingConfigFor(model, reasoning.effort, warnings);
    if (thinking) config.thinkingConfig = thinking;
  } else if (reasoning?.enabled && typeof reasoning.budgetTokens === 'number') {
    // A budget without an effort (an Anthropic-style client): Gemini takes the budget as is.
    config.thinkingConfig = { includeThoughts: true, thinkingBudget: reasoning.budgetTokens };
  }
  return config;
}

/** A neutral core field by its OpenAI chat name (for the unsupported-field warnings). */
function neutralField(core: CoreRequest, name: string): unknown {
  switch (name) {
    case 'parallel_tool_calls':
      return core.parallelToolCalls;
    case 'user':
      return core.user;
    case 'metadata':
      return core.metadata;
    case 'prompt_cache_key':
      return core.promptCacheKey;
    default:
      return undefined;
  }
}

/** Warns about every field Gemini has no equivalent for, in the client's field order. */
function warnUnsupported(core: CoreRequest, warnings: RequestWarning[]): void {
  const fields = core.extensions?.fields ?? {};
  const names = new Set<string>(core.extensions?.order ?? []);
  for (const name of ['parallel_tool_calls', 'user', 'metadata', 'prompt_cache_key', ...Object.keys(fields)]) names.add(name);
  for (const name of names) {
    if (TRANSLATED.has(name)) continue;
    const value = name in fields ? fields[name] : neutralField(core, name);
    if (value === undefined || value === null) continue;
    if (HARMLESS_WHEN[name]?.(value)) continue;
    warnDropped(name, 'Gemini has no equivalent', warnings);
  }
}

/**
 * The number of client messages the core's leading instructions came from, so errors name
 * the client's own `messages[i]` (one per text part: exact for string system messages).
 */
function leadingMessages(core: CoreRequest): number {
  return core.system.length;
}

/** The Gemini request body and the warnings for what could not be translated. */
export function buildGenerateContentRequest(core: CoreRequest, model: string): { body: GeminiGenerateContentRequest; warnings: RequestWarning[] } {
  const warnings: RequestWarning[] = [];
  const { systemInstruction, contents } = convertMessages(core.system, core.messages, warnings, leadingMessages(core));
  const body: GeminiGenerateContentRequest = { contents };
  if (systemInstruction) body.systemInstruction = systemInstruction;

  const declarations = functionDeclarations(core, warnings);
  const choice = toolChoiceOf(core);
  if (declarations.length > 0) {
    body.tools = [{ functionDeclarations: declarations }];
    const calling = functionCallingConfig(choice, new Set(declarations.map((item) => item.name)), warnings);
    if (calling) body.toolConfig = { functionCallingConfig: calling };
  } else if (choice !== undefined && choice !== null) {
    warnDropped('tool_choice', 'the request declares no function tools', warnings);
  }

  const config = generationConfig(core, model, warnings);
  if (Object.keys(config).length > 0) body.generationConfig = config;
  warnUnsupported(core, warnings);
  return { body, warnings };
}

export function geminiHeaders(target: UpstreamTarget, accept: string): Record<string, string> {
  const headers: Record<string, string> = { ...target.provider.headers, 'content-type': 'application/json', accept };
  // The key goes in a header, never the URL, so it cannot end up in a logged URL.
  if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
  return headers;
}

export function modelUrl(target: UpstreamTarget, method: string): string {
  return `${target.provider.baseUrl}/v1beta/models/${encodeURIComponent(bareModel(target.model))}:${method}`;
}

/** countTokens for the generateContent request a core request becomes (system, tools and all count). */
export function prepareGeminiCountTokens(core: CoreRequest, target: UpstreamTarget): PreparedRequest {
  const model = bareModel(target.model);
  const { body } = buildGenerateContentRequest(core, model);
  const json = { generateContentRequest: { model: `models/${model}`, ...body } };
  return { method: 'POST', url: modelUrl(target, 'countTokens'), headers: geminiHeaders(target, 'application/json'), body: JSON.stringify(json), json };
}

/** `{totalTokens}` from countTokens. */
export function readGeminiTokenCount(json: unknown): number | null {
  const total = (json as { totalTokens?: unknown } | null)?.totalTokens;
  return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : null;
}

export function prepareGeminiRequest(core: CoreRequest, target: UpstreamTarget): { request: PreparedRequest; warnings: RequestWarning[] } {
  const { body, warnings } = buildGenerateContentRequest(core, bareModel(target.model));
  const stream = core.stream;
  return {
    request: {
      method: 'POST',
      url: stream ? `${modelUrl(target, 'streamGenerateContent')}?alt=sse` : modelUrl(target, 'generateContent'),
      headers: geminiHeaders(target, stream ? 'text/event-stream' : 'application/json'),
      body: JSON.stringify(body),
      json: body,
    },
    warnings,
  };
}
