/**
 * The OpenAI Responses request (`POST /v1/responses`) as the gateway checks it, in TypeBox.
 * Lenient: objects are open, unknown fields pass (to OpenAI with the rest of the body as it is;
 * left out of a translated request); only what the decoder reads must have its type.
 */
import { Type } from 'typebox';

const InputItem = Type.Unsafe<Record<string, unknown>>({ type: 'object', expected: 'an input item (an object)' });

export const ResponsesRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Optional(Type.Union([Type.String(), Type.Array(InputItem)], { expected: 'a string or an array of input items' })),
  instructions: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tools: Type.Optional(Type.Array(Type.Unsafe<Record<string, unknown>>({ type: 'object', required: ['type'], properties: { type: { type: 'string' } } }))),
  tool_choice: Type.Optional(Type.Unknown()),
  max_output_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  temperature: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  top_p: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  reasoning: Type.Optional(Type.Union([Type.Unsafe<Record<string, unknown>>({ type: 'object' }), Type.Null()])),
  text: Type.Optional(Type.Union([Type.Unsafe<Record<string, unknown>>({ type: 'object' }), Type.Null()])),
  parallel_tool_calls: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  store: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  include: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  prompt_cache_key: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  metadata: Type.Optional(Type.Union([Type.Unsafe<Record<string, string>>({ type: 'object' }), Type.Null()])),
  previous_response_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  user: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export interface ResponsesRequestWire {
  model: string;
  input?: string | Array<Record<string, unknown>>;
  instructions?: string | null;
  tools?: Array<Record<string, unknown>>;
  tool_choice?: unknown;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stream?: boolean | null;
  reasoning?: Record<string, unknown> | null;
  text?: Record<string, unknown> | null;
  parallel_tool_calls?: boolean | null;
  store?: boolean | null;
  include?: string[] | null;
  prompt_cache_key?: string | null;
  metadata?: Record<string, string> | null;
  previous_response_id?: string | null;
  user?: string | null;
  [key: string]: unknown;
}
