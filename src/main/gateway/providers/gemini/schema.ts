/**
 * JSON Schema → the plain JSON Schema Gemini accepts in `parametersJsonSchema` and
 * `responseJsonSchema`. Gemini does not follow `$ref`s reliably (and rejects them in some
 * places), so every local `$ref` is inlined and the then-unused `$defs` / `definitions`
 * removed, with the keywords that only identify or annotate a schema document (`$schema`,
 * `$id`, `$comment` …). Everything else is JSON Schema that Gemini either understands or
 * ignores, so it is kept as written.
 *
 * Inlining cannot express recursion, and diamond-shaped references can grow without bound,
 * so a recursive reference, a reference chain deeper than REF_DEPTH_LIMIT or a result
 * larger than NODE_LIMIT is a 400 naming the schema's place in the request.
 */
import { invalidRequest } from '../../errors.js';

/** How many `$ref`s may be expanded inside one another. */
export const REF_DEPTH_LIMIT = 32;
/** How deeply a schema may nest at all (guards the recursion below). */
export const NESTING_LIMIT = 128;
/** How many schema objects the inlined result may hold. */
export const NODE_LIMIT = 10_000;

/** Keywords removed everywhere: document identity and annotations, and definitions once inlined. */
export const REMOVED_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$comment',
  '$vocabulary',
  '$dynamicAnchor',
  '$dynamicRef',
  '$recursiveAnchor',
  '$recursiveRef',
  '$defs',
  'definitions',
]);

/** Keywords whose value is a map of name → schema. */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
/** Keywords whose value is one schema (`items` may also be a draft-4 tuple array). */
const SCHEMA_KEYWORDS = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  'not',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
]);
/** Keywords whose value is an array of schemas. */
const SCHEMA_ARRAY_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);

type Json = unknown;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class SchemaError extends Error {}

function decodePointerToken(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
}

function lookUp(root: Json, ref: string): Json {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) {
    throw new SchemaError(
      ref.startsWith('#')
        ? `$ref '${ref}' names an anchor; only JSON-pointer references ('#/$defs/…') can be inlined`
        : `$ref '${ref}' points outside the schema; only local references ('#/$defs/…') can be inlined`,
    );
  }
  let node: Json = root;
  for (const token of ref.slice(2).split('/').map(decodePointerToken)) {
    if (Array.isArray(node) && /^\d+$/.test(token)) node = node[Number(token)];
    else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, token)) node = node[token];
    else throw new SchemaError(`$ref '${ref}' points to nothing in the schema`);
  }
  return node;
}

class Inliner {
  private nodes = 0;

  constructor(private readonly root: Json) {}

  schema(node: Json, refs: readonly string[], nesting: number): Json {
    if (typeof node === 'boolean' || !isObject(node)) return node;
    if (nesting > NESTING_LIMIT) throw new SchemaError(`the schema nests deeper than ${NESTING_LIMIT} levels`);
    if (++this.nodes > NODE_LIMIT) throw new SchemaError(`inlining its $refs would produce more than ${NODE_LIMIT} schema objects`);
    const ref = node.$ref;
    if (typeof ref === 'string') return this.reference(node, ref, refs, nesting);
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(node)) {
      if (REMOVED_KEYWORDS.has(key)) continue;
      out[key] = this.keyword(key, value, refs, nesting);
    }
    return out;
  }

  private reference(node: Record<string, Json>, ref: string, refs: readonly string[], nesting: number): Json {
    if (refs.includes(ref)) {
      throw new SchemaError(`$ref '${ref}' is recursive (${[...refs.slice(refs.indexOf(ref)), ref].join(' → ')}), and a recursive schema cannot be inlined`);
    }
    if (refs.length >= REF_DEPTH_LIMIT) throw new SchemaError(`$refs nest deeper than ${REF_DEPTH_LIMIT} levels`);
    const target = this.schema(lookUp(this.root, ref), [...refs, ref], nesting + 1);
    const siblings: Record<string, Json> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' || REMOVED_KEYWORDS.has(key)) continue;
      siblings[key] = this.keyword(key, value, refs, nesting);
    }
    if (Object.keys(siblings).length === 0) return target;
    // Keywords written beside a $ref (a description, say) refine the referenced schema.
    if (target === true || !isObject(target)) return target === false ? { not: {}, ...siblings } : siblings;
    return { ...target, ...siblings };
  }

  private keyword(key: string, value: Json, refs: readonly string[], nesting: number): Json {
    if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      const out: Record<string, Json> = {};
      for (const [name, schema] of Object.entries(value)) out[name] = this.schema(schema, refs, nesting + 1);
      return out;
    }
    if (SCHEMA_KEYWORDS.has(key)) {
      return Array.isArray(value) ? value.map((schema) => this.schema(schema, refs, nesting + 1)) : this.schema(value, refs, nesting + 1);
    }
    if (SCHEMA_ARRAY_KEYWORDS.has(key) && Array.isArray(value)) return value.map((schema) => this.schema(schema, refs, nesting + 1));
    // enum, const, default, examples, required …: values, not schemas.
    return value;
  }
}

/**
 * Returns `schema` with every `$ref` inlined and unsupported keywords removed. `param` names
 * the schema's place in the client request (e.g. `tools[0].function.parameters`) for the
 * 400 a schema that cannot be inlined gets.
 */
export function toGeminiJsonSchema(schema: unknown, param: string): unknown {
  if (typeof schema !== 'boolean' && !isObject(schema)) {
    throw invalidRequest(`'${param}' must be a JSON Schema object.`, param, 'invalid_schema');
  }
  try {
    return new Inliner(schema).schema(schema, [], 0);
  } catch (error) {
    if (error instanceof SchemaError) {
      throw invalidRequest(`'${param}' cannot be sent to Gemini: ${error.message}.`, param, 'invalid_schema');
    }
    throw error;
  }
}
