/** The single map of provider kinds → adapters. Nothing else switches on a provider. */
import type { ProviderConfig } from '../config.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAICompatibleAdapter } from './openai-compatible/index.js';
import type { ProviderAdapter } from './types.js';
import { redactingAdapter } from '../../secrets/redacting-adapter.js';

// Every adapter is wrapped once so no error derived from an upstream's answer carries a key.
const adapters = new Map<ProviderConfig['kind'], ProviderAdapter>([
  ['openai-compatible', redactingAdapter(openAICompatibleAdapter)],
  ['gemini', redactingAdapter(geminiAdapter)],
  ['anthropic', redactingAdapter(anthropicAdapter)],
]);

/** The adapter for a provider, or null when its kind is not implemented yet. */
export function adapterFor(provider: ProviderConfig): ProviderAdapter | null {
  return adapters.get(provider.kind) ?? null;
}
