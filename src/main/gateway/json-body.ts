/**
 * Parsing a client's JSON body without letting its shape hurt the process. Nesting is
 * counted with one linear scan of the text before JSON.parse sees it: a value nested
 * thousands of levels deep is 24 KB of brackets, parses fine, and then overflows the
 * stack of every recursive consumer after it (structured clone to the log's writer
 * thread, JSON.stringify, redaction, content addressing). Such bodies are refused with a
 * 400 naming the limit; JSON.parse's own RangeError on very deep input becomes one too.
 */
import { GatewayError } from './errors.js';

/**
 * Deepest nesting of objects and arrays a body may have. Real requests stay far below:
 * the captured Claude Code and Codex requests reach 11 and 13 levels, and JSON-schema
 * tool parameters with nested objects a few dozen at most.
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

/** What one scan of a JSON text tells, before it is parsed. */
export interface JsonShape {
  /** The deepest nesting of objects and arrays. */
  depth: number;
  /**
   * Members written in every object of the text (`:` outside strings), duplicates included:
   * fewer keys in the parsed value than this (jsonKeyCount) means a key was written twice.
   */
  keys: number;
}

/**
 * The deepest nesting in `text` and the keys written in its objects, counting `{`/`[` and
 * `:` outside JSON strings (escapes respected), stopping as soon as the depth passes
 * `stopAbove`. Linear in the text's length. Malformed text gives some numbers; JSON.parse
 * judges validity afterwards.
 */
export function jsonShape(text: string, stopAbove = Number.POSITIVE_INFINITY): JsonShape {
  let depth = 0;
  let deepest = 0;
  let keys = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      // Skip the string: jump from quote to quote (indexOf is fast on long text); a quote
      // after an odd run of backslashes is escaped and does not end it.
      let end = text.indexOf('"', index + 1);
      while (end !== -1) {
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes += 1;
        if (backslashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) break;
      index = end;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) break;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      if (depth > 0) depth -= 1;
    } else if (code === COLON) {
      keys += 1;
    }
  }
  return { depth: deepest, keys };
}

/**
 * The keys of every object in a parsed JSON value. Equal to jsonShape(text).keys exactly when
 * no object in the text was written with a key twice: then every JSON reader, whether it keeps
 * a repeated key's first value, its last or refuses it, reads the text as JSON.parse did.
 */
export function jsonKeyCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += jsonKeyCount(item);
    return count;
  }
  for (const key in value) count += 1 + jsonKeyCount((value as Record<string, unknown>)[key]);
  return count;
}

function tooDeep(maximumDepth: number): GatewayError {
  return new GatewayError(
    400,
    `The JSON body of your request is nested more than ${maximumDepth} levels deep (objects and arrays inside each other); this gateway accepts at most ${maximumDepth}.`,
    { type: 'invalid_request_error', code: 'json_too_deep' },
  );
}

/**
 * JSON.parse behind the nesting limit, with the keys the text's objects were written with
 * (JsonShape). Throws a GatewayError (400) for a body nested past MAX_JSON_DEPTH and rethrows
 * anything else JSON.parse throws (a SyntaxError) for the caller to word.
 */
export function parseJsonCounted(text: string, maximumDepth = MAX_JSON_DEPTH): { value: unknown; keys: number } {
  const shape = jsonShape(text, maximumDepth);
  if (shape.depth > maximumDepth) throw tooDeep(maximumDepth);
  try {
    return { value: JSON.parse(text), keys: shape.keys };
  } catch (error) {
    // Only reachable with a limit raised past what V8's parser can recurse through.
    if (error instanceof RangeError) throw tooDeep(maximumDepth);
    throw error;
  }
}
