/**
 * OpenAI `tools`, `tool_choice` and `parallel_tool_calls` → Anthropic `tools` and `tool_choice`.
 * auto → auto, required → any, a named function → tool, none → none; `parallel_tool_calls:false`
 * → `disable_parallel_tool_use: true` on the choice. A missing `parameters` schema becomes an
 * empty object schema (Anthropic requires `input_schema`).
 */
import { invalidRequest } from '../../errors.js';
import type { ChatCompletionRequest } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import type { AnthropicModelFamily } from './model-defaults.js';
import { cacheControlOf } from './convert-content.js';
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

export function prepareTools(request: ChatCompletionRequest, family: AnthropicModelFamily, warnings: RequestWarning[]): PreparedTools {
  const tools: AnthropicTool[] = [];
  (request.tools ?? []).forEach((tool, index) => {
    const param = `tools[${index}]`;
    if (tool.type !== 'function' || !isRecord(tool.function)) {
      warnings.push({ type: 'unsupported-parameter', parameter: param, message: `${param} dropped: Anthropic takes function tools only, got '${String(tool.type)}'` });
      return;
    }
    const description = typeof tool.function.description === 'string' && tool.function.description.length > 0 ? tool.function.description : undefined;
    const schema = inputSchema(tool.function.parameters, `${param}.function.parameters`);
    const definition: AnthropicTool = description ? { name: tool.function.name, description, input_schema: schema } : { name: tool.function.name, input_schema: schema };
    if (tool.function.strict === true) {
      if (family.structuredOutputs) {
        definition.strict = true;
        definition.input_schema = structuredOutputSchema(definition.input_schema) as Record<string, unknown>;
      } else {
        warnings.push({ type: 'unsupported-parameter', parameter: `${param}.function.strict`, message: `${param}.function.strict dropped: ${family.name} has no strict tool use` });
      }
    }
    const cacheControl = cacheControlOf(tool);
    if (cacheControl) definition.cache_control = cacheControl;
    tools.push(definition);
  });

  const choice = request.tool_choice;
  const hasChoice = choice !== undefined && choice !== null;
  if (tools.length === 0) {
    if (hasChoice && choice !== 'none') {
      warnings.push({ type: 'unsupported-parameter', parameter: 'tool_choice', message: 'tool_choice dropped: the request has no function tools' });
    }
    return {};
  }

  const noParallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
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
    if (hasChoice || request.parallel_tool_calls === false) toolChoice = { type: 'auto', ...noParallel };
  }
  return toolChoice ? { tools, toolChoice } : { tools };
}
