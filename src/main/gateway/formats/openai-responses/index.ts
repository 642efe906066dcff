/**
 * The OpenAI Responses API as a client format of the pipeline (`POST /v1/responses`). One
 * format object per request (`responsesFormat()`): the encoders need what the request said
 * (its custom tools, instructions) and the ClientFormat interface hands them only the response.
 * Translated through the core for every upstream but OpenAI, which serves the Responses API
 * itself: there the client's body passes through as it is (but for the model name, and a
 * previous_response_id the log holds written out as the conversation it continues; one it does
 * not hold is left for OpenAI) and OpenAI's bytes come back.
 */
import { randomUUID } from 'node:crypto';
import type { RequestWarning } from '../../../core/record.js';
import type { ClientFormat } from '../../pipeline/run.js';
import type { SseEvent } from '../../sse/decoder.js';
import { invalidRequest, type GatewayError } from '../../errors.js';
import { compileOnFirstUse, schemaError } from '../../request-validation.js';
import { sendError } from '../../routes/send-error.js';
import { decodeResponsesRequest, nativeExtras } from './decode.js';
import { encodeResponse, responseId, type NamespacedTools, type ResponseInit } from './encode-response.js';
import { ResponsesRequest, type ResponsesRequestWire } from './schema.js';
import { ResponsesStreamEncoder } from './stream-encoder.js';
import { withPreviousResponses } from './previous-response.js';
import type { StoredResponses } from '../../../storage/stored-responses.js';

const responsesValidator = compileOnFirstUse(ResponsesRequest);

const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'];

/** The tool types of the Responses API (openai SDK's `Tool`); any other is refused as OpenAI refuses it. */
const TOOL_TYPES = [
  'function',
  'custom',
  'namespace',
  'file_search',
  'computer',
  'computer_use_preview',
  'web_search',
  'web_search_2025_08_26',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'mcp',
  'code_interpreter',
  'programmatic_tool_calling',
  'image_generation',
  'local_shell',
  'shell',
  'tool_search',
  'apply_patch',
];

export function validateResponsesRequest(body: unknown): ResponsesRequestWire {
  const validator = responsesValidator();
  if (!validator.Check(body)) throw schemaError(ResponsesRequest, validator.Errors(body), body);
  const wire = body as ResponsesRequestWire;
  if (wire.input === undefined || (Array.isArray(wire.input) && wire.input.length === 0)) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  for (const [index, tool] of (wire.tools ?? []).entries()) {
    if (!TOOL_TYPES.includes(tool.type as string)) throw invalidRequest(`Invalid value: '${String(tool.type)}'. Supported values are: ${TOOL_TYPES.map((type) => `'${type}'`).join(', ')}.`, `tools[${index}].type`, 'invalid_value');
    if ((tool.type === 'function' || tool.type === 'custom' || tool.type === 'namespace') && (typeof tool.name !== 'string' || tool.name === '')) {
      throw invalidRequest(`Missing required parameter: 'tools[${index}].name'.`, `tools[${index}].name`, 'missing_required_parameter');
    }
  }
  if (Array.isArray(wire.input)) {
    for (const [index, item] of wire.input.entries()) {
      if ((item.type === undefined || item.type === 'message') && !MESSAGE_ROLES.includes(item.role as string)) {
        throw invalidRequest(`Invalid value: '${String(item.role)}'. Supported values are: ${MESSAGE_ROLES.map((role) => `'${role}'`).join(', ')}.`, `input[${index}].role`, 'invalid_value');
      }
    }
  }
  return wire;
}

/** The `response` object of a Responses stream event, if it has one. */
function upstreamResponse(event: SseEvent): Record<string, unknown> | null {
  try {
    const response = (JSON.parse(event.data) as { response?: unknown }).response;
    return typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : null;
  } catch {
    // Not JSON: the stream translator reports it.
    return null;
  }
}

/**
 * The format for one request. `responses`: where stored responses are found (the request log),
 * for `previous_response_id`; null when the gateway keeps none.
 */
export function responsesFormat(responses: StoredResponses | null = null): ClientFormat<ResponsesRequestWire> {
  // One id for the JSON answer, the stream and the log, so GET /v1/responses/{id} finds what the client got.
  const id = responseId(randomUUID());
  let customTools: ReadonlySet<string> = new Set();
  let namespaced: NamespacedTools = new Map();
  let instructions: string | null = null;
  let warnings: RequestWarning[] = [];
  let extras: Record<string, unknown> | null = null;
  let tools: unknown[] = [];
  let toolChoice: unknown = 'auto';
  let settings: ResponseInit['core'] = { temperature: null, topP: null, parallelToolCalls: null, maxOutputTokens: null, metadata: null, user: null };
  // One creation time too: the stream's events and the logged response (encoded at its end) agree.
  let createdAt: number | null = null;
  const init = (id: string, model: string): ResponseInit => ({ id, model, createdAt: (createdAt ??= Math.floor(Date.now() / 1000)), core: settings, instructions, tools, toolChoice });
  // A pass-through stream's own final response object (OpenAI's), for the log.
  let upstreamFinal: Record<string, unknown> | null = null;
  let upstreamId: string | null = null;
  let upstreamEvents = 0;
  let encoder: ResponsesStreamEncoder | null = null;
  // The log's conversation of the response a previous_response_id continues.
  let continuedConversation: string | null = null;
  // Set when previous_response_id names a response only OpenAI may know (see previous-response.ts).
  let passthroughOnly: GatewayError | null = null;
  return {
    endpoint: '/v1/responses',
    // OpenAI gets the client's body as it is, and the client OpenAI's bytes (JSON and SSE).
    passthroughNative: 'openai-responses',
    passthroughStream: true,
    passthroughEvent: (event) => {
      upstreamEvents += 1;
      if (event.event === 'response.created') {
        const created = upstreamResponse(event)?.id;
        upstreamId = typeof created === 'string' ? created : null;
      }
      else if (event.event === 'response.completed' || event.event === 'response.incomplete') upstreamFinal = upstreamResponse(event);
      encoder?.continueUpstream(upstreamId, upstreamEvents);
    },
    encodeStreamed: (response) => upstreamFinal ?? encodeResponse(response, init(id, response.model), customTools, namespaced),
    validate: validateResponsesRequest,
    resolve: async (wire, request) => {
      const resolved = await withPreviousResponses(wire, responses, request.gatewayKey);
      continuedConversation = resolved.conversationId;
      passthroughOnly = resolved.passthroughOnly;
      return resolved.wire;
    },
    passthroughOnly: () => passthroughOnly,
    conversationId: () => continuedConversation,
    responseIdOf: (encoded) => {
      const found = (encoded as { id?: unknown } | null)?.id;
      return typeof found === 'string' ? found : null;
    },
    decode: (wire) => {
      const decoded = decodeResponsesRequest(wire);
      customTools = decoded.customTools;
      namespaced = decoded.namespaced;
      warnings = decoded.warnings;
      tools = wire.tools ?? [];
      toolChoice = wire.tool_choice ?? 'auto';
      instructions = typeof wire.instructions === 'string' ? wire.instructions : null;
      settings = decoded.core;
      extras = nativeExtras(wire);
      return decoded.core;
    },
    nativeExtras: () => extras,
    encodeResponse: (response) => encodeResponse(response, init(id, response.model), customTools, namespaced),
    finishReasonOf: (encoded) => {
      const response = encoded as { status?: string; output?: Array<{ type?: string }> } | null;
      if (!response) return null;
      if (response.status === 'incomplete') return 'max_output_tokens';
      return response.output?.some((item) => item.type === 'function_call' || item.type === 'custom_tool_call') ? 'tool_calls' : 'stop';
    },
    decodeWarnings: () => warnings,
    streamEncoder: (stream) => (encoder = new ResponsesStreamEncoder(stream, init(id, stream.model), customTools, namespaced)),
    sendError,
  };
}
