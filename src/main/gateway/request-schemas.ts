/**
 * The request schemas whose TypeBox checks are generated at build time
 * (scripts/precompile-checks.ts → precompiled-checks.ts), by the name they are found under.
 */
import type { TSchema } from 'typebox';
import { CountTokensRequest, MessagesRequest } from './formats/anthropic-messages/schema.js';
import { ChatCompletionRequest, EmbeddingsRequest } from './formats/openai-chat/schema.js';
import { ResponsesRequest } from './formats/openai-responses/schema.js';

export const REQUEST_SCHEMAS: Readonly<Record<string, TSchema>> = {
  chat: ChatCompletionRequest,
  embeddings: EmbeddingsRequest,
  messages: MessagesRequest,
  countTokens: CountTokensRequest,
  responses: ResponsesRequest,
};
