/** The single map of provider kinds → adapters. Nothing else switches on a provider. */
import type { ProviderConfig } from '../config.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAICompatibleAdapter } from './openai-compatible/index.js';
import type { CoreProviderAdapter, ProviderServices } from './types.js';
import { redactingCoreAdapter } from '../../secrets/redacting-adapter.js';

// Every adapter is wrapped once so no error derived from an upstream's answer carries a key.
// Each translates core ↔ native itself; OpenAI-compatible upstreams speak the openai-chat
// format natively, so an OpenAI client's body passes through.
const coreAdapters = new Map<ProviderConfig['kind'], CoreProviderAdapter>([
  ['openai-compatible', redactingCoreAdapter(openAICompatibleAdapter)],
  ['gemini', redactingCoreAdapter(geminiAdapter)],
  ['anthropic', redactingCoreAdapter(anthropicAdapter)],
]);

/** The core adapter for a provider, or null when its kind is not implemented yet. */
export function coreAdapterFor(provider: ProviderConfig): CoreProviderAdapter | null {
  return coreAdapters.get(provider.kind) ?? null;
}

/** A provider's errors, embeddings and model list, or null when its kind is not implemented yet. */
export function adapterFor(provider: ProviderConfig): ProviderServices | null {
  return coreAdapters.get(provider.kind) ?? null;
}
