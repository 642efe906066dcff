/** The single map of provider kinds → adapters. Nothing else switches on a provider. */
import type { ProviderConfig } from '../config.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAICompatibleAdapter } from './openai-compatible/index.js';
import type { CoreProviderAdapter, ProviderAdapter } from './types.js';
import { redactingAdapter } from '../../secrets/redacting-adapter.js';
import { bridgeLegacyAdapter } from './legacy-bridge.js';

// Every adapter is wrapped once so no error derived from an upstream's answer carries a key.
const adapters = new Map<ProviderConfig['kind'], ProviderAdapter>([
  ['openai-compatible', redactingAdapter(openAICompatibleAdapter)],
  ['gemini', redactingAdapter(geminiAdapter)],
  ['anthropic', redactingAdapter(anthropicAdapter)],
]);

// Over the core: every provider goes through the legacy bridge for now (native core
// translators for Anthropic and Gemini come next); OpenAI-compatible upstreams speak the
// openai-chat format natively, so an OpenAI client's body passes through as before.
const coreAdapters = new Map<ProviderConfig['kind'], CoreProviderAdapter>(
  [...adapters].map(([kind, adapter]) => [kind, bridgeLegacyAdapter(adapter, { sameFormat: kind === 'openai-compatible' })]),
);

/** The core adapter for a provider, or null when its kind is not implemented yet. */
export function coreAdapterFor(provider: ProviderConfig): CoreProviderAdapter | null {
  return coreAdapters.get(provider.kind) ?? null;
}

/** The adapter for a provider, or null when its kind is not implemented yet. */
export function adapterFor(provider: ProviderConfig): ProviderAdapter | null {
  return adapters.get(provider.kind) ?? null;
}
