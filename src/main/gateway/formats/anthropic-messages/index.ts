/** The Anthropic Messages API as a client format of the pipeline (`POST /v1/messages`). */
import { randomUUID } from 'node:crypto';
import type { ClientFormat } from '../../pipeline/run.js';
import { compileOnFirstUse, schemaError } from '../../request-validation.js';
import { decodeMessagesRequest } from './decode.js';
import { encodeMessage, type AnthropicMessageWire } from './encode-response.js';
import { sendAnthropicError } from './errors.js';
import { CountTokensRequest, MessagesRequest, type CountTokensRequestWire, type MessagesRequestWire } from './schema.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

const messagesValidator = compileOnFirstUse(MessagesRequest);
const countTokensValidator = compileOnFirstUse(CountTokensRequest);

export function validateMessagesRequest(body: unknown): MessagesRequestWire {
  const validator = messagesValidator();
  if (validator.Check(body)) return body as MessagesRequestWire;
  throw schemaError(MessagesRequest, validator.Errors(body), body);
}

export function validateCountTokensRequest(body: unknown): CountTokensRequestWire {
  const validator = countTokensValidator();
  if (validator.Check(body)) return body as CountTokensRequestWire;
  throw schemaError(CountTokensRequest, validator.Errors(body), body);
}

export const anthropicMessagesFormat: ClientFormat<MessagesRequestWire> = {
  endpoint: '/v1/messages',
  validate: validateMessagesRequest,
  decode: (wire, headers) => decodeMessagesRequest(wire, headers),
  // An Anthropic upstream takes the client's body as it is (the model name aside) and its bytes come back unchanged.
  passthroughNative: 'anthropic-messages',
  // …streams too: its events, pings and newer event types go out as Anthropic sent them.
  passthroughStream: true,
  encodeResponse: (response) => encodeMessage(response, randomUUID()),
  finishReasonOf: (encoded) => (encoded as AnthropicMessageWire | null)?.stop_reason ?? null,
  streamEncoder: (init) => new AnthropicStreamEncoder(init),
  sendError: sendAnthropicError,
};
