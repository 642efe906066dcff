/**
 * OpenAI's own Responses API (`POST /v1/responses`) for a Responses client, on a server whose
 * preset says it serves it (`quirks.responsesApi`: OpenAI). Same-format pass-through: the
 * client's body goes upstream as it came but for the model name (hosted tools, encrypted
 * reasoning, include, store untouched), and the upstream's bytes go back. What the gateway
 * needs of the answer (usage with cached and reasoning tokens, the finish, the parts for the
 * log, the cache and the inspector) is read into the core here.
 *
 * Output items → core parts: message text and refusals, reasoning (summary text; its
 * encrypted_content as OpenAI provider state), function and custom tool calls, and any other
 * item (hosted-tool calls such as web_search_call) as a native OpenAI part, kept whole.
 */
import type { AssistantPart, CoreFinish, CoreResponse, CoreUsage } from '../../../core/types.js';
import { GatewayError } from '../../errors.js';
import type { RequestWarning } from '../../types.js';
import type { ParsedCoreResponse, PreparedRequest, UpstreamTarget } from '../types.js';
import { isCarriedState } from '../../formats/openai-responses/encode-response.js';
import { authorizationHeaders } from './request.js';

type Item = Record<string, unknown>;

function isRecord(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Whether this upstream takes a Responses client's body as it is. */
export function servesResponses(target: UpstreamTarget): boolean {
  return target.provider.quirks.responsesApi === true;
}

/**
 * The client's body for OpenAI: the upstream model name, and reasoning another model made
 * (Claude's, Gemini's state that the gateway carried in encrypted_content) left out with a
 * warning, since OpenAI can only read its own. `text`, the client's own JSON text of
 * `clientBody` (see WireRequest), is sent as it is when nothing changes.
 */
export function prepareResponsesRequest(clientBody: Record<string, unknown>, target: UpstreamTarget, text?: string): { request: PreparedRequest; warnings: RequestWarning[] } {
  const body: Record<string, unknown> = { ...clientBody, model: target.model };
  const warnings: RequestWarning[] = [];
  if (Array.isArray(body.input) && body.input.some((item) => isRecord(item) && item.type === 'reasoning' && isCarriedState(item.encrypted_content))) {
    const input = body.input.filter((item) => !(isRecord(item) && item.type === 'reasoning' && isCarriedState(item.encrypted_content)));
    warnings.push({ type: 'unsupported-parameter', parameter: 'input', message: `input: ${body.input.length - input.length} reasoning item(s) of another provider's model left out: ${target.provider.name} can only read its own` });
    body.input = input;
  }
  const headers = authorizationHeaders(target);
  headers.accept = body.stream === true ? 'text/event-stream' : 'application/json';
  const unchanged = text !== undefined && clientBody.model === target.model && body.input === clientBody.input;
  return { request: { method: 'POST', url: `${target.provider.baseUrl}/responses`, headers, body: unchanged ? text : JSON.stringify(body), json: body }, warnings };
}

/** A Responses `usage` object in core terms (its counts already mean what the core's do), kept as raw. */
export function responsesCoreUsage(raw: unknown): CoreUsage | null {
  if (!isRecord(raw)) return null;
  const input = isRecord(raw.input_tokens_details) ? raw.input_tokens_details : {};
  const output = isRecord(raw.output_tokens_details) ? raw.output_tokens_details : {};
  return {
    inputTokens: count(raw.input_tokens),
    cachedInputTokens: count(input.cached_tokens),
    cacheWriteInputTokens: 0,
    outputTokens: count(raw.output_tokens),
    reasoningTokens: count(output.reasoning_tokens),
    raw,
  };
}

/** The core part a reasoning item stands for. */
export function reasoningPart(item: Item): AssistantPart {
  const summary = Array.isArray(item.summary) ? item.summary.filter(isRecord).map((part) => (typeof part.text === 'string' ? part.text : '')).join('\n\n') : '';
  const part: AssistantPart = { type: 'reasoning', text: summary };
  if (typeof item.encrypted_content === 'string') part.providerData = { family: 'openai', data: { encryptedContent: item.encrypted_content, id: item.id } };
  if (summary === '') part.redacted = true;
  return part;
}

/** The core parts one output item stands for. */
export function partsOfItem(item: Item): AssistantPart[] {
  switch (item.type) {
    case 'message':
      return (Array.isArray(item.content) ? item.content.filter(isRecord) : []).map((part): AssistantPart =>
        part.type === 'refusal' ? { type: 'refusal', text: typeof part.refusal === 'string' ? part.refusal : '' } : { type: 'text', text: typeof part.text === 'string' ? part.text : '' },
      );
    case 'reasoning':
      return [reasoningPart(item)];
    case 'function_call':
      return [{ type: 'tool-call', id: String(item.call_id ?? ''), name: String(item.name ?? ''), input: typeof item.arguments === 'string' ? item.arguments : '', kind: 'function' }];
    case 'custom_tool_call':
      return [{ type: 'tool-call', id: String(item.call_id ?? ''), name: String(item.name ?? ''), input: typeof item.input === 'string' ? item.input : '', kind: 'custom' }];
    default:
      return [{ type: 'native', family: 'openai', kind: typeof item.type === 'string' ? item.type : 'unknown', value: item }];
  }
}

/** How a response ended, from its status and output. */
export function responsesFinish(response: Item, parts: AssistantPart[]): CoreFinish {
  const status = typeof response.status === 'string' ? response.status : null;
  if (status === 'incomplete') {
    const reason = isRecord(response.incomplete_details) ? response.incomplete_details.reason : null;
    return { unified: reason === 'content_filter' ? 'content-filter' : 'length', raw: typeof reason === 'string' ? reason : status };
  }
  if (status === 'failed') return { unified: 'error', raw: status };
  return { unified: parts.some((part) => part.type === 'tool-call') ? 'tool-calls' : 'stop', raw: status };
}

/** A Responses `response` object → the core response. */
export function coreResponseOf(response: Item, target: UpstreamTarget): CoreResponse {
  const parts = (Array.isArray(response.output) ? response.output.filter(isRecord) : []).flatMap(partsOfItem);
  return {
    id: typeof response.id === 'string' ? response.id : null,
    model: typeof response.model === 'string' ? response.model : target.model,
    created: typeof response.created_at === 'number' ? response.created_at : 0,
    choices: [{ index: 0, content: parts, finish: responsesFinish(response, parts) }],
    usage: responsesCoreUsage(response.usage),
  };
}

/** Whether an upstream answer is a Responses `response` object (not a chat completion). */
export function isResponseObject(json: unknown): json is Item {
  return isRecord(json) && json.object === 'response';
}

export function parseResponsesResponse(body: Buffer, json: Item, target: UpstreamTarget): ParsedCoreResponse {
  if (!Array.isArray(json.output)) throw new GatewayError(502, `${target.provider.name} returned a response without output`, { type: 'upstream_error', code: 'bad_upstream_response' });
  return { response: coreResponseOf(json, target), passthrough: body, passthroughJson: json };
}
