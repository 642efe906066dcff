/** The single map of provider kinds → adapters. Nothing else switches on a provider. */
import type { ProviderConfig } from '../config.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAICompatibleAdapter } from './openai-compatible/index.js';
import type { ProviderAdapter } from './types.js';

const adapters = new Map<ProviderConfig['kind'], ProviderAdapter>([
  ['openai-compatible', openAICompatibleAdapter],
  ['gemini', geminiAdapter],
  ['anthropic', anthropicAdapter],
]);

/** The adapter for a provider, or null when its kind is not implemented yet. */
export function adapterFor(provider: ProviderConfig): ProviderAdapter | null {
  return adapters.get(provider.kind) ?? null;
}

export function registerAdapter(kind: ProviderConfig['kind'], adapter: ProviderAdapter): void {
  adapters.set(kind, adapter);
}
