/**
 * The OpenAI chat-completions and embeddings requests as the gateway interprets them, in
 * TypeBox (JSON Schema with static types). Compiled once by `request-validation.ts`; the
 * openai-chat decoder validates with these too.
 *
 * Unknown fields are allowed everywhere (objects are open): the gateway forwards them, or an
 * adapter drops them with a warning. Optional parameters also accept `null` (clients send
 * `null` for "unset"), except where the gateway has always refused it (`tools`, `tool_calls`).
 *
 * Annotations read by the error mapper (ignored by the validator):
 * - `expected`: what the value must be, in words ("a string or an array of content parts");
 *   without it the words are derived from the schema.
 * - `missing`: the message when the property is absent (or null where that is not allowed);
 *   `{param}` stands for the field's name.
 * - `error`: on a `then`/`else` branch, the fixed error to answer when the branch fails.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

/**
 * `schema` or null: a JSON Schema `type` array where the schema has one type (one check and
 * one error, not an anyOf of two), else one more `anyOf` branch.
 */
function nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const node = schema as TSchema & { type?: unknown; anyOf?: unknown[] };
  if (typeof node.type === 'string') return Type.Unsafe<Static<T> | null>({ ...node, type: [node.type, 'null'] });
  if (Array.isArray(node.anyOf)) return Type.Unsafe<Static<T> | null>({ ...node, anyOf: [...node.anyOf, { type: 'null' }] });
  throw new Error('nullable: a schema with one type or an anyOf');
}

/** A `role` or `type` discriminator test for an `if`. */
function whenField(field: string, value: string): Record<string, unknown> {
  return { properties: { [field]: { const: value } }, required: [field] };
}

// ─── Content parts ───────────────────────────────────────────────────────────────────────

export const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() });
export const ImageUrlPart = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Object({ url: Type.String(), detail: Type.Optional(Type.String()) }),
});
export const InputAudioPart = Type.Object({
  type: Type.Literal('input_audio'),
  input_audio: Type.Object({ data: Type.String(), format: Type.String() }),
});
export const FilePart = Type.Object({
  type: Type.Literal('file'),
  file: Type.Object({ file_data: Type.Optional(Type.String()), file_id: Type.Optional(Type.String()), filename: Type.Optional(Type.String()) }),
});
export const RefusalPart = Type.Object({ type: Type.Literal('refusal'), refusal: Type.String() });

const KNOWN_PARTS = [TextPart, ImageUrlPart, InputAudioPart, FilePart, RefusalPart];

/**
 * One content part: an object with a string `type`; the known types must have their fields.
 * Other types pass (an adapter that cannot send them says so by name). The known shapes are
 * applied by `type` with if/then, so an error points into the part the client meant.
 */
export const ContentPart = Type.Unsafe<Static<typeof TextPart> | Static<typeof ImageUrlPart> | Static<typeof InputAudioPart> | Static<typeof FilePart> | Static<typeof RefusalPart> | { type: string; [key: string]: unknown }>({
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
  expected: "a content part (an object with a 'type')",
  allOf: KNOWN_PARTS.map((part) => ({ if: whenField('type', (part.properties.type as { const: string }).const), then: part })),
});

export const MessageContent = nullable(Type.Union([Type.String(), Type.Array(ContentPart)], { expected: 'a string or an array of content parts' }));

// ─── Messages ────────────────────────────────────────────────────────────────────────────

export const ToolCall = Type.Object({
  id: Type.String(),
  type: Type.Optional(Type.String()),
  function: Type.Object({ name: Type.String(), arguments: Type.Optional(Type.String()) }),
});

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

/** `content` present and not null, for this role. */
function presentContent(role: string): Record<string, unknown> {
  return { type: ['string', 'array'], missing: `'{param}' is required for role '${role}'.` };
}

/** Content must be there (and not null) for this role. */
function contentRequired(role: string): Record<string, unknown> {
  return { required: ['content'], properties: { content: presentContent(role) } };
}

/** An assistant turn may leave out content when it carries tool calls, a function call or a refusal. */
const ASSISTANT_WITHOUT_CONTENT = {
  anyOf: [{ required: ['tool_calls'] }, { required: ['function_call'] }, { required: ['refusal'], properties: { refusal: { not: { type: 'null' } } } }],
};

export const ChatMessage = Type.Object(
  {
    role: Type.Enum([...ROLES]),
    content: Type.Optional(MessageContent),
    name: Type.Optional(nullable(Type.String())),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
    tool_call_id: Type.Optional(Type.String()),
    refusal: Type.Optional(nullable(Type.String())),
    reasoning_content: Type.Optional(nullable(Type.String())),
  },
  {
    allOf: [
      ...(['system', 'developer', 'user', 'function'] as const).map((role) => ({ if: whenField('role', role), then: contentRequired(role) })),
      {
        if: whenField('role', 'tool'),
        then: {
          required: ['tool_call_id', 'content'],
          properties: { tool_call_id: { type: 'string', missing: "'{param}' is required for tool messages." }, content: presentContent('tool') },
        },
      },
      { if: whenField('role', 'assistant'), then: { if: ASSISTANT_WITHOUT_CONTENT, else: contentRequired('assistant') } },
    ],
  },
);

// ─── Tools and formats ───────────────────────────────────────────────────────────────────

/** Any JSON object, left as it is (a JSON Schema the upstream checks; `Type.Record` would walk its keys). */
const JsonObject = Type.Unsafe<Record<string, unknown>>({ type: 'object' });

export const FunctionTool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(nullable(Type.String())),
    parameters: Type.Optional(JsonObject),
    strict: Type.Optional(nullable(Type.Boolean())),
  }),
});

export const ToolChoice = Type.Union(
  [
    Type.Enum(['none', 'auto', 'required']),
    Type.Object(
      { type: Type.String(), function: Type.Optional(Type.Object({ name: Type.String() })) },
      { allOf: [{ if: whenField('type', 'function'), then: { required: ['function'] } }] },
    ),
  ],
  { expected: "'none', 'auto', 'required' or an object naming a function" },
);

export const ResponseFormat = Type.Object(
  {
    type: Type.String(),
    json_schema: Type.Optional(
      Type.Object({
        name: Type.Optional(Type.String()),
        description: Type.Optional(Type.String()),
        schema: Type.Optional(JsonObject),
        strict: Type.Optional(nullable(Type.Boolean())),
      }),
    ),
  },
  { allOf: [{ if: whenField('type', 'json_schema'), then: { required: ['json_schema'] } }] },
);

export const StreamOptions = Type.Object({ include_usage: Type.Optional(nullable(Type.Boolean())) });

const MAX_TOKENS = Number.MAX_SAFE_INTEGER;

// ─── Chat completions ────────────────────────────────────────────────────────────────────

export const ChatCompletionRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, missing: "you must provide a model parameter ('model')." }),
    messages: Type.Array(ChatMessage, { minItems: 1, expected: 'a non-empty array of messages' }),
    stream: Type.Optional(nullable(Type.Boolean())),
    stream_options: Type.Optional(nullable(StreamOptions)),
    temperature: Type.Optional(nullable(Type.Number({ minimum: 0, maximum: 2 }))),
    top_p: Type.Optional(nullable(Type.Number({ minimum: 0, maximum: 1 }))),
    presence_penalty: Type.Optional(nullable(Type.Number({ minimum: -2, maximum: 2 }))),
    frequency_penalty: Type.Optional(nullable(Type.Number({ minimum: -2, maximum: 2 }))),
    n: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 128 }))),
    max_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: MAX_TOKENS }))),
    max_completion_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: MAX_TOKENS }))),
    seed: Type.Optional(nullable(Type.Integer())),
    stop: Type.Optional(nullable(Type.Union([Type.String(), Type.Array(Type.String())], { expected: 'a string or an array of strings' }))),
    tools: Type.Optional(Type.Array(FunctionTool)),
    tool_choice: Type.Optional(nullable(ToolChoice)),
    parallel_tool_calls: Type.Optional(nullable(Type.Boolean())),
    response_format: Type.Optional(nullable(ResponseFormat)),
    reasoning_effort: Type.Optional(nullable(Type.String())),
    user: Type.Optional(nullable(Type.String())),
  },
  {
    expected: 'a JSON object',
    allOf: [
      {
        // stream_options only with stream: true (OpenAI answers the same).
        if: { required: ['stream_options'], properties: { stream_options: { type: 'object' } } },
        then: {
          required: ['stream'],
          properties: { stream: { const: true } },
          error: { param: 'stream_options', code: 'invalid_value', message: "The 'stream_options' parameter is only allowed when 'stream' is enabled." },
        },
      },
    ],
  },
);

// ─── Embeddings ──────────────────────────────────────────────────────────────────────────

export const EmbeddingsInput = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    Type.Array(Type.Integer(), { minItems: 1 }),
    Type.Array(Type.Array(Type.Integer(), { minItems: 1 }), { minItems: 1 }),
  ],
  { expected: 'a non-empty string, an array of non-empty strings, or token arrays' },
);

export const EmbeddingsRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, missing: "you must provide a model parameter ('model')." }),
    input: EmbeddingsInput,
    encoding_format: Type.Optional(Type.Enum(['float', 'base64'])),
    dimensions: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 65536 }))),
    user: Type.Optional(nullable(Type.String())),
  },
  { expected: 'a JSON object' },
);

export type ChatCompletionRequestWire = Static<typeof ChatCompletionRequest>;
export type EmbeddingsRequestWire = Static<typeof EmbeddingsRequest>;
