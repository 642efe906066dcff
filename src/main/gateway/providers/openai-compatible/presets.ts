/**
 * OpenAI-compatible providers are configuration, not code: each preset names a base URL,
 * the environment variables its official SDK reads, routing prefixes, and the quirks the
 * shared adapter needs to know about. A provider the user declares in the config file is
 * the same shape with the `custom` defaults.
 */
import type { OpenAICompatibleQuirks } from './quirks.js';

export interface ProviderPreset {
  id: string;
  name: string;
  kind: 'openai-compatible' | 'anthropic' | 'gemini';
  baseUrl: string;
  /** Environment variable holding the key (the official SDK's convention). */
  apiKeyEnv?: string;
  /** Environment variable overriding the base URL. */
  baseUrlEnv?: string;
  /** Whether a request can be sent without a key (local servers). */
  requiresKey: boolean;
  /** A local server: model listing uses a short timeout and a down server is skipped quietly. */
  local: boolean;
  /** Model-name prefixes routed to this provider when no explicit `provider/` is given. */
  modelPrefixes: string[];
  quirks: Partial<OpenAICompatibleQuirks>;
}

const OPENAI_REASONING_MODEL_RULE = {
  // o-series and gpt-5 reasoning models refuse sampling parameters.
  match: '^(o[1-9]|gpt-5(?!.*-chat))',
  drop: ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'logit_bias'],
};

export const BUILT_IN_PRESETS: readonly ProviderPreset[] = [
  {
    id: 'openai',
    name: 'OpenAI',
    kind: 'openai-compatible',
    baseUrl: 'https://api.openai.com/v1',
    apiKeyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
    requiresKey: true,
    local: false,
    modelPrefixes: ['gpt-', 'chatgpt-', 'o1', 'o3', 'o4', 'text-embedding-', 'codex-'],
    quirks: {
      maxTokensParameter: 'max_completion_tokens',
      embeddingsBase64: true,
      reasoningInputField: null,
      modelRules: [OPENAI_REASONING_MODEL_RULE],
      responsesApi: true,
    },
  },
  {
    id: 'xai',
    name: 'xAI',
    kind: 'openai-compatible',
    baseUrl: 'https://api.x.ai/v1',
    apiKeyEnv: 'XAI_API_KEY',
    baseUrlEnv: 'XAI_BASE_URL',
    requiresKey: true,
    local: false,
    modelPrefixes: ['grok-'],
    quirks: {
      reasoningTokensExcludedFromCompletion: true,
      embeddingsBase64: true,
      reasoningInputField: null,
      modelRules: [
        {
          // grok-3-mini is the one model that takes reasoning_effort, and only low|high.
          match: '^grok-3-mini',
          drop: ['presence_penalty', 'frequency_penalty', 'stop'],
          reasoningEffort: { none: null, minimal: 'low', low: 'low', medium: 'high', high: 'high', xhigh: 'high', max: 'high' },
        },
        {
          match: '^grok-4(?!.*non-reasoning)',
          drop: ['presence_penalty', 'frequency_penalty', 'stop', 'reasoning_effort'],
        },
        { match: '^grok-', drop: ['reasoning_effort'] },
      ],
    },
  },
  {
    id: 'anthropic',
    name: 'Anthropic',
    kind: 'anthropic',
    baseUrl: 'https://api.anthropic.com',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
    requiresKey: true,
    local: false,
    modelPrefixes: ['claude-'],
    quirks: {},
  },
  {
    id: 'gemini',
    name: 'Google Gemini',
    kind: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com',
    apiKeyEnv: 'GEMINI_API_KEY',
    baseUrlEnv: 'GEMINI_BASE_URL',
    requiresKey: true,
    local: false,
    modelPrefixes: ['gemini-'],
    quirks: {},
  },
  {
    id: 'ollama',
    name: 'Ollama',
    kind: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:11434/v1',
    baseUrlEnv: 'OLLAMA_BASE_URL',
    requiresKey: false,
    local: true,
    modelPrefixes: [],
    quirks: {
      maxTokensParameter: 'max_tokens',
      embeddingsBase64: false,
      reasoningInputField: 'reasoning',
      unsupportedParameters: ['tool_choice', 'logit_bias', 'user', 'n'],
    },
  },
  {
    id: 'lmstudio',
    name: 'LM Studio',
    kind: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:1234/v1',
    baseUrlEnv: 'LMSTUDIO_BASE_URL',
    requiresKey: false,
    local: true,
    modelPrefixes: [],
    quirks: {
      maxTokensParameter: 'max_tokens',
      embeddingsBase64: false,
      reasoningInputField: 'reasoning',
    },
  },
];
