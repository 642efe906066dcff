/**
 * `previous_response_id`: a request that continues a stored response becomes one that carries
 * the whole conversation, so any upstream can answer it (the first turn to Claude, the next to
 * Gemini). Its input is the previous request's input (resolved the same way through its own
 * previous_response_id), then the previous response's output items, then the new input.
 *
 * As OpenAI documents it, the previous request's `instructions` are not carried over: only the
 * new request's own apply. Tools, reasoning settings and the rest are the new request's too.
 *
 * Responses are found in the request log (storage/stored-responses.ts), whatever `store` said:
 * the log keeps them locally either way. A response made with another gateway key is not found.
 *
 * An id the log has never seen (anywhere in the chain) may be a response made at OpenAI
 * directly: the request is left as the client sent it, for an upstream that serves the Responses
 * API itself (OpenAI, pass-through) to resolve — OpenAI's own error if it does not know it
 * either — and a translated upstream answers the 400 (`passthroughOnly`). An id the log knows
 * but this caller may not continue (another gateway key's) is a 400 whatever the upstream, so
 * one key cannot reach another's conversation through OpenAI's copy; so is a deleted one, failed
 * or not. This caller's own failed response (retrievable by GET) is a 400 saying it failed.
 *
 * A turn reads the conversation it continues in a fixed number of statements
 * (StoredResponses.walk: the log follows each request's previous_response_id back to the start
 * by index), however long the chain, and nothing is stored per turn for later turns but that id:
 * no copy of the conversation. Each step is checked in order, newest first (logged, this
 * caller's, not deleted, not failed, with bodies), with the error a walk through them one by one
 * would give. Items come back exactly as their client sent them (stored once each, as they came).
 */
import type { GatewayKeyIdentity } from '../../access.js';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { StoredResponse, StoredResponses } from '../../../storage/stored-responses.js';
import type { ResponsesRequestWire } from './schema.js';

/** A chain longer than this is refused (a cycle, or a conversation no model could take anyway). */
const MAX_CHAIN = 10_000;

type Item = Record<string, unknown>;

function isRecord(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A request's `input` as items (a string is one user message). */
export function inputAsItems(input: unknown): Item[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return Array.isArray(input) ? input.filter(isRecord) : [];
}

function notFound(responseId: string): GatewayError {
  return invalidRequest(`Previous response with id '${responseId}' not found.`, 'previous_response_id', 'previous_response_not_found');
}

function failedPrevious(responseId: string): GatewayError {
  // The not-found code a client already handles (Codex sends the whole conversation again), with a message saying why.
  return invalidRequest(`Previous response with id '${responseId}' failed and cannot be continued. Send the conversation in input instead.`, 'previous_response_id', 'previous_response_not_found');
}

/** The stored response if `identity` may see it (and its client has not deleted it), else null. */
function visibleTo<Found extends Pick<StoredResponse, 'deletedAt' | 'gatewayKeyId'>>(found: Found | null, identity: GatewayKeyIdentity | null): Found | null {
  // Responses belong to the gateway key that made them; without keys (auth off) all are one user's.
  if (!found || found.deletedAt !== null || (identity && found.gatewayKeyId !== null && found.gatewayKeyId !== identity.id)) return null;
  return found;
}

/** The stored response with this id that `identity` may see, or null. */
export async function findResponse(store: StoredResponses | null, responseId: string, identity: GatewayKeyIdentity | null): Promise<StoredResponse | null> {
  return store ? visibleTo(await store.find(responseId), identity) : null;
}

/** A response id the log does not hold: it may be one only the upstream knows. */
class NotInLog extends Error {
  constructor(readonly responseId: string) {
    super(`response ${responseId} is not in the log`);
  }
}

function withoutBodies(responseId: string): GatewayError {
  return invalidRequest(
    `Previous response '${responseId}' cannot be continued: Switchyard logged it without its request and response bodies (storing bodies was off), and those are what it continues a conversation from. Send the whole conversation in input instead.`,
    'previous_response_id',
    'previous_response_without_bodies',
  );
}

function endless(responseId: string): GatewayError {
  return invalidRequest(`The chain of previous responses from '${responseId}' does not end (it is cyclic or longer than ${MAX_CHAIN} responses).`, 'previous_response_id', 'invalid_previous_response');
}

/** A conversation as a continuation takes it: its items (oldest first) and the log's conversation. */
export interface Conversation {
  items: Item[];
  conversationId: string | null;
}

/** Every item the conversation up to and including `responseId` consists of (inputs and outputs, oldest first), and the log's conversation. */
async function conversationItems(store: StoredResponses, responseId: string, identity: GatewayKeyIdentity | null): Promise<Conversation> {
  const turns: Item[][] = [];
  const seen = new Set<string>();
  let conversationId: string | null = null;
  let next: string | null = responseId;
  // A walk ends where the chain does, or at a response logged before the continued id had a
  // column of its own (its body names the next step): the walk goes on from there.
  while (next !== null) {
    // One more step than a chain may have: a walk that fills it did not end.
    const steps = await store.walk(next, MAX_CHAIN + 1 - seen.size, identity?.id ?? null);
    next = null;
    for (const step of steps) {
      if (seen.has(step.responseId) || seen.size >= MAX_CHAIN) throw endless(responseId);
      seen.add(step.responseId);
      if (!step.found) throw new NotInLog(step.responseId);
      // Who may see it first: another key's or a deleted response is not found, failed or not (never handed upstream).
      const stored = visibleTo(step.found, identity);
      if (!stored) throw notFound(step.responseId);
      // A failed response is retrievable but continues nothing (the client is told so, in the not-found error's shape).
      if (stored.failed) throw failedPrevious(step.responseId);
      if (!stored.requestBody || !stored.responseBody) throw withoutBodies(step.responseId);
      if (turns.length === 0) conversationId = stored.conversationId;
      turns.push([...inputAsItems(stored.requestBody.input), ...(Array.isArray(stored.responseBody.output) ? stored.responseBody.output.filter(isRecord) : [])]);
      // Each step's body names the next; the last one's, when it names one, is where the walk goes on.
      const previous = stored.requestBody.previous_response_id;
      next = typeof previous === 'string' ? previous : null;
    }
  }
  return { items: turns.reverse().flat(), conversationId };
}

/** The items of the conversation `responseId` continues (its own inputs and outputs included), or null when they cannot be written out. */
export async function continuedItems(store: StoredResponses, responseId: string, identity: GatewayKeyIdentity | null): Promise<Item[] | null> {
  try {
    return (await conversationItems(store, responseId, identity)).items;
  } catch (error) {
    if (error instanceof NotInLog || error instanceof GatewayError) return null;
    throw error;
  }
}

export interface ResolvedRequest {
  wire: ResponsesRequestWire;
  conversationId: string | null;
  /** Set when `wire` still names a previous_response_id the log does not hold: what a translated upstream answers. */
  passthroughOnly: GatewayError | null;
}

/**
 * The request with its previous responses written into `input` and `previous_response_id`
 * removed (the request itself when it names none, or one the log does not hold), and the
 * conversation it continues.
 */
export async function withPreviousResponses(wire: ResponsesRequestWire, store: StoredResponses | null, identity: GatewayKeyIdentity | null): Promise<ResolvedRequest> {
  if (typeof wire.previous_response_id !== 'string') return { wire, conversationId: null, passthroughOnly: null };
  if (!store) {
    const refusal = invalidRequest('previous_response_id cannot be used with this model: this gateway keeps no responses (it runs without a request log), and only OpenAI could continue one of its own. Send the whole conversation in input.', 'previous_response_id', 'previous_response_not_found');
    return { wire, conversationId: null, passthroughOnly: refusal };
  }
  try {
    const { items, conversationId } = await conversationItems(store, wire.previous_response_id, identity);
    const { previous_response_id: _continued, ...rest } = wire;
    return { wire: { ...rest, input: [...items, ...inputAsItems(wire.input)] }, conversationId, passthroughOnly: null };
  } catch (error) {
    if (!(error instanceof NotInLog)) throw error;
    return { wire, conversationId: null, passthroughOnly: notFound(error.responseId) };
  }
}
