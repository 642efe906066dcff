/**
 * "Does this provider key work?": the cheapest authenticated call every provider has, its
 * model list (through the provider's adapter, so base URLs, headers and auth are exactly
 * the gateway's). Used by `switchyard keys test`; the app's "Test" button can use it too.
 *
 * Outcomes: `ok`; `invalid key` (401/403, or an answer the adapter reads as a bad key, such
 * as xAI's 400 "Incorrect API key"); `unreachable` (connection refused, DNS, timeout, 5xx);
 * `error` (any other answer). Messages are redacted: an upstream that echoes the key back
 * shows only its masked form.
 */
import type { ProviderConfig } from '../gateway/config.js';
import { GatewayError } from '../gateway/errors.js';
import { adapterFor } from '../gateway/providers/registry.js';
import type { FetchJson } from '../gateway/providers/types.js';
import { UpstreamClient } from '../gateway/routing/upstream-client.js';
import { redactSecrets } from './redact.js';

export type KeyTestOutcome = 'ok' | 'invalid key' | 'unreachable' | 'error';

export const KEY_TEST_EXIT_CODES: Record<KeyTestOutcome, number> = { ok: 0, 'invalid key': 1, unreachable: 2, error: 2 };

/** Tests a key with the provider's model list, the cheapest authenticated call every provider has. */
export async function testProviderKey(
  provider: ProviderConfig,
  apiKey: string | null,
  options: { timeoutMs: number; upstream?: UpstreamClient },
): Promise<{ outcome: KeyTestOutcome; message: string; latencyMs: number }> {
  const adapter = adapterFor(provider);
  if (!adapter) return { outcome: 'error', message: `this version of Switchyard cannot call ${provider.name} (${provider.kind})`, latencyMs: 0 };
  const upstream = options.upstream ?? new UpstreamClient({ connectTimeoutMs: Math.min(options.timeoutMs, 5_000), connectionsPerOrigin: 1 });
  const target = { provider, model: '', apiKey };
  let last: { status: number; json: unknown } | null = null;
  const fetchJson: FetchJson = async (request, timeoutMs) => {
    last = await upstream.fetchJson(request, timeoutMs);
    return last;
  };
  const started = Date.now();
  try {
    const models = await adapter.listModels(target, fetchJson, options.timeoutMs);
    return { outcome: 'ok', message: `${models.length} model${models.length === 1 ? '' : 's'} listed`, latencyMs: Date.now() - started };
  } catch (error) {
    const latencyMs = Date.now() - started;
    const answer = last as { status: number; json: unknown } | null;
    if (answer && answer.status >= 400) {
      // The adapter reads the provider's error as the gateway would (xAI's 400 for a bad key is a 401 there).
      const parsed = adapter.parseError(answer.status, answer.json === null ? '' : JSON.stringify(answer.json), {}, target);
      const detail = `HTTP ${answer.status}: ${parsed.message}`;
      if (parsed.status === 401 || parsed.status === 403 || answer.status === 401 || answer.status === 403) return { outcome: 'invalid key', message: detail, latencyMs };
      return { outcome: answer.status >= 500 ? 'unreachable' : 'error', message: detail, latencyMs };
    }
    if (error instanceof GatewayError && (error.status === 502 || error.status === 504)) {
      return { outcome: 'unreachable', message: redactSecrets(error.message, [apiKey]), latencyMs };
    }
    return { outcome: 'error', message: redactSecrets((error as Error)?.message ?? String(error), [apiKey]), latencyMs };
  } finally {
    if (!options.upstream) await upstream.close();
  }
}
