/**
 * An OpenAI chat completion (from an OpenAI-compatible upstream) → the core response. The message conventions are read
 * as the request decoder reads them (assistantParts).
 */
import type { CoreResponse } from '../../../core/types.js';
import type { ChatCompletionResponse } from '../../openai-types.js';
import { finishFromOpenAI, usageFromOpenAI } from './conventions.js';
import { assistantParts } from './decode.js';

export function decodeChatCompletion(response: ChatCompletionResponse): CoreResponse {
  const choices = Array.isArray(response.choices) ? response.choices : [];
  return {
    id: typeof response.id === 'string' ? response.id : null,
    model: typeof response.model === 'string' ? response.model : '',
    created: typeof response.created === 'number' ? response.created : 0,
    choices: choices.map((choice, position) => ({
      index: typeof choice?.index === 'number' ? choice.index : position,
      content: choice?.message ? assistantParts(choice.message as Record<string, unknown>) : [],
      finish: finishFromOpenAI(choice?.finish_reason),
    })),
    usage: usageFromOpenAI(response.usage),
  };
}
