/**
 * Core request → Anthropic Messages request. Messages, tools and the output format have their
 * own files; this one maps the scalar parameters, decides `max_tokens` and `thinking` from the
 * model family's defaults (model-defaults.ts) and records a warning for everything dropped or
 * changed.
 *
 * Extensions: the fields of an Anthropic client's request the core has no name for
 * (`context_management`, `container`, `mcp_servers` …) go into the body unchanged, and its
 * `anthropic-beta` / `anthropic-version` (kept as extension fields of those names) become
 * headers. An OpenAI client's extensions are read as the OpenAI-pivot adapter read them (see
 * TRANSLATED); every other extension field is dropped with a warning.
 */
import type { CoreRequest, ResponseFormat } from '../../../core/types.js';
import type { RequestWarning } from '../../types.js';
import type { PrepareOptions, PreparedRequest, UpstreamTarget } from '../types.js';
import { convertMessages } from './convert-messages.js';
import {
  ADAPTIVE_EFFORTS,
  MINIMUM_THINKING_BUDGET,
  THINKING_BUDGETS,
  anthropicModelFamily,
  type AnthropicModelFamily,
} from './model-defaults.js';
import { JSON_OBJECT_INSTRUCTION, jsonSchemaInstruction, structuredOutputSchema } from './output-format.js';
import { prepareTools } from './prepare-tools.js';
import type { AnthropicMessage, AnthropicRequest, AnthropicThinking } from './wire-types.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/** OpenAI request fields (by wire name) this file translates; any other field that is set is dropped with a warning. */
const TRANSLATED = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'user',
  'safety_identifier',
]);

/** Values that ask for exactly what Anthropic does anyway: dropped without a warning. */
const HARMLESS: Record<string, unknown> = { n: 1, logprobs: false };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unsupported(warnings: RequestWarning[], parameter: string, message: string): void {
  warnings.push({ type: 'unsupported-parameter', parameter, message: `${parameter} dropped: ${message}` });
}

/** Extension fields of the Anthropic family that are headers, not body fields. */
const HEADER_FIELDS = new Set(['anthropic-beta', 'anthropic-version']);

/**
 * Every field of the request with no Anthropic translation, by its OpenAI name, in the
 * client's order when the client spoke OpenAI: the core's fields Anthropic lacks here, then
 * the extension fields of any family but Anthropic's.
 */
function dropUntranslated(core: CoreRequest, warnings: RequestWarning[]): void {
  const fields: Array<[string, unknown]> = [
    ['n', core.choices === 1 ? undefined : core.choices],
    ['seed', core.seed],
    ['presence_penalty', core.presencePenalty],
    ['frequency_penalty', core.frequencyPenalty],
    ['metadata', core.metadata],
    ['prompt_cache_key', core.promptCacheKey],
  ];
  const extensions = core.extensions;
  if (extensions && extensions.family !== 'anthropic') fields.push(...Object.entries(extensions.fields));
  if (extensions?.family === 'openai' && extensions.order) {
    const position = new Map(extensions.order.map((key, index) => [key, index]));
    fields.sort(([a], [b]) => (position.get(a) ?? Infinity) - (position.get(b) ?? Infinity));
  }
  for (const [key, value] of fields) {
    if (TRANSLATED.has(key) || value === undefined || value === null || HARMLESS[key] === value) continue;
    unsupported(warnings, key, 'Anthropic does not support it');
  }
}

/**
 * While thinking is on, Anthropic wants the assistant turns of the current tool loop (the
 * trailing tool_use → tool_result pairs) to start with their thinking block.
 */
function toolLoopHasThinking(messages: AnthropicMessage[]): boolean {
  for (let index = messages.length - 1; index >= 1; index -= 2) {
    const user = messages[index]!;
    const assistant = messages[index - 1]!;
    if (user.role !== 'user' || assistant.role !== 'assistant') break;
    if (!user.content.some((block) => block.type === 'tool_result')) break;
    if (!assistant.content.some((block) => block.type === 'tool_use')) break;
    const first = assistant.content[0]!.type;
    if (first !== 'thinking' && first !== 'redacted_thinking') return false;
  }
  return true;
}

interface ThinkingPlan {
  thinking?: AnthropicThinking;
  effort?: string;
  maxTokens: number;
}

/**
 * `core.reasoning` → thinking. An effort picks a budget (budget families) or an
 * `output_config.effort` (adaptive ones); a budget alone (an Anthropic client's
 * `budget_tokens`) is used as it is; reasoning asked for with neither gets the medium budget
 * or adaptive thinking at the model's default effort.
 */
function planThinking(core: CoreRequest, family: AnthropicModelFamily, messages: AnthropicMessage[], maxTokens: number, warnings: RequestWarning[]): ThinkingPlan {
  const reasoning = core.reasoning;
  if (!reasoning || !reasoning.enabled) return { maxTokens };
  const effort: string | undefined = reasoning.effort;
  if (effort === 'none') return { maxTokens };
  if (effort !== undefined && THINKING_BUDGETS[effort] === undefined) {
    unsupported(warnings, 'reasoning_effort', `'${effort}' is not a reasoning effort the gateway knows (minimal, low, medium, high, xhigh, max, none)`);
    return { maxTokens };
  }
  if (family.thinking === 'none') {
    unsupported(warnings, 'reasoning_effort', `${family.name} models have no extended thinking`);
    return { maxTokens };
  }
  if (!toolLoopHasThinking(messages)) {
    unsupported(
      warnings,
      'reasoning_effort',
      'thinking stays off because the assistant turn of the current tool loop carries no thinking_blocks, and Anthropic rejects thinking without them',
    );
    return { maxTokens };
  }
  if (family.thinking === 'adaptive') {
    const thinking: AnthropicThinking = family.thinkingDisplay ? { type: 'adaptive', display: family.thinkingDisplay } : { type: 'adaptive' };
    return effort === undefined ? { thinking, maxTokens } : { thinking, effort: ADAPTIVE_EFFORTS[effort], maxTokens };
  }
  let budget = effort !== undefined ? THINKING_BUDGETS[effort]! : (reasoning.budgetTokens ?? THINKING_BUDGETS.medium!);
  let raised = maxTokens;
  // The budget is part of max_tokens and must stay below it: keep the client's answer room on top.
  if (raised <= budget) raised = budget + maxTokens;
  if (family.maxOutputTokens !== null && raised > family.maxOutputTokens) raised = family.maxOutputTokens;
  if (budget >= raised) budget = raised - 1;
  if (budget < MINIMUM_THINKING_BUDGET) {
    unsupported(warnings, 'reasoning_effort', `max_tokens ${raised} leaves no room for Anthropic's minimum thinking budget of ${MINIMUM_THINKING_BUDGET}`);
    return { maxTokens };
  }
  if (raised !== maxTokens) {
    warnings.push({ type: 'other', parameter: 'max_tokens', message: `max_tokens raised from ${maxTokens} to ${raised} so that the thinking budget (${budget}) fits below it` });
  }
  return { thinking: { type: 'enabled', budget_tokens: budget }, maxTokens: raised };
}

/** The response format as `{type, name, schema}`, from the core or an OpenAI client's own (extension) value. */
function outputFormatOf(core: CoreRequest): { type: unknown; name?: unknown; schema?: unknown } | null {
  const openAI = core.extensions?.family === 'openai' ? core.extensions.fields.response_format : undefined;
  if (openAI !== undefined && openAI !== null) {
    const record = typeof openAI === 'object' ? (openAI as Record<string, unknown>) : {};
    const jsonSchema = typeof record.json_schema === 'object' && record.json_schema !== null ? (record.json_schema as Record<string, unknown>) : {};
    return { type: record.type, name: jsonSchema.name, schema: jsonSchema.schema };
  }
  const format: ResponseFormat | null = core.responseFormat;
  if (!format) return null;
  return format.type === 'json_schema' ? { type: format.type, name: format.name, schema: format.schema } : { type: format.type };
}

export function buildAnthropicRequest(core: CoreRequest, model: string): { body: AnthropicRequest; warnings: RequestWarning[] } {
  const family = anthropicModelFamily(model);
  const warnings: RequestWarning[] = [];
  dropUntranslated(core, warnings);
  const { system, messages } = convertMessages(core, warnings);

  let outputFormat: NonNullable<AnthropicRequest['output_config']>['format'];
  const format = outputFormatOf(core);
  if (format?.type === 'json_schema') {
    const schema = format.schema;
    if (family.structuredOutputs && isRecord(schema) && schema.type === 'object') {
      outputFormat = { type: 'json_schema', schema: structuredOutputSchema(schema) as Record<string, unknown> };
    } else {
      system.push({ type: 'text', text: jsonSchemaInstruction(typeof format.name === 'string' ? format.name : undefined, schema) });
      warnings.push({
        type: 'other',
        parameter: 'response_format',
        message: `response_format json_schema sent as a system instruction: ${family.structuredOutputs ? 'the schema is not an object schema' : `${family.name} has no structured outputs`}, so the model is asked, not forced`,
      });
    }
  } else if (format?.type === 'json_object') {
    system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION });
    warnings.push({ type: 'other', parameter: 'response_format', message: 'response_format json_object sent as a system instruction: Anthropic has no JSON mode without a schema' });
  } else if (format && format.type !== 'text') {
    unsupported(warnings, 'response_format', `type '${String(format.type)}' is not translated`);
  }

  const { tools, toolChoice } = prepareTools(core, family, warnings);

  const requested = core.maxOutputTokens;
  let maxTokens = requested ?? family.defaultMaxTokens;
  if (family.maxOutputTokens !== null && maxTokens > family.maxOutputTokens) {
    warnings.push({ type: 'other', parameter: 'max_tokens', message: `max_tokens lowered from ${maxTokens} to ${family.maxOutputTokens}, the most ${family.name} models produce` });
    maxTokens = family.maxOutputTokens;
  }
  const plan = planThinking(core, family, messages, maxTokens, warnings);

  let temperature = core.temperature ?? undefined;
  let topP = core.topP ?? undefined;
  let topK = core.topK ?? undefined;
  let choice = toolChoice;
  if (plan.thinking) {
    if (temperature !== undefined) {
      unsupported(warnings, 'temperature', 'Anthropic does not allow it to be set while thinking is enabled');
      temperature = undefined;
    }
    if (topP !== undefined && topP < 0.95) {
      unsupported(warnings, 'top_p', 'Anthropic allows only values from 0.95 to 1 while thinking is enabled');
      topP = undefined;
    }
    if (topK !== undefined) {
      unsupported(warnings, 'top_k', 'Anthropic does not allow it to be set while thinking is enabled');
      topK = undefined;
    }
    if (choice && (choice.type === 'any' || choice.type === 'tool')) {
      warnings.push({ type: 'other', parameter: 'tool_choice', message: `tool_choice ${choice.type === 'any' ? 'required' : `'${choice.name}'`} sent as auto: Anthropic cannot force tool use while thinking is enabled` });
      choice = choice.disable_parallel_tool_use ? { type: 'auto', disable_parallel_tool_use: true } : { type: 'auto' };
    }
  }
  if (family.sampling === 'none') {
    if (temperature !== undefined) unsupported(warnings, 'temperature', `${family.name} models do not accept sampling parameters`);
    if (topP !== undefined) unsupported(warnings, 'top_p', `${family.name} models do not accept sampling parameters`);
    if (topK !== undefined) unsupported(warnings, 'top_k', `${family.name} models do not accept sampling parameters`);
    temperature = undefined;
    topP = undefined;
    topK = undefined;
  }
  if (temperature !== undefined && temperature > 1) {
    warnings.push({ type: 'other', parameter: 'temperature', message: `temperature ${temperature} lowered to 1, Anthropic's maximum` });
    temperature = 1;
  }
  if (family.sampling === 'one' && temperature !== undefined && topP !== undefined) {
    unsupported(warnings, 'top_p', `${family.name} models do not accept temperature and top_p together`);
    topP = undefined;
  }

  const stops = core.stop;
  const stopSequences = stops.filter((stop) => typeof stop === 'string' && stop.trim().length > 0);
  if (stopSequences.length < stops.length) {
    warnings.push({ type: 'unsupported-parameter', parameter: 'stop', message: `${stops.length - stopSequences.length} of the stop sequences dropped: Anthropic rejects empty or whitespace-only ones` });
  }

  const body: AnthropicRequest = system.length > 0 ? { model, max_tokens: plan.maxTokens, system, messages } : { model, max_tokens: plan.maxTokens, messages };
  if (tools) body.tools = tools;
  if (choice) body.tool_choice = choice;
  if (plan.thinking) body.thinking = plan.thinking;
  if (temperature !== undefined) body.temperature = temperature;
  if (topP !== undefined) body.top_p = topP;
  if (topK !== undefined) body.top_k = topK;
  if (stopSequences.length > 0) body.stop_sequences = stopSequences;
  const safetyIdentifier = core.extensions?.family === 'openai' ? core.extensions.fields.safety_identifier : undefined;
  const user = core.user ?? (typeof safetyIdentifier === 'string' ? safetyIdentifier : undefined);
  if (typeof user === 'string' && user.length > 0) body.metadata = { user_id: user };
  if (plan.effort || outputFormat) {
    body.output_config = {};
    if (plan.effort) body.output_config.effort = plan.effort;
    if (outputFormat) body.output_config.format = outputFormat;
  }
  if (core.stream) body.stream = true;
  if (core.extensions?.family === 'anthropic') {
    for (const [key, value] of Object.entries(core.extensions.fields)) if (!HEADER_FIELDS.has(key) && value !== undefined) body[key] = value;
  }
  return { body, warnings };
}

export function anthropicHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...target.provider.headers };
  if (target.apiKey) headers['x-api-key'] = target.apiKey;
  return headers;
}

/** `anthropic-beta` and `anthropic-version` an Anthropic client sent (kept as extension fields of those names). */
function clientHeaders(core: CoreRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  if (core.extensions?.family !== 'anthropic') return headers;
  for (const name of HEADER_FIELDS) {
    const value = core.extensions.fields[name];
    if (typeof value === 'string') headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.filter((item): item is string => typeof item === 'string').join(',');
  }
  return headers;
}

/** A thinking block signed by the gateway for another provider's model (`sy1.…`), which Anthropic refuses. */
function isForeignThinking(block: unknown): boolean {
  return isRecord(block) && block.type === 'thinking' && typeof block.signature === 'string' && block.signature.startsWith('sy1.');
}

function carriesForeignThinking(message: unknown): boolean {
  return isRecord(message) && message.role === 'assistant' && Array.isArray(message.content) && message.content.some(isForeignThinking);
}

/**
 * Same-format pass-through: an Anthropic client's body as it came, only `model` set to the
 * upstream's name, so thinking signatures, cache_control, documents, citations and server
 * tools reach Anthropic byte for byte. Thinking blocks whose signature is not Anthropic's (state
 * of another family that served an earlier turn, `sy1.…`) would be refused: they are left out
 * with a warning.
 */
function passthroughBody(wire: Record<string, unknown>, model: string, warnings: RequestWarning[]): Record<string, unknown> {
  const body: Record<string, unknown> = { ...wire, model };
  // Most requests carry none: their messages are not copied (a long conversation's array and each assistant turn's blocks).
  if (!Array.isArray(wire.messages) || !wire.messages.some(carriesForeignThinking)) return body;
  let stripped = 0;
  const messages = wire.messages.map((message: unknown) => {
    if (!isRecord(message) || message.role !== 'assistant' || !Array.isArray(message.content)) return message;
    const content = message.content.filter((block: unknown) => !isForeignThinking(block));
    if (content.length === message.content.length) return message;
    stripped += message.content.length - content.length;
    return { ...message, content };
  });
  warnings.push({ type: 'other', parameter: 'messages', message: `${stripped} thinking block(s) made by another provider dropped: Anthropic accepts only its own signatures` });
  return { ...body, messages };
}

export function prepareAnthropicRequest(core: CoreRequest, target: UpstreamTarget, options?: PrepareOptions): { request: PreparedRequest; warnings: RequestWarning[] } {
  const wire = options?.wire?.format === 'anthropic-messages' ? options.wire.body : null;
  const built = wire ? { body: null, warnings: [] as RequestWarning[] } : buildAnthropicRequest(core, target.model);
  const warnings = built.warnings;
  const body = wire ? passthroughBody(wire, target.model, warnings) : built.body!;
  const headers = { ...anthropicHeaders(target), ...clientHeaders(core), 'content-type': 'application/json', accept: core.stream ? 'text/event-stream' : 'application/json' };
  // The client's own text goes as it came when the pass-through changed nothing (see WireRequest).
  const text = wire && wire.model === target.model && body.messages === wire.messages ? options?.wire?.text : undefined;
  const prepared: PreparedRequest = { method: 'POST', url: `${target.provider.baseUrl}/v1/messages`, headers, body: text ?? JSON.stringify(body), json: body };
  return { request: prepared, warnings };
}

/** POST /v1/messages/count_tokens with an Anthropic client's body (model renamed), its anthropic-beta / -version kept. */
export function prepareAnthropicCountTokens(wire: Record<string, unknown>, target: UpstreamTarget, clientHeaderValues: Record<string, string> = {}): PreparedRequest {
  const body = { ...wire, model: target.model };
  const headers = { ...anthropicHeaders(target), ...clientHeaderValues, 'content-type': 'application/json', accept: 'application/json' };
  return { method: 'POST', url: `${target.provider.baseUrl}/v1/messages/count_tokens`, headers, body: JSON.stringify(body), json: body };
}
