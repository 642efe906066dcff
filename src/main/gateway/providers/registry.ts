/** The single map of provider kinds → adapters. Nothing else switches on a provider. */
import type { ProviderConfig } from '../config.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAICompatibleAdapter } from './openai-compatible/index.js';
import type { CoreProviderAdapter, ProviderAdapter, ProviderServices } from './types.js';
import { redactingAdapter, redactingCoreAdapter } from '../../secrets/redacting-adapter.js';
import { bridgeLegacyAdapter } from './legacy-bridge.js';

// Every adapter is wrapped once so no error derived from an upstream's answer carries a key.

/**
 * Providers still on the OpenAI-pivot contract, reached over the core through the legacy
 * bridge. OpenAI-compatible upstreams speak the openai-chat format natively, so an OpenAI
 * client's body passes through as before.
 */
const legacyAdapters = new Map<ProviderConfig['kind'], ProviderAdapter>([
  ['openai-compatible', redactingAdapter(openAICompatibleAdapter)],
]);

/** Providers that translate core ↔ native themselves. */
const nativeAdapters = new Map<ProviderConfig['kind'], CoreProviderAdapter>([
  ['gemini', redactingCoreAdapter(geminiAdapter)],
  ['anthropic', redactingCoreAdapter(anthropicAdapter)],
]);

const coreAdapters = new Map<ProviderConfig['kind'], CoreProviderAdapter>([
  ...[...legacyAdapters].map(([kind, adapter]) => [kind, bridgeLegacyAdapter(adapter, { sameFormat: kind === 'openai-compatible' })] as const),
  ...nativeAdapters,
]);

/** The core adapter for a provider, or null when its kind is not implemented yet. */
export function coreAdapterFor(provider: ProviderConfig): CoreProviderAdapter | null {
  return coreAdapters.get(provider.kind) ?? null;
}

/** A provider's errors, embeddings and model list, or null when its kind is not implemented yet. */
export function adapterFor(provider: ProviderConfig): ProviderServices | null {
  return coreAdapters.get(provider.kind) ?? null;
}
