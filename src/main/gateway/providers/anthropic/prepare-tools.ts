/**
 * Core tools, tool choice and parallel tool calls → Anthropic `tools` and `tool_choice`.
 * auto → auto, required → any, a named tool → tool, none → none; `parallelToolCalls: false`
 * → `disable_parallel_tool_use: true` on the choice. A missing `parameters` schema becomes an
 * empty object schema (Anthropic requires `input_schema`). Tools hosted by Anthropic (server
 * tools, from an Anthropic client) pass unchanged; other hosted and custom tools are dropped
 * with a warning. An OpenAI client's `tools` or `tool_choice` the core could not name (kept in
 * its extensions) are read as the OpenAI-pivot adapter read them.
 */
import type { CoreRequest, CoreTool, CoreToolChoice } from '../../../core/types.js';
import { invalidRequest } from '../../errors.js';
import type { RequestWarning } from '../../types.js';
import type { AnthropicModelFamily } from './model-defaults.js';
import { cacheControlOf, wireCacheControl } from './convert-content.js';
import { structuredOutputSchema } from './output-format.js';
import type { AnthropicTool, AnthropicToolChoice } from './wire-types.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inputSchema(parameters: unknown, param: string): Record<string, unknown> {
  if (parameters === undefined || parameters === null) return { type: 'object', properties: {} };
  if (!isRecord(parameters)) throw invalidRequest(`'${param}' must be a JSON Schema object.`, param, 'invalid_type');
  if (parameters.type === undefined) return { type: 'object', ...parameters };
  if (parameters.type !== 'object') throw invalidRequest(`'${param}' must be a JSON Schema with "type": "object".`, param, 'invalid_value');
  return parameters;
}

export interface PreparedTools {
  tools?: AnthropicTool[];
  toolChoice?: AnthropicToolChoice;
}

/** One tool as this file reads it, whichever side it came from. */
type ToolSource =
  | { kind: 'function'; name: string; description: unknown; parameters: unknown; strict: unknown; cacheControl: AnthropicTool['cache_control']; param: string }
  | { kind: 'anthropic'; value: AnthropicTool }
  | { kind: 'dropped'; param: string; type: string };

function coreToolSource(tool: CoreTool, index: number): ToolSource {
  const param = `tools[${index}]`;
  switch (tool.type) {
    case 'function':
      return { kind: 'function', name: tool.name, description: tool.description, parameters: tool.parameters ?? undefined, strict: tool.strict, cacheControl: wireCacheControl(tool.cacheControl), param };
    case 'hosted':
      return tool.family === 'anthropic' ? { kind: 'anthropic', value: tool.value as AnthropicTool } : { kind: 'dropped', param, type: tool.kind };
    case 'custom':
      return { kind: 'dropped', param, type: 'custom' };
  }
}

/** An OpenAI wire tool (from the extensions of an OpenAI client's request). */
function openAIToolSource(tool: unknown, index: number): ToolSource {
  const param = `tools[${index}]`;
  if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) return { kind: 'dropped', param, type: String(isRecord(tool) ? tool.type : undefined) };
  const fn = tool.function;
  return { kind: 'function', name: fn.name as string, description: fn.description, parameters: fn.parameters, strict: fn.strict, cacheControl: cacheControlOf(tool), param };
}

/** The core choice in the OpenAI wire form this file has always read. */
function wireChoice(choice: CoreToolChoice | null): unknown {
  if (!choice) return undefined;
  return choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

export function prepareTools(core: CoreRequest, family: AnthropicModelFamily, warnings: RequestWarning[]): PreparedTools {
  const openAI = core.extensions?.family === 'openai' ? core.extensions.fields : {};
  const sources = Array.isArray(openAI.tools) ? openAI.tools.map(openAIToolSource) : core.tools.map(coreToolSource);
  const tools: AnthropicTool[] = [];
  for (const source of sources) {
    if (source.kind === 'dropped') {
      warnings.push({ type: 'unsupported-parameter', parameter: source.param, message: `${source.param} dropped: Anthropic takes function tools only, got '${source.type}'` });
      continue;
    }
    if (source.kind === 'anthropic') {
      tools.push(source.value);
      continue;
    }
    const param = source.param;
    const description = typeof source.description === 'string' && source.description.length > 0 ? source.description : undefined;
    const schema = inputSchema(source.parameters, `${param}.function.parameters`);
    const definition: AnthropicTool = description ? { name: source.name, description, input_schema: schema } : { name: source.name, input_schema: schema };
    if (source.strict === true) {
      if (family.structuredOutputs) {
        definition.strict = true;
        definition.input_schema = structuredOutputSchema(definition.input_schema) as Record<string, unknown>;
      } else {
        warnings.push({ type: 'unsupported-parameter', parameter: `${param}.function.strict`, message: `${param}.function.strict dropped: ${family.name} has no strict tool use` });
      }
    }
    if (source.cacheControl) definition.cache_control = source.cacheControl;
    tools.push(definition);
  }

  const choice = openAI.tool_choice !== undefined ? openAI.tool_choice : wireChoice(core.toolChoice);
  const hasChoice = choice !== undefined && choice !== null;
  if (tools.length === 0) {
    if (hasChoice && choice !== 'none') {
      warnings.push({ type: 'unsupported-parameter', parameter: 'tool_choice', message: 'tool_choice dropped: the request has no function tools' });
    }
    return {};
  }

  const noParallel = core.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  let toolChoice: AnthropicToolChoice | undefined;
  if (choice === 'none') {
    toolChoice = { type: 'none' };
  } else if (choice === 'required') {
    toolChoice = { type: 'any', ...noParallel };
  } else if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function) && typeof choice.function.name === 'string') {
    const name = choice.function.name;
    if (!tools.some((tool) => tool.name === name)) {
      throw invalidRequest(`tool_choice names the function '${name}', which is not in 'tools'.`, 'tool_choice', 'invalid_value');
    }
    toolChoice = { type: 'tool', name, ...noParallel };
  } else {
    if (hasChoice && choice !== 'auto') {
      warnings.push({ type: 'unsupported-parameter', parameter: 'tool_choice', message: `tool_choice ${JSON.stringify(choice)} is not translated; sent as auto` });
    }
    if (hasChoice || core.parallelToolCalls === false) toolChoice = { type: 'auto', ...noParallel };
  }
  return toolChoice ? { tools, toolChoice } : { tools };
}
