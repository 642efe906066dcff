/**
 * How one OpenAI-compatible server differs from OpenAI, declared as data so that a new
 * look-alike is a preset, not code.
 */

export interface ModelRule {
  /** A regular expression (source) matched against the upstream model name. */
  match: string;
  /** Request parameters this model rejects: dropped with a recorded warning. */
  drop?: string[];
  /** Maps OpenAI `reasoning_effort` values to what this model accepts (null = drop). */
  reasoningEffort?: Record<string, string | null>;
}

export interface OpenAICompatibleQuirks {
  /** `completion_tokens` excludes reasoning tokens (xAI); normalised so output includes them. */
  reasoningTokensExcludedFromCompletion: boolean;
  /** The server honours `encoding_format: "base64"`; otherwise the gateway converts floats itself. */
  embeddingsBase64: boolean;
  /** The name the server wants for the output-token limit; null forwards what the client sent. */
  maxTokensParameter: 'max_tokens' | 'max_completion_tokens' | null;
  /** The server understands `stream_options.include_usage`. */
  streamUsage: boolean;
  /**
   * The assistant-message field this server reads prior reasoning from when a conversation
   * is sent back (`reasoning_content` for DeepSeek-style servers, `reasoning` for Ollama);
   * null strips it, for servers that reject unknown message fields.
   */
  reasoningInputField: 'reasoning_content' | 'reasoning' | null;
  /** Request parameters the server does not support: dropped with a warning. */
  unsupportedParameters: string[];
  modelRules: ModelRule[];
  /** The server serves OpenAI's Responses API (`/responses`) too: a Responses client's body passes through to it. */
  responsesApi: boolean;
}

export const DEFAULT_QUIRKS: OpenAICompatibleQuirks = {
  reasoningTokensExcludedFromCompletion: false,
  embeddingsBase64: true,
  maxTokensParameter: null,
  streamUsage: true,
  reasoningInputField: 'reasoning_content',
  unsupportedParameters: [],
  modelRules: [],
  responsesApi: false,
};

export interface CompiledModelRule extends ModelRule {
  pattern: RegExp;
}

export function compileModelRules(rules: ModelRule[]): CompiledModelRule[] {
  return rules.map((rule) => ({ ...rule, pattern: new RegExp(rule.match) }));
}
