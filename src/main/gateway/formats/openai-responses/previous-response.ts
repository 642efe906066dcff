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

/** The stored response with this id that `identity` may see, or null. */
export async function findResponse(store: StoredResponses | null, responseId: string, identity: GatewayKeyIdentity | null): Promise<StoredResponse | null> {
  if (!store) return null;
  const found = await store.find(responseId);
  if (!found) return null;
  // Responses belong to the gateway key that made them; without keys (auth off) all are one user's.
  if (identity && found.gatewayKeyId !== null && found.gatewayKeyId !== identity.id) return null;
  return found;
}

/** Every item the conversation up to and including `responseId` consists of (inputs and outputs, oldest first), and the log's conversation. */
async function conversationItems(store: StoredResponses | null, responseId: string, identity: GatewayKeyIdentity | null): Promise<{ items: Item[]; conversationId: string | null }> {
  const turns: Item[][] = [];
  let conversationId: string | null = null;
  const seen = new Set<string>();
  let id: string | null = responseId;
  while (id !== null) {
    if (seen.has(id) || seen.size >= MAX_CHAIN) throw invalidRequest(`The chain of previous responses from '${responseId}' does not end (it is cyclic or longer than ${MAX_CHAIN} responses).`, 'previous_response_id', 'invalid_previous_response');
    seen.add(id);
    const stored = await findResponse(store, id, identity);
    if (!stored) throw notFound(id);
    if (!stored.requestBody || !stored.responseBody) {
      throw invalidRequest(
        `Previous response '${id}' cannot be continued: Switchyard logged it without its request and response bodies (storing bodies was off), and those are what it continues a conversation from. Send the whole conversation in input instead.`,
        'previous_response_id',
        'previous_response_without_bodies',
      );
    }
    if (turns.length === 0) conversationId = stored.conversationId;
    turns.push([...inputAsItems(stored.requestBody.input), ...(Array.isArray(stored.responseBody.output) ? stored.responseBody.output.filter(isRecord) : [])]);
    id = typeof stored.requestBody.previous_response_id === 'string' ? stored.requestBody.previous_response_id : null;
  }
  return { items: turns.reverse().flat(), conversationId };
}

/**
 * The request with its previous responses written into `input` and `previous_response_id`
 * removed (the request itself when it names none), and the conversation it continues.
 */
export async function withPreviousResponses(
  wire: ResponsesRequestWire,
  store: StoredResponses | null,
  identity: GatewayKeyIdentity | null,
): Promise<{ wire: ResponsesRequestWire; conversationId: string | null }> {
  if (typeof wire.previous_response_id !== 'string') return { wire, conversationId: null };
  if (!store) throw invalidRequest('previous_response_id cannot be used: this gateway keeps no responses (it runs without a request log). Send the whole conversation in input.', 'previous_response_id', 'previous_response_not_found');
  const { items, conversationId } = await conversationItems(store, wire.previous_response_id, identity);
  const { previous_response_id: _continued, ...rest } = wire;
  return { wire: { ...rest, input: [...items, ...inputAsItems(wire.input)] }, conversationId };
}
