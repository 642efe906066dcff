/** The OpenAI chat-completions API as a client format of the pipeline (`POST /v1/chat/completions`). */
import type { ChatCompletionRequest, ChatCompletionResponse } from '../../openai-types.js';
import type { ClientFormat } from '../../pipeline/run.js';
import { validateChatRequest } from '../../request-validation.js';
import { sendError } from '../../routes/send-error.js';
import { decodeChatRequest } from './decode.js';
import { encodeChatCompletion } from './encode-response.js';
import { OpenAIChatStreamEncoder } from './stream-encoder.js';

export const openAIChatFormat: ClientFormat<ChatCompletionRequest> = {
  endpoint: '/v1/chat/completions',
  validate: validateChatRequest,
  decode: decodeChatRequest,
  // OpenAI and every OpenAI-compatible server take the client's body as it is.
  passthroughNative: 'openai-chat',
  encodeResponse: (response) => encodeChatCompletion(response),
  // The completion assembled from a stream has always been logged without `logprobs`.
  encodeStreamed: (response) => encodeChatCompletion(response, { omitLogprobs: true }),
  finishReasonOf: (encoded) => (encoded as ChatCompletionResponse | null)?.choices?.[0]?.finish_reason ?? null,
  streamEncoder: ({ requestId, model, core }) =>
    new OpenAIChatStreamEncoder({ id: `chatcmpl-${requestId}`, created: Math.floor(Date.now() / 1000), model, includeUsage: core.streamUsage }),
  sendError,
};
