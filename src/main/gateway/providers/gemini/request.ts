/**
 * OpenAI chat-completions request → Gemini `generateContent` request. Sampling and output
 * settings go in `generationConfig`; tools, tool choice and the system instruction at the
 * top level (as js-genai sends them). Parameters Gemini has no equivalent for are dropped
 * with a recorded warning, never forwarded.
 */
import { invalidRequest } from '../../errors.js';
import type { ChatCompletionRequest, FunctionTool } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import type { PreparedChat, UpstreamTarget } from '../types.js';
import { convertMessages } from './contents.js';
import { toGeminiJsonSchema } from './schema.js';
import { thinkingConfigFor } from './thinking.js';
import type { GeminiFunctionCallingConfig, GeminiFunctionDeclaration, GeminiGenerateContentRequest, GeminiGenerationConfig } from './wire-types.js';

/** Gemini accepts at most this many stop sequences. */
const MAX_STOP_SEQUENCES = 5;

/** Request fields this module translates (or that the gateway itself handles). */
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

function warnDropped(parameter: string, reason: string, warnings: RequestWarning[]): void {
  warnings.push({ type: 'unsupported-parameter', parameter, message: `${parameter} dropped: ${reason}` });
}

/** The bare model id Gemini puts in its URL (`models/` prefix removed). */
export function bareModel(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}

function functionDeclarations(tools: FunctionTool[], warnings: RequestWarning[]): GeminiFunctionDeclaration[] {
  const declarations: GeminiFunctionDeclaration[] = [];
  tools.forEach((tool, index) => {
    if (tool.type !== 'function') {
      warnDropped(`tools[${index}]`, `Gemini has no '${tool.type}' tools`, warnings);
      return;
    }
    const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
    if (typeof tool.function.description === 'string' && tool.function.description.length > 0) declaration.description = tool.function.description;
    if (tool.function.parameters !== undefined && tool.function.parameters !== null) {
      declaration.parametersJsonSchema = toGeminiJsonSchema(tool.function.parameters, `tools[${index}].function.parameters`);
    }
    declarations.push(declaration);
  });
  return declarations;
}

function namedFunction(choice: Record<string, unknown>): string | null {
  const fn = choice.function;
  return typeof fn === 'object' && fn !== null && typeof (fn as { name?: unknown }).name === 'string' ? (fn as { name: string }).name : null;
}

function functionCallingConfig(
  choice: ChatCompletionRequest['tool_choice'],
  declared: Set<string>,
  warnings: RequestWarning[],
): GeminiFunctionCallingConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'required') return { mode: 'ANY' };
  if (choice === 'none') return { mode: 'NONE' };
  if (typeof choice !== 'object') return undefined;
  const checkName = (name: string, param: string): string => {
    if (!declared.has(name)) throw invalidRequest(`'${param}' names the function '${name}', which is not among the request's tools.`, param, 'invalid_value');
    return name;
  };
  if (choice.type === 'function') {
    const name = namedFunction(choice);
    if (!name) throw invalidRequest("'tool_choice.function.name' is required.", 'tool_choice.function.name', 'missing_required_parameter');
    return { mode: 'ANY', allowedFunctionNames: [checkName(name, 'tool_choice.function.name')] };
  }
  if (choice.type === 'allowed_tools' && typeof choice.allowed_tools === 'object' && choice.allowed_tools !== null) {
    // OpenAI's "only these tools": required → ANY, auto → VALIDATED (call one of them or answer).
    const allowed = choice.allowed_tools as { mode?: unknown; tools?: unknown };
    const names = (Array.isArray(allowed.tools) ? allowed.tools : [])
      .map((tool) => (typeof tool === 'object' && tool !== null ? namedFunction(tool as Record<string, unknown>) : null))
      .filter((name): name is string => name !== null)
      .map((name) => checkName(name, 'tool_choice.allowed_tools.tools'));
    return { mode: allowed.mode === 'required' ? 'ANY' : 'VALIDATED', allowedFunctionNames: names };
  }
  warnDropped('tool_choice', `Gemini has no '${choice.type}' tool choice`, warnings);
  return undefined;
}

function generationConfig(request: ChatCompletionRequest, model: string, warnings: RequestWarning[]): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof request.top_k === 'number') config.topK = request.top_k;
  if (typeof request.seed === 'number') config.seed = request.seed;
  if (typeof request.presence_penalty === 'number') config.presencePenalty = request.presence_penalty;
  if (typeof request.frequency_penalty === 'number') config.frequencyPenalty = request.frequency_penalty;
  if (typeof request.n === 'number' && request.n > 1) config.candidateCount = request.n;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') config.maxOutputTokens = maxTokens;

  if (request.stop !== undefined && request.stop !== null) {
    const stops = (typeof request.stop === 'string' ? [request.stop] : request.stop).filter((stop) => stop.length > 0);
    if (stops.length > MAX_STOP_SEQUENCES) {
      warnings.push({ type: 'unsupported-parameter', parameter: 'stop', message: `stop: Gemini takes at most ${MAX_STOP_SEQUENCES} sequences; the rest were dropped` });
    }
    if (stops.length > 0) config.stopSequences = stops.slice(0, MAX_STOP_SEQUENCES);
  }

  const format = request.response_format;
  if (format && format.type !== 'text') {
    if (format.type === 'json_object') {
      config.responseMimeType = 'application/json';
    } else if (format.type === 'json_schema') {
      config.responseMimeType = 'application/json';
      const schema = format.json_schema?.schema;
      if (schema !== undefined && schema !== null) config.responseJsonSchema = toGeminiJsonSchema(schema, 'response_format.json_schema.schema');
    } else {
      warnDropped('response_format', `Gemini has no '${format.type}' response format`, warnings);
    }
  }

  if (typeof request.reasoning_effort === 'string') {
    const thinking = thinkingConfigFor(model, request.reasoning_effort, warnings);
    if (thinking) config.thinkingConfig = thinking;
  }
  return config;
}

/** The Gemini request body and the warnings for what could not be translated. */
export function buildGenerateContentRequest(request: ChatCompletionRequest, model: string): { body: GeminiGenerateContentRequest; warnings: RequestWarning[] } {
  const warnings: RequestWarning[] = [];
  const { systemInstruction, contents } = convertMessages(request.messages, warnings);
  const body: GeminiGenerateContentRequest = { contents };
  if (systemInstruction) body.systemInstruction = systemInstruction;

  const tools = Array.isArray(request.tools) ? request.tools : [];
  const declarations = functionDeclarations(tools, warnings);
  if (declarations.length > 0) {
    body.tools = [{ functionDeclarations: declarations }];
    const calling = functionCallingConfig(request.tool_choice, new Set(declarations.map((declaration) => declaration.name)), warnings);
    if (calling) body.toolConfig = { functionCallingConfig: calling };
  } else if (request.tool_choice !== undefined && request.tool_choice !== null) {
    warnDropped('tool_choice', 'the request declares no function tools', warnings);
  }

  const config = generationConfig(request, model, warnings);
  if (Object.keys(config).length > 0) body.generationConfig = config;

  for (const [parameter, value] of Object.entries(request)) {
    if (TRANSLATED.has(parameter) || value === undefined || value === null) continue;
    if (HARMLESS_WHEN[parameter]?.(value)) continue;
    warnDropped(parameter, 'Gemini has no equivalent', warnings);
  }
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

export function prepareGeminiChat(request: ChatCompletionRequest, target: UpstreamTarget): PreparedChat {
  const { body, warnings } = buildGenerateContentRequest(request, bareModel(target.model));
  const stream = request.stream === true;
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
