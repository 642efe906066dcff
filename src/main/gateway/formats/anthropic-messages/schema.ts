/**
 * The Anthropic Messages request (`POST /v1/messages`) and the count_tokens request as the
 * gateway checks them, in TypeBox. Objects are open: fields the gateway has no name for pass
 * (to an Anthropic upstream unchanged, to others dropped with a warning). The known content
 * block types and tool choices must have their fields, applied by `type` with if/then so an
 * error points into the block the client meant. Annotations (`expected`, `missing`) are read
 * by the shared error mapper (request-validation.ts), which names the field.
 */
import { Type, type Static } from 'typebox';

function whenType(value: string): Record<string, unknown> {
  return { properties: { type: { const: value } }, required: ['type'] };
}

const JsonObject = Type.Unsafe<Record<string, unknown>>({ type: 'object' });

const CacheControl = Type.Object({ type: Type.Literal('ephemeral'), ttl: Type.Optional(Type.Enum(['5m', '1h'])) });

const BLOCK_RULES: Record<string, Record<string, unknown>> = {
  text: { required: ['text'], properties: { text: { type: 'string' } } },
  image: { required: ['source'], properties: { source: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } } } },
  document: { required: ['source'], properties: { source: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } } } },
  tool_use: { required: ['id', 'name', 'input'], properties: { id: { type: 'string' }, name: { type: 'string', minLength: 1 }, input: { type: 'object' } } },
  tool_result: { required: ['tool_use_id'], properties: { tool_use_id: { type: 'string' }, content: { type: ['string', 'array'] }, is_error: { type: 'boolean' } } },
  thinking: { required: ['thinking', 'signature'], properties: { thinking: { type: 'string' }, signature: { type: 'string' } } },
  redacted_thinking: { required: ['data'], properties: { data: { type: 'string' } } },
};

/** One content block: an object with a string `type`; the known types must have their fields. */
export const ContentBlock = Type.Unsafe<{ type: string; [key: string]: unknown }>({
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' }, cache_control: CacheControl },
  expected: "a content block (an object with a 'type')",
  allOf: Object.entries(BLOCK_RULES).map(([type, then]) => ({ if: whenType(type), then })),
});

export const Message = Type.Object({
  role: Type.Enum(['user', 'assistant']),
  content: Type.Union([Type.String(), Type.Array(ContentBlock)], { expected: 'a string or an array of content blocks' }),
});

export const SystemPrompt = Type.Union([Type.String(), Type.Array(Type.Object({ type: Type.Literal('text'), text: Type.String(), cache_control: Type.Optional(CacheControl) }))], {
  expected: 'a string or an array of text blocks',
});

/** A custom tool (no `type`, or `custom`) needs a name and an input schema; server tools (`web_search_20250305` …) a type and a name. */
export const Tool = Type.Unsafe<{ name: string; type?: string; input_schema?: Record<string, unknown>; [key: string]: unknown }>({
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, type: { type: 'string' }, description: { type: 'string' }, cache_control: CacheControl },
  allOf: [
    {
      if: { anyOf: [{ not: { required: ['type'] } }, whenType('custom')] },
      then: { required: ['input_schema'], properties: { input_schema: { type: 'object' } } },
    },
  ],
});

export const ToolChoice = Type.Unsafe<{ type: 'auto' | 'any' | 'tool' | 'none'; name?: string; disable_parallel_tool_use?: boolean }>({
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['auto', 'any', 'tool', 'none'] }, disable_parallel_tool_use: { type: 'boolean' } },
  allOf: [{ if: whenType('tool'), then: { required: ['name'], properties: { name: { type: 'string' } } } }],
});

export const Thinking = Type.Unsafe<{ type: 'enabled' | 'disabled' | 'adaptive'; budget_tokens?: number; display?: string }>({
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['enabled', 'disabled', 'adaptive'] } },
  allOf: [{ if: whenType('enabled'), then: { required: ['budget_tokens'], properties: { budget_tokens: { type: 'integer', minimum: 1024 } } } }],
});

const common = {
  model: Type.String({ minLength: 1, missing: "'{param}': Field required" }),
  messages: Type.Array(Message, { expected: 'an array of messages' }),
  system: Type.Optional(SystemPrompt),
  tools: Type.Optional(Type.Array(Tool)),
  tool_choice: Type.Optional(ToolChoice),
  thinking: Type.Optional(Thinking),
  output_config: Type.Optional(JsonObject),
};

export const MessagesRequest = Type.Object(
  {
    ...common,
    max_tokens: Type.Integer({ minimum: 1, missing: "'{param}': Field required" }),
    stop_sequences: Type.Optional(Type.Array(Type.String())),
    stream: Type.Optional(Type.Boolean()),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 0 })),
    metadata: Type.Optional(Type.Object({ user_id: Type.Optional(Type.Union([Type.String(), Type.Null()])) })),
  },
  { expected: 'a JSON object' },
);

export const CountTokensRequest = Type.Object(common, { expected: 'a JSON object' });

export type MessagesRequestWire = Static<typeof MessagesRequest> & Record<string, unknown>;
export type CountTokensRequestWire = Static<typeof CountTokensRequest> & Record<string, unknown>;
