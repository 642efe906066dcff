/**
 * OpenAI `response_format` → Anthropic.
 *
 * - `json_schema` on a family with structured outputs (model-defaults.ts) → `output_config.format =
 *   {type:"json_schema", schema}`, the schema reduced to what Anthropic's constrained decoding
 *   accepts, the way Anthropic's own SDKs do it: every object gets `additionalProperties: false`,
 *   and unsupported constraints (minimum, maxLength …) move into the description.
 * - `json_schema` on other families, and `json_object` everywhere (Anthropic has no schema-less
 *   JSON mode) → an instruction appended to `system`, with a warning: the model is asked, not forced.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keywords Anthropic's structured outputs reject; their values are kept as a note in the description. */
const UNSUPPORTED_CONSTRAINTS = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'patternProperties',
  'propertyNames',
]);

const SUPPORTED_STRING_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);

/** Keywords whose value is one schema; and those holding a list or a map of schemas. */
const SCHEMA_KEYWORDS = ['items', 'not', 'contains', 'if', 'then', 'else'];
const SCHEMA_LIST_KEYWORDS = ['anyOf', 'allOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAP_KEYWORDS = ['properties', '$defs', 'definitions'];

export function structuredOutputSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const result: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (UNSUPPORTED_CONSTRAINTS.has(key)) {
      notes.push(`${key}: ${JSON.stringify(value)}`);
    } else if (key === 'minItems' && typeof value === 'number' && value > 1) {
      notes.push(`minItems: ${value}`);
      result.minItems = 1;
    } else if (key === 'format' && typeof value === 'string' && !SUPPORTED_STRING_FORMATS.has(value)) {
      notes.push(`format: ${JSON.stringify(value)}`);
    } else if (SCHEMA_KEYWORDS.includes(key)) {
      result[key] = structuredOutputSchema(value);
    } else if (SCHEMA_LIST_KEYWORDS.includes(key) && Array.isArray(value)) {
      result[key] = value.map(structuredOutputSchema);
    } else if (SCHEMA_MAP_KEYWORDS.includes(key) && isRecord(value)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, structuredOutputSchema(inner)]));
    } else if (key !== 'additionalProperties') {
      result[key] = value;
    }
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('object') || isRecord(schema.properties)) result.additionalProperties = false;
  if (notes.length > 0) {
    const description = typeof schema.description === 'string' && schema.description.length > 0 ? `${schema.description}\n` : '';
    result.description = `${description}{${notes.join(', ')}}`;
  }
  return result;
}

export const JSON_OBJECT_INSTRUCTION = 'Respond with one valid JSON object and nothing else: no prose before or after it, no Markdown code fences.';

export function jsonSchemaInstruction(name: string | undefined, schema: unknown): string {
  const label = name ? ` (${name})` : '';
  return `Respond with one valid JSON value and nothing else: no prose before or after it, no Markdown code fences. It must conform to this JSON Schema${label}:\n${JSON.stringify(schema ?? {})}`;
}
