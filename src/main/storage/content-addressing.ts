/**
 * Content addressing for stored messages: a canonical JSON form (sorted keys), a hash of
 * it, and the rewriting of request/response bodies so that their message lists are stored
 * as references (`{"$message": hash}`) to rows of the `messages` table. Also the
 * defensive redaction of secret-looking fields before anything is stored.
 */
import { hash } from 'node:crypto';

/**
 * Where a request's stored values are linked from (request_messages.part): the client's body's
 * messages (0), the upstream body's (1), the response's (2), and the whole members of the
 * client's and the upstream's body (4, 5: apart, so the conversation view, which reads 0 and 2,
 * does not take a tool list for a message). Part 3 was a continued Responses answer's whole
 * conversation, written by no build since (see migrations.ts, migration 5).
 */
export const MESSAGE_PARTS = { request: 0, upstream: 1, response: 2, requestMembers: 4, upstreamMembers: 5 } as const;

/** Placeholder key used inside stored bodies in place of a message object. */
export const MESSAGE_REFERENCE_KEY = '$message';

/**
 * What `bodies.upstream_request_json` holds when the upstream was sent the client's body
 * unchanged (a same-format request: the common case): the body is stored once, in
 * `request_json`, and read back for both. An agent's 30 KB history is then not written twice,
 * nor its message links. Valid JSON, so a build that predates it shows the marker rather than failing.
 */
export const UPSTREAM_SAME_AS_REQUEST = '{"$sameAs":"request"}';

const UPSTREAM_SAME_AS_REQUEST_WITH = '{"$sameAs":"request","$with":';

/**
 * What `bodies.upstream_request_json` holds when the upstream was sent the client's body with
 * top-level members added and nothing else changed (an OpenAI stream, to which the gateway
 * adds `stream_options.include_usage`; see addedMembers): `{"$sameAs":"request","$with":{…members}}`,
 * read back as the request's body with those members set (upstreamMarker). `withJson`: the
 * members as JSON, redacted like any stored body.
 */
export function upstreamSameAsRequestWith(withJson: string): string {
  return `${UPSTREAM_SAME_AS_REQUEST_WITH}${withJson}}`;
}

/**
 * A stored upstream body read as a marker: `{ with: null }` for "the request's body",
 * `{ with: members }` for "the request's body with these members set", null for a body stored
 * as itself. Only the writer's two exact shapes are markers (a request with just `$sameAs`
 * and `$with` is no valid request of any API, so it never reaches the log as an upstream body).
 */
export function upstreamMarker(text: string | null): { with: Record<string, unknown> | null } | null {
  if (text === UPSTREAM_SAME_AS_REQUEST) return { with: null };
  if (text === null || !text.startsWith(UPSTREAM_SAME_AS_REQUEST_WITH)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(parsed) || Object.keys(parsed).length !== 2 || parsed.$sameAs !== 'request' || !isRecord(parsed.$with)) return null;
  return { with: parsed.$with };
}

/**
 * Request members stored once per distinct value, as they came (addressRequestBody): a tool list,
 * a system prompt or instructions, which an agent sends unchanged with every request (tens of KB
 * each for Claude Code or Codex), stored once and referenced by every request that sends them.
 */
const VERBATIM_MEMBERS = ['tools', 'system', 'instructions', 'systemInstruction'] as const;
/** The JSON length from which such a member is stored apart (a reference and its link take ~60 bytes). */
const SHORTEST_STORED_MEMBER = 256;

/** Request members a read may find stored whole as one reference: a Responses input given as text, and VERBATIM_MEMBERS. */
const WHOLE_VALUE_SITES = ['input', ...VERBATIM_MEMBERS];

/** Request members stored content-addressed (addressRequestBody): never stored as a marker's `$with`. */
const ADDRESSED_REQUEST_MEMBERS = new Set<string>(['messages', 'contents', 'input', ...VERBATIM_MEMBERS]);

/**
 * The members `upstream` adds to `request` when that is all that differs: the request's members
 * are the upstream body's first ones, in the same order and the very same values, and the added
 * ones follow (what `{ ...request, member }` makes, and what the writer thread rebuilds from a
 * text with members appended: stored-record.ts appendedMembers). Null when anything else
 * differs, when nothing is added, or when a message list is added (those are stored addressed).
 */
export function addedMembers(request: unknown, upstream: unknown): Record<string, unknown> | null {
  if (!isRecord(request) || !isRecord(upstream) || request === upstream) return null;
  const requestKeys = Object.keys(request);
  const upstreamKeys = Object.keys(upstream);
  if (upstreamKeys.length <= requestKeys.length || requestKeys.length === 0) return null;
  for (let index = 0; index < requestKeys.length; index++) {
    const key = requestKeys[index] as string;
    if (upstreamKeys[index] !== key || upstream[key] !== request[key]) return null;
  }
  const added: Record<string, unknown> = {};
  for (let index = requestKeys.length; index < upstreamKeys.length; index++) {
    const key = upstreamKeys[index] as string;
    if (ADDRESSED_REQUEST_MEMBERS.has(key) || key === '__proto__') return null;
    added[key] = upstream[key];
  }
  return added;
}

const SECRET_FIELD_NAMES = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'x-provider-api-key', 'proxy-authorization']);
/**
 * Body members clients put a provider key in (LiteLLM-style `api_key`): masked when they hold a
 * string, so a tool's JSON schema declaring such a parameter (an object) is kept as it is.
 */
const KEY_MEMBER_NAMES = new Set(['api_key', 'api-key', 'apikey']);
export const REDACTED = '[redacted]';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON with object keys sorted, `undefined` dropped (as JSON.stringify does) and, when
 * `dropNulls` is set, `null` members dropped too: `{content: null}` and `{}` then hash alike.
 */
export function canonicalJson(value: unknown, dropNulls = false): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item, dropNulls))).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'function') continue;
    if (dropNulls && member === null) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(member, dropNulls)}`);
  }
  return `{${parts.join(',')}}`;
}

/** 128 bits of SHA-256 over the null-free canonical JSON, as 32 hex characters. */
export function messageHash(message: unknown): string {
  return hash('sha256', canonicalJson(message, true), 'hex').slice(0, 32);
}

/**
 * Member names lower-cased, remembered: a body's names are few and repeat with every message
 * (`role`, `content`, `messages` …), and a Map lookup of a name parsed from JSON costs less than
 * lower-casing it again. Emptied when full, so odd names cannot make it grow.
 */
const lowerCasedNames = new Map<string, string>();
const LOWER_CASED_NAMES_KEPT = 4096;
function lowerCased(key: string): string {
  let lower = lowerCasedNames.get(key);
  if (lower === undefined) {
    if (lowerCasedNames.size >= LOWER_CASED_NAMES_KEPT) lowerCasedNames.clear();
    lower = key.toLowerCase();
    lowerCasedNames.set(key, lower);
  }
  return lower;
}

/** Whether a member name is a credential header's (the length test spares most names a lower-casing). */
function isSecretFieldName(key: string): boolean {
  return key.length >= SHORTEST_SECRET_NAME && key.length <= LONGEST_SECRET_NAME && SECRET_FIELD_NAMES.has(lowerCased(key));
}
function isKeyMember(key: string, member: unknown): boolean {
  return typeof member === 'string' && (key.length === 6 || key.length === 7) && KEY_MEMBER_NAMES.has(lowerCased(key));
}
const SHORTEST_SECRET_NAME = Math.min(...[...SECRET_FIELD_NAMES].map((name) => name.length));
const LONGEST_SECRET_NAME = Math.max(...[...SECRET_FIELD_NAMES].map((name) => name.length));

/**
 * A copy of `value` with any member named like a credential header replaced by `[redacted]`;
 * `value` itself (nothing copied) when it has none, which is nearly always.
 */
export function redactSecrets(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const redacted = redactSecrets(item);
      if (redacted !== item) {
        copy ??= value.slice();
        copy[index] = redacted;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    const member = record[key];
    const replacement = isSecretFieldName(key) || isKeyMember(key, member) ? REDACTED : redactSecrets(member);
    if (replacement !== member) {
      copy ??= { ...record };
      copy[key] = replacement;
    }
  }
  return copy ?? value;
}

export interface StoredMessage {
  hash: string;
  role: string | null;
  contentJson: string;
}

export interface AddressedBody {
  /** The body with message lists replaced by references, as JSON; null when there was no body. */
  json: string | null;
  /** The messages referenced, in order (a Responses `input`'s items among them). */
  messages: StoredMessage[];
  /** The whole members referenced (VERBATIM_MEMBERS), in order; none for a response. */
  members: StoredMessage[];
}

/**
 * The stored form is the null-free canonical JSON that is hashed, so `{"content": null}`
 * members are not restored (they mean the same as an absent member in these APIs).
 */
function toStoredMessage(message: unknown): StoredMessage {
  const role = isRecord(message) && typeof message.role === 'string' ? message.role : null;
  const contentJson = canonicalJson(message, true);
  // One-shot hashing: a third of createHash().update().digest()'s time for a message-sized text.
  return { hash: hash('sha256', contentJson, 'hex').slice(0, 32), role, contentJson };
}

/**
 * A value stored as it came: its JSON text is what is hashed and kept, so it reads back exactly
 * (key order, nulls). A text equal to a message's canonical form is the same row, rightly: same
 * text, same value.
 */
function toStoredVerbatim(value: unknown, text: string): StoredMessage {
  const role = isRecord(value) && typeof value.role === 'string' ? value.role : null;
  return { hash: hash('sha256', text, 'hex').slice(0, 32), role, contentJson: text };
}

/**
 * Messages addressed recently, by their members or JSON text as received (cacheKey: no sorting
 * of keys to find them): a conversation resends its whole history with every turn and most answers repeat
 * earlier text, so a writer that keeps one of these serialises canonically and hashes each
 * distinct message about once instead of once per turn. Equal JSON text is the same JSON
 * value, whose canonical form and hash are then the same. Bounded: emptied when the texts it
 * holds would pass `maxCharacters`; a message longer than `maxTextLength` is not kept.
 */
export class MessageCache {
  private readonly byText = new Map<string, StoredMessage>();
  /** Values stored as they came, by their JSON text (which is also their stored form). */
  private readonly byVerbatimText = new Map<string, StoredMessage>();
  private characters = 0;

  constructor(
    private readonly maxCharacters = 4_000_000,
    private readonly maxTextLength = 65_536,
    private readonly maxVerbatimLength = 1_000_000,
  ) {}

  /** A value stored as it came (toStoredVerbatim), found by its JSON text; texts up to `maxVerbatimLength` are kept. */
  addressVerbatim(value: unknown, text: string): StoredMessage {
    if (text.length > this.maxVerbatimLength) return toStoredVerbatim(value, text);
    let stored = this.byVerbatimText.get(text);
    if (stored) return stored;
    stored = toStoredVerbatim(value, text);
    this.remember(this.byVerbatimText, text, stored, text.length);
    return stored;
  }

  address(message: Record<string, unknown>): StoredMessage {
    const text = cacheKey(message);
    if (text.length > this.maxTextLength) return toStoredMessage(message);
    let stored = this.byText.get(text);
    if (stored) return stored;
    stored = toStoredMessage(message);
    this.remember(this.byText, text, stored, text.length + stored.contentJson.length);
    return stored;
  }

  private remember(map: Map<string, StoredMessage>, text: string, stored: StoredMessage, size: number): void {
    if (this.characters + size > this.maxCharacters) {
      this.byText.clear();
      this.byVerbatimText.clear();
      this.characters = 0;
    }
    map.set(text, stored);
    this.characters += size;
  }

  get size(): number {
    return this.byText.size + this.byVerbatimText.size;
  }
}

/**
 * What MessageCache finds a message by. A message whose members are all strings (a system,
 * user or tool message with text content: most of a history's bytes) by its members, each
 * behind its length, so no two such messages share a key and none is JSON text (which starts
 * with `{`): equal members in the same order are equal JSON texts. Anything else by its JSON
 * text. Spares JSON.stringify's escaping pass (tool results are full of newlines) over the
 * text a conversation resends with every turn.
 */
function cacheKey(message: Record<string, unknown>): string {
  let key = '';
  for (const name in message) {
    const member = message[name];
    if (typeof member !== 'string' || !Object.hasOwn(message, name)) return JSON.stringify(message);
    key += `${name.length}:${name}${member.length}:${member}`;
  }
  return key;
}

function storedMessageOf(message: Record<string, unknown>, cache: MessageCache | undefined): StoredMessage {
  return cache ? cache.address(message) : toStoredMessage(message);
}

function storedVerbatimOf(value: unknown, cache: MessageCache | undefined, text = JSON.stringify(value)): StoredMessage {
  return cache ? cache.addressVerbatim(value, text) : toStoredVerbatim(value, text);
}

/** A list with each object in it stored as it came (collected) and replaced by its reference. */
function replaceVerbatimList(list: unknown[], collected: StoredMessage[], cache: MessageCache | undefined): unknown[] {
  return list.map((item) => {
    if (!isRecord(item)) return item;
    const stored = storedVerbatimOf(item, cache);
    collected.push(stored);
    return { [MESSAGE_REFERENCE_KEY]: stored.hash };
  });
}

/**
 * Messages already addressed for one record, by object: the upstream body of a same-format
 * request shares the client's message objects (also after a structured clone), so each is
 * serialised and hashed once.
 */
export type AddressedMessages = Map<object, StoredMessage>;

function replaceList(list: unknown[], collected: StoredMessage[], memo?: AddressedMessages, cache?: MessageCache): unknown[] {
  return list.map((item) => {
    if (!isRecord(item)) return item;
    let stored = memo?.get(item);
    if (!stored) {
      stored = storedMessageOf(item, cache);
      memo?.set(item, stored);
    }
    collected.push(stored);
    return { [MESSAGE_REFERENCE_KEY]: stored.hash };
  });
}

/**
 * Splits a request body into its messages and the rest. Message lists are the
 * chat-completions / Anthropic `messages` array and Gemini's `contents` array (each message in
 * its canonical form), and a Responses `input` (its text, or each item, as it came: a
 * continuation sends them upstream again). Whole members (VERBATIM_MEMBERS: tools, system
 * prompt, instructions) are each stored as one value, as they came, from SHORTEST_STORED_MEMBER
 * characters of JSON. Every object in those lists is replaced by a reference and linked, so an
 * object of the client's shaped like a reference is stored like any other value; a read puts
 * back only what the request links (restoreAddressed).
 */
export function addressRequestBody(body: unknown, memo?: AddressedMessages, cache?: MessageCache): AddressedBody {
  if (body === undefined || body === null) return { json: null, messages: [], members: [] };
  const clean = redactSecrets(body);
  if (!isRecord(clean)) return { json: JSON.stringify(clean), messages: [], members: [] };
  const messages: StoredMessage[] = [];
  const members: StoredMessage[] = [];
  const copy: Record<string, unknown> = { ...clean };
  for (const field of ['messages', 'contents']) {
    const list = copy[field];
    if (Array.isArray(list)) copy[field] = replaceList(list, messages, memo, cache);
  }
  const input = copy.input;
  if (typeof input === 'string') {
    // A Responses input given as text: one value, linked with the messages (the conversation view shows it as the user's).
    const stored = storedVerbatimOf(input, cache);
    messages.push(stored);
    copy.input = { [MESSAGE_REFERENCE_KEY]: stored.hash };
  } else if (Array.isArray(input)) copy.input = replaceVerbatimList(input, messages, cache);
  for (const field of VERBATIM_MEMBERS) {
    const value = copy[field];
    if (value === undefined || value === null) continue;
    // A short one ("Be brief.") costs less in the body than as a row, a link and a reference.
    const text = JSON.stringify(value);
    if (text.length < SHORTEST_STORED_MEMBER) continue;
    const stored = storedVerbatimOf(value, cache, text);
    members.push(stored);
    copy[field] = { [MESSAGE_REFERENCE_KEY]: stored.hash };
  }
  return { json: JSON.stringify(copy), messages, members };
}

/** Where a response body's messages are content-addressed (and only there put back): OpenAI's choices[].message, Gemini's candidates[].content. */
const RESPONSE_MESSAGE_SITES = [
  ['choices', 'message'],
  ['candidates', 'content'],
] as const;

/**
 * Splits a response body into its messages (`choices[].message`, Gemini `candidates[].content`)
 * and the rest; with `outputItems`, a Responses answer's `output` items too, each as it came.
 */
export function addressResponseBody(body: unknown, cache?: MessageCache, outputItems = false): AddressedBody {
  if (body === undefined || body === null) return { json: null, messages: [], members: [] };
  const clean = redactSecrets(body);
  if (!isRecord(clean)) return { json: JSON.stringify(clean), messages: [], members: [] };
  const messages: StoredMessage[] = [];
  const copy: Record<string, unknown> = { ...clean };
  for (const [listField, memberField] of RESPONSE_MESSAGE_SITES) {
    const list = copy[listField];
    if (!Array.isArray(list)) continue;
    copy[listField] = list.map((item) => {
      if (!isRecord(item) || !isRecord(item[memberField])) return item;
      const stored = storedMessageOf(item[memberField], cache);
      messages.push(stored);
      return { ...item, [memberField]: { [MESSAGE_REFERENCE_KEY]: stored.hash } };
    });
  }
  if (outputItems && Array.isArray(copy.output)) copy.output = replaceVerbatimList(copy.output, messages, cache);
  return { json: JSON.stringify(copy), messages, members: [] };
}

/** What a read puts where a referenced message is no longer in the log (retention deleted it). */
export function missingMessage(hash: string): { $missing: string } {
  return { $missing: hash };
}

/** Which stored body a text is: where its references were put (see the address functions above). */
export type AddressedPart = 'request' | 'response';

function referenceIn(value: unknown): string | null {
  if (!isRecord(value)) return null;
  const reference = value[MESSAGE_REFERENCE_KEY];
  return typeof reference === 'string' && Object.keys(value).length === 1 ? reference : null;
}

/**
 * Puts stored values back in place of references, only where the writer put references in that
 * part: a request's `messages[]`, `contents[]`, `input` (text or items) and whole members
 * (VERBATIM_MEMBERS), a response's `choices[].message`, `candidates[].content` and `output[]`. `lookup` finds a hash among the
 * messages linked to the body's own request (undefined when it is not one): a reference-shaped
 * object of the client's anywhere else, or in a body an earlier build stored as it came (a
 * Responses `input`, a tool list), stays as it was sent, so it cannot pull in whatever stored
 * message has that hash (another key's included). In the message lists, which were always
 * addressed, a reference the request has no link for reads as missingMessage.
 * `value` itself is changed (it is a freshly parsed text).
 */
export function restoreAddressed(value: unknown, part: AddressedPart, lookup: (hash: string) => unknown): unknown {
  if (!isRecord(value)) return value;
  const restoreList = (list: unknown, always: boolean): void => {
    if (!Array.isArray(list)) return;
    for (let index = 0; index < list.length; index += 1) {
      const reference = referenceIn(list[index]);
      if (reference === null) continue;
      const found = lookup(reference);
      if (found !== undefined) list[index] = found;
      else if (always) list[index] = missingMessage(reference);
    }
  };
  if (part === 'request') {
    restoreList(value.messages, true);
    restoreList(value.contents, true);
    restoreList(value.input, false);
    for (const field of WHOLE_VALUE_SITES) {
      const reference = referenceIn(value[field]);
      const found = reference === null ? undefined : lookup(reference);
      if (found !== undefined) value[field] = found;
    }
  } else {
    restoreList(value.output, false);
    for (const [listField, memberField] of RESPONSE_MESSAGE_SITES) {
      const list = value[listField];
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (!isRecord(item)) continue;
        const reference = referenceIn(item[memberField]);
        if (reference === null) continue;
        const found = lookup(reference);
        item[memberField] = found !== undefined ? found : missingMessage(reference);
      }
    }
  }
  return value;
}

