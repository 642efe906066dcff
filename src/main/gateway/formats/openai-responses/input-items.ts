/**
 * `GET /v1/responses/{id}/input_items`: the items a stored response was made from, in OpenAI's
 * list shape (`object: 'list'`, `data`, `first_id`, `last_id`, `has_more`), paged by `limit`
 * (1–100, default 20), `order` (`desc`, OpenAI's default, or `asc`) and `after` (an item id).
 *
 * As at OpenAI, a response that continued another (`previous_response_id`) lists the whole
 * context the model was given: the earlier turns' inputs and outputs, then its own input. (When
 * that chain cannot be written out from the log, its own input only.) Items are returned as
 * OpenAI returns them: each with an `id` (the client's own, else one derived from the response
 * id and the item's place, the same on every call, so `after` pages reliably), messages with
 * their content as a list of parts and a status.
 */
import { createHash } from 'node:crypto';
import type { GatewayKeyIdentity } from '../../access.js';
import { invalidRequest } from '../../errors.js';
import type { StoredResponse, StoredResponses } from '../../../storage/stored-responses.js';
import { continuedItems, inputAsItems } from './previous-response.js';

type Item = Record<string, unknown>;

export interface InputItemsQuery {
  limit?: unknown;
  order?: unknown;
  after?: unknown;
}

export interface InputItemsPage {
  object: 'list';
  data: Item[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

const ID_PREFIX: Record<string, string> = { message: 'msg', function_call: 'fc', custom_tool_call: 'ctc', reasoning: 'rs', function_call_output: 'fco', custom_tool_call_output: 'ctco' };

/** One item as OpenAI lists it: typed, with an id, a message's content as parts. */
function listed(item: Item, responseId: string, index: number): Item {
  const type = typeof item.type === 'string' ? item.type : 'message';
  const id = typeof item.id === 'string' && item.id !== '' ? item.id : `${ID_PREFIX[type] ?? 'item'}_${createHash('sha256').update(`${responseId}\0${index}`).digest('hex').slice(0, 40)}`;
  const { id: _own, ...rest } = item;
  if (type !== 'message') return { id, ...rest, type };
  const assistant = item.role === 'assistant';
  const content = typeof item.content === 'string' ? [assistant ? { type: 'output_text', text: item.content, annotations: [] } : { type: 'input_text', text: item.content }] : item.content;
  return { id, ...rest, type, content, status: typeof item.status === 'string' ? item.status : 'completed' };
}

function parseQuery(query: InputItemsQuery): { limit: number; order: 'asc' | 'desc'; after: string | null } {
  const limitText = query.limit === undefined ? '20' : String(query.limit);
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) throw invalidRequest(`Invalid 'limit': expected an integer from 1 to 100, but got '${limitText}'.`, 'limit', 'invalid_value');
  const order = query.order === undefined ? 'desc' : query.order;
  if (order !== 'asc' && order !== 'desc') throw invalidRequest(`Invalid 'order': expected 'asc' or 'desc', but got '${String(order)}'.`, 'order', 'invalid_value');
  const after = typeof query.after === 'string' && query.after !== '' ? query.after : null;
  return { limit, order, after };
}

/** The page of `stored`'s input items the query asks for; throws a 400 for a bad limit, order or cursor. */
export async function inputItemsPage(store: StoredResponses, stored: StoredResponse, identity: GatewayKeyIdentity | null, query: InputItemsQuery): Promise<InputItemsPage> {
  const { limit, order, after } = parseQuery(query);
  const request = stored.requestBody ?? {};
  const previous = typeof request.previous_response_id === 'string' ? await continuedItems(store, request.previous_response_id, identity) : null;
  const items = [...(previous ?? []), ...inputAsItems(request.input)].map((item, index) => listed(item, stored.responseId, index));
  if (order === 'desc') items.reverse();
  let start = 0;
  if (after !== null) {
    const position = items.findIndex((item) => item.id === after);
    if (position < 0) throw invalidRequest(`No input item with id '${after}' in response '${stored.responseId}'.`, 'after', 'invalid_value');
    start = position + 1;
  }
  const data = items.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: start + limit < items.length,
  };
}
