import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/main/gateway/errors.js';
import { Type } from 'typebox';
import { compileOnFirstUse, validateChatRequest, validateEmbeddingsRequest } from '../../src/main/gateway/request-validation.js';

const user = [{ role: 'user', content: 'hi' }];
const chat = (extra: Record<string, unknown> = {}, messages: unknown = user) => ({ model: 'm', messages, ...extra });

function rejection(validate: (body: unknown) => unknown, body: unknown): { param: string | null; code: string | null; message: string } {
  try {
    validate(body);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    const gatewayError = error as GatewayError;
    expect(gatewayError.status).toBe(400);
    expect(gatewayError.type).toBe('invalid_request_error');
    return { param: gatewayError.param, code: gatewayError.code, message: gatewayError.message };
  }
  throw new Error(`expected ${JSON.stringify(body)} to be rejected`);
}

describe('chat request validation (schema)', () => {
  it.each([
    ['a plain request', chat()],
    ['unknown fields, passed through', chat({ logit_bias: { '50256': -100 }, metadata: { a: 1 }, x_custom: [1] })],
    ['null for unset optional parameters', chat({ temperature: null, stop: null, stream_options: null, tool_choice: null, response_format: null, n: null })],
    ['every content part form', chat({}, [{ role: 'user', content: [
      { type: 'text', text: 'a' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==', detail: 'low' } },
      { type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,AA==', filename: 'a.pdf' } },
      { type: 'some_future_part', anything: true },
    ] }])],
    ['an assistant turn with tool calls and no content, and its tool result', chat({}, [
      ...user,
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '42' },
      { role: 'assistant', refusal: 'no' },
    ])],
    ['tools, a named tool_choice, json_schema, streaming with usage', chat({
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      stream: true,
      stream_options: { include_usage: true },
      stop: ['a', 'b'],
    })],
  ])('accepts %s', (_name, body) => {
    expect(validateChatRequest(body)).toBe(body);
  });

  it.each([
    ['a non-object body', [1, 2], null, 'invalid_type', /request body must be a JSON object, got an array/],
    ['no model', { messages: user }, 'model', 'missing_required_parameter', /you must provide a model parameter/],
    ['no messages', { model: 'm' }, 'messages', 'missing_required_parameter', /Missing required parameter: 'messages'/],
    ['empty messages', chat({}, []), 'messages', 'empty_array', /non-empty array of messages, got an empty array/],
    ['a bad role', chat({}, [...user, { role: 'wizard', content: 'b' }]), 'messages[1].role', 'invalid_value', /one of 'system'.*got "wizard"/],
    ['user content missing', chat({}, [{ role: 'user' }]), 'messages[0].content', 'missing_required_parameter', /required for role 'user'/],
    ['assistant content null without tool calls', chat({}, [...user, { role: 'assistant', content: null }]), 'messages[1].content', 'missing_required_parameter', /required for role 'assistant'/],
    ['content of the wrong type', chat({}, [...user, user[0], { role: 'user', content: 5 }]), 'messages[2].content', 'invalid_type', /a string or an array of content parts, got 5/],
    ['a text part without text', chat({}, [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 7 }] }]), 'messages[0].content[1].text', 'invalid_type', /must be a string, got 7/],
    ['an image part without a url', chat({}, [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }]), 'messages[0].content[0].image_url.url', 'missing_required_parameter', /image_url\.url/],
    ['a part that is not an object', chat({}, [{ role: 'user', content: ['a'] }]), 'messages[0].content[0]', 'invalid_type', /content part/],
    ['a tool message without tool_call_id', chat({}, [...user, { role: 'tool', content: '1' }]), 'messages[1].tool_call_id', 'missing_required_parameter', /required for tool messages/],
    ['a tool call without a function name', chat({}, [...user, { role: 'assistant', tool_calls: [{ id: 'c', function: {} }] }]), 'messages[1].tool_calls[0].function.name', 'missing_required_parameter', /function\.name/],
    ['stream_options without stream', chat({ stream_options: { include_usage: true } }), 'stream_options', 'invalid_value', /only allowed when 'stream' is enabled/],
    ['stream not a boolean', chat({ stream: 'yes' }), 'stream', 'invalid_type', /must be a boolean, got a string/],
    ['temperature out of range', chat({ temperature: 3 }), 'temperature', 'invalid_value', /a number between 0 and 2, got 3/],
    ['temperature not a number', chat({ temperature: 'hot' }), 'temperature', 'invalid_type', /got a string/],
    ['n not an integer', chat({ n: 1.5 }), 'n', 'invalid_type', /an integer between 1 and 128, got 1.5/],
    ['max_tokens below 1', chat({ max_tokens: 0 }), 'max_tokens', 'invalid_value', /at least 1, got 0/],
    ['stop with a number inside', chat({ stop: ['a', 1] }), 'stop[1]', 'invalid_type', /must be a string/],
    ['a tool that is not a function', chat({ tools: [{ type: 'web', function: { name: 'f' } }] }), 'tools[0].type', 'invalid_value', /must be 'function'/],
    ['a tool without a name', chat({ tools: [{ type: 'function', function: { name: '' } }] }), 'tools[0].function.name', 'invalid_value', /non-empty string/],
    ['an unknown tool_choice', chat({ tool_choice: 'maybe' }), 'tool_choice', 'invalid_type', /'none', 'auto', 'required' or an object naming a function, got "maybe"/],
    ['a response_format that is a string', chat({ response_format: 'json' }), 'response_format', 'invalid_type', /must be an object/],
  ])('rejects %s', (_name, body, param, code, message) => {
    const error = rejection(validateChatRequest, body);
    expect(error).toMatchObject({ param, code });
    expect(error.message).toMatch(message);
  });
});

describe('embeddings request validation (schema)', () => {
  it.each([['a string', 'a'], ['strings', ['a', 'b']], ['tokens', [1, 2]], ['token arrays', [[1], [2, 3]]]])('accepts %s', (_name, input) => {
    const body = { model: 'e', input, encoding_format: 'base64', dimensions: 256, extra: true };
    expect(validateEmbeddingsRequest(body)).toBe(body);
  });

  it.each([
    ['no input', { model: 'e' }, 'input', 'missing_required_parameter', /Missing required parameter: 'input'/],
    ['an empty input array', { model: 'e', input: [] }, 'input', 'invalid_value', /non-empty string, an array of non-empty strings, or token arrays, got an empty array/],
    ['mixed strings and tokens', { model: 'e', input: [1, 'a'] }, 'input', 'invalid_value', /or token arrays/],
    ['an empty string among strings', { model: 'e', input: ['a', ''] }, 'input[1]', 'invalid_value', /non-empty string, got an empty string/],
    ['a bad encoding_format', { model: 'e', input: 'x', encoding_format: 'hex' }, 'encoding_format', 'invalid_value', /'float' or 'base64', got "hex"/],
    ['dimensions out of range', { model: 'e', input: 'x', dimensions: 0 }, 'dimensions', 'invalid_value', /between 1 and 65536/],
  ])('rejects %s', (_name, body, param, code, message) => {
    const error = rejection(validateEmbeddingsRequest, body);
    expect(error).toMatchObject({ param, code });
    expect(error.message).toMatch(message);
  });
});

describe('validators compiled on first use (compileOnFirstUse)', () => {
  it('compiles once, when first asked for, and validates as the schema says', () => {
    const schema = Type.Object({ model: Type.String() });
    const validator = compileOnFirstUse(schema);
    const first = validator();
    expect(validator()).toBe(first);
    expect(first.Check({ model: 'gpt-4.1-mini' })).toBe(true);
    expect(first.Check({ model: 7 })).toBe(false);
  });
});
