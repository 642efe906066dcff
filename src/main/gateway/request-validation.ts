/**
 * Checks client request bodies before anything is sent upstream, so a bad request gets a
 * 400 that names the field (`param`) instead of an upstream's less helpful answer.
 * Unknown fields are allowed: they are forwarded (or dropped with a warning by an adapter).
 */
import { invalidRequest } from './errors.js';
import type { ChatCompletionRequest, EmbeddingsRequest } from './openai-types.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function checkNumber(body: Record<string, unknown>, field: string, minimum: number, maximum: number, integer = false): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw invalidRequest(`'${field}' must be ${integer ? 'an integer' : 'a number'}, got ${typeName(value)}.`, field, 'invalid_type');
  }
  if (value < minimum || value > maximum) {
    throw invalidRequest(`'${field}' must be between ${minimum} and ${maximum}, got ${value}.`, field, 'invalid_value');
  }
}

function checkContent(message: Record<string, unknown>, index: number): void {
  const content = message.content;
  const param = `messages[${index}].content`;
  if (content === undefined || content === null) {
    const allowedEmpty = message.role === 'assistant' && (message.tool_calls !== undefined || message.function_call !== undefined || message.refusal != null);
    if (!allowedEmpty) throw invalidRequest(`'${param}' is required for role '${String(message.role)}'.`, param, 'missing_required_parameter');
    return;
  }
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) throw invalidRequest(`'${param}' must be a string or an array of content parts, got ${typeName(content)}.`, param, 'invalid_type');
  for (let part = 0; part < content.length; part++) {
    const item = content[part] as unknown;
    const partParam = `${param}[${part}]`;
    if (!isObject(item) || typeof item.type !== 'string') throw invalidRequest(`'${partParam}' must be an object with a 'type'.`, partParam, 'invalid_type');
    if (item.type === 'text' && typeof item.text !== 'string') throw invalidRequest(`'${partParam}.text' must be a string.`, `${partParam}.text`, 'invalid_type');
    if (item.type === 'image_url' && !(isObject(item.image_url) && typeof item.image_url.url === 'string')) {
      throw invalidRequest(`'${partParam}.image_url.url' must be a string.`, `${partParam}.image_url.url`, 'invalid_type');
    }
  }
}

export function validateChatRequest(body: unknown): ChatCompletionRequest {
  if (!isObject(body)) throw invalidRequest(`The request body must be a JSON object, got ${typeName(body)}.`);
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw invalidRequest(body.model === undefined ? "you must provide a model parameter ('model')." : `'model' must be a non-empty string.`, 'model', 'missing_required_parameter');
  }
  const messages = body.messages;
  if (!Array.isArray(messages)) {
    throw invalidRequest(messages === undefined ? "Missing required parameter: 'messages'." : `'messages' must be an array, got ${typeName(messages)}.`, 'messages', messages === undefined ? 'missing_required_parameter' : 'invalid_type');
  }
  if (messages.length === 0) throw invalidRequest("'messages' must contain at least one message.", 'messages', 'empty_array');
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as unknown;
    if (!isObject(message)) throw invalidRequest(`'messages[${index}]' must be an object, got ${typeName(message)}.`, `messages[${index}]`, 'invalid_type');
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
      throw invalidRequest(
        `'messages[${index}].role' must be one of 'system', 'developer', 'user', 'assistant', 'tool', got ${JSON.stringify(message.role)}.`,
        `messages[${index}].role`,
        'invalid_value',
      );
    }
    if (message.role === 'tool' && typeof message.tool_call_id !== 'string') {
      throw invalidRequest(`'messages[${index}].tool_call_id' is required for tool messages.`, `messages[${index}].tool_call_id`, 'missing_required_parameter');
    }
    if (message.tool_calls !== undefined) {
      if (!Array.isArray(message.tool_calls)) throw invalidRequest(`'messages[${index}].tool_calls' must be an array.`, `messages[${index}].tool_calls`, 'invalid_type');
      for (let call = 0; call < message.tool_calls.length; call++) {
        const item = message.tool_calls[call] as unknown;
        const param = `messages[${index}].tool_calls[${call}]`;
        if (!isObject(item) || typeof item.id !== 'string' || !isObject(item.function) || typeof item.function.name !== 'string') {
          throw invalidRequest(`'${param}' must have an 'id' and a 'function' with a 'name'.`, param, 'invalid_type');
        }
      }
    }
    checkContent(message, index);
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    throw invalidRequest(`'stream' must be a boolean, got ${typeName(body.stream)}.`, 'stream', 'invalid_type');
  }
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (body.stream !== true) throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', 'invalid_value');
    if (!isObject(body.stream_options)) throw invalidRequest("'stream_options' must be an object.", 'stream_options', 'invalid_type');
  }
  checkNumber(body, 'temperature', 0, 2);
  checkNumber(body, 'top_p', 0, 1);
  checkNumber(body, 'presence_penalty', -2, 2);
  checkNumber(body, 'frequency_penalty', -2, 2);
  checkNumber(body, 'n', 1, 128, true);
  checkNumber(body, 'max_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  checkNumber(body, 'max_completion_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  if (body.stop !== undefined && body.stop !== null && typeof body.stop !== 'string' && !(Array.isArray(body.stop) && body.stop.every((item) => typeof item === 'string'))) {
    throw invalidRequest("'stop' must be a string or an array of strings.", 'stop', 'invalid_type');
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw invalidRequest("'tools' must be an array.", 'tools', 'invalid_type');
    for (let index = 0; index < body.tools.length; index++) {
      const tool = body.tools[index] as unknown;
      if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function) || typeof tool.function.name !== 'string' || tool.function.name.length === 0) {
        throw invalidRequest(`'tools[${index}]' must be {"type":"function","function":{"name":…}}.`, `tools[${index}]`, 'invalid_type');
      }
    }
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    const choice = body.tool_choice;
    const valid = choice === 'none' || choice === 'auto' || choice === 'required' || (isObject(choice) && typeof choice.type === 'string');
    if (!valid) throw invalidRequest("'tool_choice' must be 'none', 'auto', 'required' or an object naming a function.", 'tool_choice', 'invalid_value');
  }
  if (body.response_format !== undefined && body.response_format !== null && !(isObject(body.response_format) && typeof body.response_format.type === 'string')) {
    throw invalidRequest("'response_format' must be an object with a 'type'.", 'response_format', 'invalid_type');
  }
  return body as unknown as ChatCompletionRequest;
}

export function validateEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (!isObject(body)) throw invalidRequest(`The request body must be a JSON object, got ${typeName(body)}.`);
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw invalidRequest("you must provide a model parameter ('model').", 'model', 'missing_required_parameter');
  }
  const input = body.input;
  const valid =
    (typeof input === 'string' && input.length > 0) ||
    (Array.isArray(input) &&
      input.length > 0 &&
      (input.every((item) => typeof item === 'string' && item.length > 0) ||
        input.every((item) => typeof item === 'number' && Number.isInteger(item)) ||
        input.every((item) => Array.isArray(item) && item.length > 0 && item.every((token) => typeof token === 'number' && Number.isInteger(token)))));
  if (!valid) {
    throw invalidRequest(
      input === undefined ? "Missing required parameter: 'input'." : "'input' must be a non-empty string, an array of non-empty strings, or token arrays.",
      'input',
      input === undefined ? 'missing_required_parameter' : 'invalid_value',
    );
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    throw invalidRequest("'encoding_format' must be 'float' or 'base64'.", 'encoding_format', 'invalid_value');
  }
  checkNumber(body, 'dimensions', 1, 65536, true);
  return body as unknown as EmbeddingsRequest;
}
