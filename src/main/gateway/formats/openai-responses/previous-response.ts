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
 * A turn's cost does not grow with the conversation's length: a response that continued another
 * is logged with the whole conversation it ends (its `context`: the items, and the ids of the
 * responses they come from), so the next turn reads that one response, and checks the earlier
 * ones (still logged, not deleted, this caller's, with bodies: as a walk through them would) in
 * one statement that reads no bodies. Only a response logged without a context (one that
 * continued nothing, whose own bodies are all there is, or one logged before contexts were kept,
 * or whose context was lost to a crash with the bodies) is walked through, back to the nearest
 * one with a context.
 */
import type { GatewayKeyIdentity } from '../../access.js';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { ResponseContext } from '../../../core/record.js';
import type { ChainLink, StoredResponse, StoredResponses } from '../../../storage/stored-responses.js';
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

/** A conversation as a continuation takes it: its items, and the responses they come from (oldest first). */
export interface Conversation {
  items: Item[];
  chain: string[];
  conversationId: string | null;
}

/**
 * Refuses a stored context whose earlier responses a walk through them would have refused, with
 * the same error for the same response (the newest at fault): one no longer logged (purged by
 * retention) makes the conversation one the log does not hold; one deleted or another key's is
 * not found; one kept without bodies cannot be continued.
 */
function checkLinks(chain: readonly string[], links: Map<string, ChainLink>, identity: GatewayKeyIdentity | null): void {
  for (let index = chain.length - 1; index >= 0; index -= 1) {
    const id = chain[index]!;
    const link = links.get(id);
    if (!link) throw new NotInLog(id);
    if (!visibleTo(link, identity)) throw notFound(id);
    if (!link.hasBodies) throw withoutBodies(id);
  }
}

/** Every item the conversation up to and including `responseId` consists of (inputs and outputs, oldest first), the responses they come from, and the log's conversation. */
async function conversationItems(store: StoredResponses, responseId: string, identity: GatewayKeyIdentity | null): Promise<Conversation> {
  const turns: Item[][] = [];
  const walked: string[] = [];
  let conversationId: string | null = null;
  let earlier: ResponseContext | null = null;
  const seen = new Set<string>();
  let id: string | null = responseId;
  while (id !== null) {
    if (seen.has(id) || seen.size >= MAX_CHAIN) throw endless(responseId);
    seen.add(id);
    const logged = await store.find(id, { withContext: true });
    if (!logged) throw new NotInLog(id);
    // Who may see it first: another key's or a deleted response is not found, failed or not (never handed upstream).
    const stored = visibleTo(logged, identity);
    if (!stored) throw notFound(id);
    // A failed response is retrievable but continues nothing (the client is told so, in the not-found error's shape).
    if (stored.failed) throw failedPrevious(id);
    if (!stored.requestBody || !stored.responseBody) throw withoutBodies(id);
    if (turns.length === 0) conversationId = stored.conversationId;
    walked.push(id);
    if (stored.context) {
      // The whole conversation up to here, its own turn included: nothing further back is read.
      if (stored.context.chain.length + seen.size > MAX_CHAIN || stored.context.chain.some((earlierId) => seen.has(earlierId))) throw endless(responseId);
      earlier = stored.context;
      break;
    }
    turns.push([...inputAsItems(stored.requestBody.input), ...(Array.isArray(stored.responseBody.output) ? stored.responseBody.output.filter(isRecord) : [])]);
    id = typeof stored.requestBody.previous_response_id === 'string' ? stored.requestBody.previous_response_id : null;
  }
  if (earlier) checkLinks(earlier.chain, await store.links(earlier.chain), identity);
  const items = [...(earlier ? earlier.items.filter(isRecord) : []), ...turns.reverse().flat()];
  return { items, chain: [...(earlier?.chain ?? []), ...walked.reverse()], conversationId };
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
  /** The responses the resolved `wire.input` comes from (oldest first) when it continued logged ones: its answer's context is that input, its output and this chain. */
  chain: string[] | null;
}

/**
 * The request with its previous responses written into `input` and `previous_response_id`
 * removed (the request itself when it names none, or one the log does not hold), and the
 * conversation it continues.
 */
export async function withPreviousResponses(wire: ResponsesRequestWire, store: StoredResponses | null, identity: GatewayKeyIdentity | null): Promise<ResolvedRequest> {
  if (typeof wire.previous_response_id !== 'string') return { wire, conversationId: null, passthroughOnly: null, chain: null };
  if (!store) {
    const refusal = invalidRequest('previous_response_id cannot be used with this model: this gateway keeps no responses (it runs without a request log), and only OpenAI could continue one of its own. Send the whole conversation in input.', 'previous_response_id', 'previous_response_not_found');
    return { wire, conversationId: null, passthroughOnly: refusal, chain: null };
  }
  try {
    const { items, chain, conversationId } = await conversationItems(store, wire.previous_response_id, identity);
    const { previous_response_id: _continued, ...rest } = wire;
    return { wire: { ...rest, input: [...items, ...inputAsItems(wire.input)] }, conversationId, passthroughOnly: null, chain };
  } catch (error) {
    if (!(error instanceof NotInLog)) throw error;
    return { wire, conversationId: null, passthroughOnly: notFound(error.responseId), chain: null };
  }
}
