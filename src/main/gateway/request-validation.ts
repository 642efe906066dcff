/**
 * Checks client request bodies before anything is sent upstream, so a bad request gets a
 * 400 that names the field (`param`) instead of an upstream's less helpful answer.
 * Unknown fields are allowed: they are forwarded (or dropped with a warning by an adapter).
 *
 * The rules are the TypeBox schemas in `formats/openai-chat/schema.ts`, compiled once to a
 * JIT validator: a valid request costs one `Check`. Only a failing request pays for
 * `Errors`, and for turning TypeBox's errors into one OpenAI-style error: the field as
 * OpenAI spells it (`messages[2].content`), what was expected and what came instead.
 *
 * In the built gateway the checks of the schemas in request-schemas.ts are TypeBox's own code
 * generated at build time (precompiled-checks.ts), so a start neither builds nor evaluates them.
 */
import { Compile } from 'typebox/compile';
import { Guard } from 'typebox/guard';
import { CheckContext } from 'typebox/schema';
import { Hashing } from 'typebox/system';
import { Errors } from 'typebox/value';
import type { TSchema } from 'typebox';
import { GatewayError, invalidRequest } from './errors.js';
import { ChatCompletionRequest as ChatSchema, EmbeddingsRequest as EmbeddingsSchema } from './formats/openai-chat/schema.js';
import type { ChatCompletionRequest, EmbeddingsRequest } from './openai-types.js';
import { precompiledChecks, type CheckFactory } from './precompiled-checks.js';
import { REQUEST_SCHEMAS } from './request-schemas.js';

/** What the gateway uses of a TypeBox validator. */
export interface SchemaValidator {
  Check(value: unknown): boolean;
  Errors(value: unknown): SchemaFailure[];
}

const precompiledBySchema = new Map<TSchema, CheckFactory>();
for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) {
  const factory = precompiledChecks[name];
  if (factory) precompiledBySchema.set(schema, factory);
}

/**
 * A schema's validator: from a check generated at build time when there is one (`factory`, by
 * default the build's for this schema), else compiled by TypeBox now. Either answers `Check` and
 * `Errors` alike: the check is TypeBox's own code, given what TypeBox gives it when it evaluates
 * that code itself (no external values: the build refuses schemas that need any).
 */
export function requestValidator(schema: TSchema, factory = precompiledBySchema.get(schema)): SchemaValidator {
  if (!factory) return Compile(schema);
  const check = factory(CheckContext, Guard, Hashing, []);
  return {
    Check: check,
    Errors: (value) => (check(value) ? [] : (Errors({}, schema, value) as SchemaFailure[])),
  };
}

const chatValidator = requestValidator(ChatSchema);
const embeddingsValidator = compileOnFirstUse(EmbeddingsSchema);

/**
 * A schema's validator, made when first asked for. Without a check generated at build time
 * (from sources), TypeBox compiles with `new Function`, which the start-up code cache cannot
 * hold: the routes most starts never see (embeddings, Anthropic Messages and count_tokens, the
 * Responses API) do not pay for it at start-up. Chat completions' validator is made at load,
 * so the first chat request does not wait.
 */
export function compileOnFirstUse(schema: TSchema): () => SchemaValidator {
  let validator: SchemaValidator | undefined;
  return () => (validator ??= requestValidator(schema));
}

export function validateChatRequest(body: unknown): ChatCompletionRequest {
  if (chatValidator.Check(body)) return body as unknown as ChatCompletionRequest;
  throw schemaError(ChatSchema, chatValidator.Errors(body), body);
}

export function validateEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const validator = embeddingsValidator();
  if (validator.Check(body)) return body as unknown as EmbeddingsRequest;
  throw schemaError(EmbeddingsSchema, validator.Errors(body), body);
}

// ─── TypeBox errors → one GatewayError ───────────────────────────────────────────────────

type SchemaNode = Record<string, unknown>;

/** The fields of a TypeBox validation error that are read here. */
interface SchemaFailure {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** Keywords that, at a union's own value, only say "this branch is another shape". */
const SHAPE_KEYWORDS = new Set(['type', 'const', 'enum']);

/**
 * The error to answer for a value `schema` rejected. `errors` are TypeBox's, relative to
 * `value`, which sits at JSON pointer `base` in `body`.
 */
export function schemaError(schema: TSchema, errors: SchemaFailure[], body: unknown, base = '', value: unknown = body): GatewayError {
  const failure = pick(errors);
  if (!failure) return invalidRequest(`The request body is invalid at '${paramOf(body, base) || 'the top level'}'.`, paramOf(body, base) || null, 'invalid_value');
  const node = (resolve(schema, failure.schemaPath) ?? {}) as SchemaNode;
  const path = base + failure.instancePath;

  if (failure.keyword === 'if') {
    // A conditional rule failed (a part of type 'text' without text, a tool message without
    // tool_call_id): TypeBox names only the rule; validate against its branch to say why.
    const branch = node[String(failure.params.failingKeyword)] as SchemaNode | undefined;
    const fixed = branch?.error as { message: string; param: string | null; code: string } | undefined;
    if (fixed) return invalidRequest(fixed.message, fixed.param, fixed.code);
    if (branch) {
      const inner = valueAt(value, failure.instancePath);
      return schemaError(branch as TSchema, validatorFor(branch).Errors(inner), body, path, inner);
    }
  }

  if (failure.keyword === 'required') {
    const name = String((failure.params.requiredProperties as unknown[] | undefined)?.[0] ?? '');
    const child = (node.properties as Record<string, SchemaNode> | undefined)?.[name];
    const param = paramOf(body, `${path}/${escapePointer(name)}`);
    return invalidRequest(missingMessage(child, param), param, 'missing_required_parameter');
  }

  const actual = valueAt(body, path);
  const param = paramOf(body, path);
  if ((actual === null || actual === undefined) && typeof node.missing === 'string') {
    return invalidRequest(missingMessage(node, param), param, 'missing_required_parameter');
  }
  const expected = expectedOf(node);
  const got = describeValue(actual, failure.keyword === 'type');
  const code =
    failure.keyword === 'type' || (failure.keyword === 'anyOf' && !failure.params.matched)
      ? 'invalid_type'
      : failure.keyword === 'minItems' && Array.isArray(actual) && actual.length === 0
        ? 'empty_array'
        : 'invalid_value';
  if (!param) return invalidRequest(`The request body must be ${expected}, got ${got}.`, null, code);
  return invalidRequest(`'${param}' must be ${expected}, got ${got}.`, param, code);
}

/**
 * The one error to report: TypeBox's first, unless it lies inside a union (`anyOf`), where
 * every branch reports. There the branch the client meant is the one whose errors are not
 * mere shape mismatches at the union's value (it got further, into the value); with one such
 * branch its errors decide, otherwise the union itself is reported ("must be a string or …").
 * `within` is the schema path of a union branch already chosen.
 */
function pick(errors: SchemaFailure[], within = ''): SchemaFailure | undefined {
  const first = errors[0];
  if (!first) return undefined;
  const at = first.schemaPath.indexOf('/anyOf/', within.length);
  if (at < 0) return first;
  const unionPath = first.schemaPath.slice(0, at);
  const prefix = `${unionPath}/anyOf/`;
  const instance = instancePrefix(first.instancePath, unionPath);
  const inside = errors.filter(
    (error) => error.schemaPath.startsWith(prefix) && (error.instancePath === instance || error.instancePath.startsWith(`${instance}/`)),
  );
  const union: SchemaFailure = { keyword: 'anyOf', schemaPath: unionPath, instancePath: instance, params: {}, message: '' };
  const branchOf = (error: SchemaFailure) => error.schemaPath.slice(prefix.length).split('/')[0]!;
  const candidates = inside.filter((error) => !(error.instancePath === instance && SHAPE_KEYWORDS.has(error.keyword)));
  if (candidates.length === 0) return union;
  const depth = (error: SchemaFailure) => error.instancePath.split('/').length + (error.keyword === 'required' ? 1 : 0);
  const deepest = Math.max(...candidates.map(depth));
  let best = candidates.filter((error) => depth(error) === deepest);
  const precise = best.filter((error) => error.keyword !== 'type');
  if (precise.length > 0) best = precise;
  const branch = branchOf(best[0]!);
  if (best.some((error) => branchOf(error) !== branch)) return { ...union, params: { matched: true } };
  return pick(
    inside.filter((error) => branchOf(error) === branch),
    `${prefix}${branch}`,
  );
}

/**
 * The part of `instancePath` a schema path has walked into: `properties/x`, `items`,
 * `prefixItems/n` and `additionalProperties` each step one level into the value; `anyOf`,
 * `allOf`, `if`/`then`/`else` stay at the same value.
 */
function instancePrefix(instancePath: string, schemaPath: string): string {
  const schema = segments(schemaPath);
  let steps = 0;
  for (let index = 0; index < schema.length; index++) {
    const keyword = schema[index];
    if (keyword === 'properties' || keyword === 'patternProperties' || keyword === 'prefixItems') {
      steps++;
      index++;
    } else if (keyword === 'items' || keyword === 'additionalProperties') steps++;
    else if (keyword === 'anyOf' || keyword === 'allOf' || keyword === 'oneOf' || keyword === '$defs') index++;
  }
  const instance = instancePath.split('/');
  return instance.slice(0, steps + 1).join('/');
}

const branchValidators = new WeakMap<object, SchemaValidator>();

function validatorFor(schema: SchemaNode): SchemaValidator {
  let validator = branchValidators.get(schema);
  if (!validator) branchValidators.set(schema, (validator = Compile(schema as TSchema)));
  return validator;
}

function missingMessage(node: SchemaNode | undefined, param: string): string {
  const template = typeof node?.missing === 'string' ? node.missing : "Missing required parameter: '{param}'.";
  return template.replaceAll('{param}', param);
}

/** What a schema node accepts, in words: its `expected` annotation, else derived. */
function expectedOf(node: SchemaNode): string {
  if (typeof node.expected === 'string') return node.expected;
  if ('const' in node) return quote(node.const);
  if (Array.isArray(node.enum)) {
    const values = node.enum.map(quote);
    if (values.length <= 2) return values.join(' or ');
    return `one of ${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
  }
  if (Array.isArray(node.anyOf)) {
    const branches = (node.anyOf as SchemaNode[]).filter((branch) => branch.type !== 'null').map(expectedOf);
    return [...new Set(branches)].join(' or ');
  }
  const type = (Array.isArray(node.type) ? node.type : [node.type]).find((name) => name !== 'null');
  switch (type) {
    case 'string':
      return typeof node.minLength === 'number' && node.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'number':
    case 'integer': {
      const kind = type === 'integer' ? 'an integer' : 'a number';
      const minimum = typeof node.minimum === 'number' ? node.minimum : undefined;
      const maximum = typeof node.maximum === 'number' && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
      if (minimum !== undefined && maximum !== undefined) return `${kind} between ${minimum} and ${maximum}`;
      if (minimum !== undefined) return `${kind} of at least ${minimum}`;
      if (maximum !== undefined) return `${kind} of at most ${maximum}`;
      return kind;
    }
    case 'boolean':
      return 'a boolean';
    case 'array':
      return typeof node.minItems === 'number' && node.minItems > 0 ? 'a non-empty array' : 'an array';
    case 'object':
      return 'an object';
    default:
      return 'a valid value';
  }
}

/** What came instead: its type, or (for a value of the right type) the value itself, shortened. */
function describeValue(value: unknown, typeOnly: boolean): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    if (value.length === 0) return 'an empty string';
    if (typeOnly) return 'a string';
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  return `a ${typeof value}`;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

// ─── JSON pointers ───────────────────────────────────────────────────────────────────────

function segments(pointer: string): string[] {
  return pointer === '' || pointer === '#' ? [] : pointer.replace(/^#/, '').slice(1).split('/').map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The schema node at a TypeBox `schemaPath` such as `#/properties/messages/items`. */
function resolve(schema: unknown, schemaPath: string): unknown {
  let node = schema;
  for (const part of segments(schemaPath)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const part of segments(pointer)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** `/messages/2/content/0` → `messages[2].content[0]` (indexes only where the value is an array). */
function paramOf(body: unknown, pointer: string): string {
  let param = '';
  let current = body;
  for (const part of segments(pointer)) {
    if (Array.isArray(current)) param += `[${part}]`;
    else param += param === '' ? part : `.${part}`;
    current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[part] : undefined;
  }
  return param;
}
