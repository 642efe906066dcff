/**
 * Providers & keys: one card per provider (state pill, masked key, last test, set /
 * replace / test / delete, base URL for OpenAI-compatible and local servers, local
 * servers detected when running, the concurrency in use when a limit is set, and its
 * circuit breakers when one is not closed, with a reset), then the gateway keys clients
 * use: create (the key shown once, with copy), name, tags, expiry, revoke.
 */
import { useEffect, useState, type FormEvent, type JSX } from 'react';
import type { CircuitView, GatewayKeySummary, ProviderState } from '../../../shared/contract';
import { useApp, useStoreValue } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { EmptyState, ErrorState, LoadingState } from '../components/empty-state';
import { Icon } from '../components/icons';
import { formatClockTime, formatCount, formatExactTime, formatLatency, formatRelativeTime } from '../format/format-values';

const STATE_LABELS: Record<ProviderState['keyState'], { label: string; tone: string }> = {
  keychain: { label: 'Keychain', tone: 'ok' },
  environment: { label: 'Environment', tone: 'info' },
  missing: { label: 'Missing', tone: 'muted' },
  'not-needed': { label: 'No key needed', tone: 'muted' },
};

function statePill(provider: ProviderState): { label: string; tone: string } {
  if (provider.lastTest?.outcome === 'invalid-key') return { label: 'Invalid', tone: 'error' };
  if (provider.local) {
    if (provider.detected === true) return { label: 'Detected', tone: 'ok' };
    if (provider.detected === false) return { label: 'Not running', tone: 'muted' };
  }
  return STATE_LABELS[provider.keyState];
}

/** How often the screen reads the concurrency in use again while a provider has a limit (it changes without events). */
const CONCURRENCY_REFRESH_MS = 2_000;

/** "Circuit open — retrying at 14:03:12" / "Half-open — probing". */
function circuitHeadline(circuit: CircuitView): string {
  if (circuit.state === 'half-open') return 'Half-open — probing';
  return circuit.retryAt !== null ? `Circuit open — retrying at ${formatClockTime(circuit.retryAt)}` : 'Circuit open';
}

/** Red while the whole provider is cut off, amber while only models are (or it is probing); null when every circuit is closed. */
function circuitTone(provider: ProviderState): 'error' | 'warning' | null {
  const tripped = provider.circuits.filter((circuit) => circuit.state !== 'closed');
  if (tripped.length === 0) return null;
  return tripped.some((circuit) => circuit.model === null && circuit.state === 'open') ? 'error' : 'warning';
}

function circuitCounts(circuit: CircuitView): string {
  const parts = [`${formatCount(circuit.consecutiveFailures)} ${circuit.consecutiveFailures === 1 ? 'failure' : 'failures'} in a row`];
  if (circuit.recentTotal > 0) parts.push(`${formatCount(circuit.recentFailures)} of the last ${formatCount(circuit.recentTotal)} failed`);
  return parts.join(' · ');
}

/**
 * A provider's circuit breakers, shown only when one is not closed: the provider-wide
 * circuit as the headline (or how many models are cut off), the last error, each model's
 * circuit, and a reset.
 */
function CircuitPanel({ provider }: { provider: ProviderState }): JSX.Element | null {
  const { providers } = useApp();
  const busy = useStoreValue(providers, (state) => state.busy[provider.id]);
  const own = provider.circuits.find((circuit) => circuit.model === null && circuit.state !== 'closed') ?? null;
  const models = provider.circuits.filter((circuit) => circuit.model !== null && circuit.state !== 'closed');
  if (own === null && models.length === 0) return null;
  const lead = own ?? models[0]!;
  const tone = circuitTone(provider) ?? 'warning';
  const headline = own ? circuitHeadline(own) : `Circuit open for ${models.length === 1 ? '1 model' : `${models.length} models`}`;
  return (
    <section className={`circuit-panel ${tone}`} aria-label={`${provider.name} circuit breaker`} data-testid={`provider-circuit-${provider.id}`}>
      <div className="circuit-headline">
        <span className={`circuit-dot ${tone}`} aria-hidden="true" />
        <strong title={lead.openedAt !== null ? `Opened ${formatExactTime(lead.openedAt)}` : undefined}>{headline}</strong>
        <button
          type="button"
          className="button small circuit-reset push-end"
          onClick={() => void providers.getState().resetCircuits(provider.id)}
          disabled={busy === 'reset-circuits'}
          aria-label={`Reset the ${provider.name} circuit breaker`}
          title="Close the circuit now: requests go to the provider again"
        >
          {busy === 'reset-circuits' ? 'Resetting…' : 'Reset'}
        </button>
      </div>
      {own ? <p className="circuit-counts">{circuitCounts(own)}</p> : null}
      {lead.lastError ? (
        <p className="circuit-error mono" title={lead.lastError}>
          {lead.lastError}
        </p>
      ) : null}
      {models.length > 0 ? (
        <ul className="circuit-models" aria-label="Models with an open circuit">
          {models.map((circuit) => (
            <li key={circuit.model} title={[circuitCounts(circuit), circuit.lastError].filter(Boolean).join('\n')}>
              <span className="mono circuit-model">{circuit.model}</span>
              <span className="circuit-model-state">
                {circuit.state === 'half-open' ? 'probing' : circuit.retryAt !== null ? `open until ${formatClockTime(circuit.retryAt)}` : 'open'}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function ProviderCard({ provider }: { provider: ProviderState }): JSX.Element {
  const { providers } = useApp();
  const busy = useStoreValue(providers, (state) => state.busy[provider.id]);
  const error = useStoreValue(providers, (state) => state.providerErrors[provider.id]);
  const [editingKey, setEditingKey] = useState(false);
  const [key, setKey] = useState('');
  const [editingUrl, setEditingUrl] = useState(false);
  const [url, setUrl] = useState(provider.baseUrl);
  const pill = statePill(provider);
  const tripped = circuitTone(provider);
  const needsKey = provider.keyState !== 'not-needed';

  const saveKey = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await providers.getState().setKey(provider.id, key)) {
      setKey('');
      setEditingKey(false);
      void providers.getState().test(provider.id);
    }
  };
  const saveUrl = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await providers.getState().setBaseUrl(provider.id, url.trim() || null)) setEditingUrl(false);
  };

  return (
    <article className={tripped ? `provider-card circuit-${tripped}` : 'provider-card'} aria-labelledby={`provider-${provider.id}-name`} data-provider={provider.id}>
      <header className="provider-card-header">
        <h3 id={`provider-${provider.id}-name`}>{provider.name}</h3>
        <span className={`pill ${pill.tone}`} data-testid={`provider-state-${provider.id}`}>
          {pill.label}
        </span>
        {provider.local ? <span className="pill muted">local</span> : null}
      </header>
      <dl className="provider-facts">
        {needsKey ? (
          <div>
            <dt>Key</dt>
            <dd className="mono" title={provider.keyEnvironmentVariable ? `Read from ${provider.keyEnvironmentVariable} when no key is stored` : undefined}>
              {provider.maskedKey ?? <span className="muted">not set</span>}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Base URL</dt>
          <dd className="mono" title={provider.baseUrlOverridden ? `Default: ${provider.defaultBaseUrl}` : undefined}>
            {provider.baseUrl}
            {provider.baseUrlOverridden ? <span className="pill info small">custom</span> : null}
          </dd>
        </div>
        <div>
          <dt>Last test</dt>
          <dd data-testid={`provider-test-${provider.id}`}>
            {provider.lastTest ? (
              <span className={`test-result ${provider.lastTest.outcome}`} title={formatExactTime(provider.lastTest.testedAt)}>
                {provider.lastTest.outcome === 'ok' ? '✓' : '✕'} {provider.lastTest.message}
                <span className="muted">
                  {' '}
                  · {formatRelativeTime(provider.lastTest.testedAt)}
                  {provider.lastTest.latencyMs !== null ? ` · ${formatLatency(provider.lastTest.latencyMs)}` : ''}
                </span>
              </span>
            ) : (
              <span className="muted">never</span>
            )}
          </dd>
        </div>
        {provider.concurrency ? (
          <div>
            <dt>In flight</dt>
            <dd data-testid={`provider-concurrency-${provider.id}`} title={`At most ${provider.concurrency.limit} requests at once; up to ${provider.concurrency.queue} more wait, beyond that clients get a 429.`}>
              <span className="mono">
                {formatCount(provider.concurrency.active)} / {formatCount(provider.concurrency.limit)}
              </span>
              {provider.concurrency.waiting > 0 ? <span className="concurrency-waiting"> · {formatCount(provider.concurrency.waiting)} waiting</span> : null}
            </dd>
          </div>
        ) : null}
      </dl>
      <CircuitPanel provider={provider} />
      {error ? (
        <p className="callout error small" role="alert">
          {error}
        </p>
      ) : null}
      {editingKey ? (
        <form className="inline-form" onSubmit={(event) => void saveKey(event)}>
          <label className="visually-hidden" htmlFor={`key-${provider.id}`}>
            {provider.name} API key
          </label>
          <input id={`key-${provider.id}`} type="password" autoComplete="off" spellCheck={false} placeholder={provider.keyEnvironmentVariable ? `Paste the key (or set ${provider.keyEnvironmentVariable})` : 'Paste the API key'} value={key} onChange={(event) => setKey(event.target.value)} autoFocus />
          <button type="submit" className="button primary" disabled={!key.trim() || busy === 'save'}>
            {busy === 'save' ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="button ghost" onClick={() => setEditingKey(false)}>
            Cancel
          </button>
        </form>
      ) : null}
      {editingUrl ? (
        <form className="inline-form" onSubmit={(event) => void saveUrl(event)}>
          <label className="visually-hidden" htmlFor={`url-${provider.id}`}>
            {provider.name} base URL
          </label>
          <input id={`url-${provider.id}`} type="url" spellCheck={false} value={url} onChange={(event) => setUrl(event.target.value)} autoFocus />
          <button type="submit" className="button primary" disabled={busy === 'base-url'}>
            Save
          </button>
          {provider.baseUrlOverridden ? (
            <button type="button" className="button ghost" onClick={() => void providers.getState().setBaseUrl(provider.id, null).then((done) => done && setEditingUrl(false))}>
              Reset
            </button>
          ) : null}
          <button type="button" className="button ghost" onClick={() => setEditingUrl(false)}>
            Cancel
          </button>
        </form>
      ) : null}
      <footer className="provider-actions">
        {needsKey ? (
          <button type="button" className="button" onClick={() => setEditingKey(true)} disabled={editingKey}>
            {provider.keyState === 'keychain' ? 'Replace key' : 'Set key'}
          </button>
        ) : null}
        <button type="button" className="button" onClick={() => void providers.getState().test(provider.id)} disabled={busy === 'test'}>
          {busy === 'test' ? 'Testing…' : provider.local ? 'Check' : 'Test'}
        </button>
        {provider.baseUrlEditable ? (
          <button
            type="button"
            className="button ghost"
            onClick={() => {
              setUrl(provider.baseUrl);
              setEditingUrl(true);
            }}
            disabled={editingUrl}
          >
            Base URL
          </button>
        ) : null}
        {provider.keyState === 'keychain' ? (
          <button
            type="button"
            className="button ghost icon-only danger-text push-end"
            aria-label={`Delete the ${provider.name} key`}
            title="Delete key"
            onClick={() => {
              if (window.confirm(`Delete the ${provider.name} key from Switchyard?`)) void providers.getState().deleteKey(provider.id);
            }}
          >
            <Icon name="trash" size={14} />
          </button>
        ) : null}
      </footer>
    </article>
  );
}

function parseTags(text: string): Array<{ key: string; value: string }> {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const colon = item.indexOf(':');
      return colon === -1 ? { key: item, value: '' } : { key: item.slice(0, colon).trim(), value: item.slice(colon + 1).trim() };
    });
}

const EXPIRY_DAYS: Record<string, number | null> = { never: null, '30': 30, '90': 90, '365': 365 };

function GatewayKeys(): JSX.Element {
  const { providers } = useApp();
  const keys = useStoreValue(providers, (state) => state.gatewayKeys);
  const created = useStoreValue(providers, (state) => state.createdKey);
  const [name, setName] = useState('');
  const [tags, setTags] = useState('');
  const [expiry, setExpiry] = useState('never');
  const [creating, setCreating] = useState(false);

  const create = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setCreating(true);
    const days = EXPIRY_DAYS[expiry] ?? null;
    const result = await providers.getState().createGatewayKey({ name: name.trim(), tags: parseTags(tags), expiresAt: days === null ? null : Date.now() + days * 86_400_000 });
    setCreating(false);
    if (result) {
      setName('');
      setTags('');
    }
  };
  const active = (key: GatewayKeySummary): boolean => key.revokedAt === null && (key.expiresAt === null || key.expiresAt > Date.now());

  return (
    <section className="panel" aria-labelledby="gateway-keys-heading">
      <div className="panel-header">
        <h2 id="gateway-keys-heading">Gateway keys</h2>
        <span className="muted small">What your tools send as their API key. Give each tool its own key (with tags) to see cost by tool.</span>
      </div>
      {created ? (
        <div className="created-key" role="alert" data-testid="created-key">
          <div>
            <strong>Key “{created.record.name}” created.</strong> Copy it now — you will not see it again.
          </div>
          <div className="created-key-value">
            <code className="mono">{created.key}</code>
            <CopyButton text={created.key} label="Copy key" />
            <button type="button" className="button ghost" onClick={() => providers.getState().dismissCreatedKey()}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      <form className="key-form" onSubmit={(event) => void create(event)}>
        <label className="field">
          <span className="field-label">Name</span>
          <input required placeholder="e.g. Cursor on laptop" value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Tags</span>
          <input placeholder="team:platform, tool:cursor" value={tags} onChange={(event) => setTags(event.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Expires</span>
          <select value={expiry} onChange={(event) => setExpiry(event.target.value)}>
            <option value="never">Never</option>
            <option value="30">In 30 days</option>
            <option value="90">In 90 days</option>
            <option value="365">In a year</option>
          </select>
        </label>
        <button type="submit" className="button primary" disabled={!name.trim() || creating}>
          <Icon name="plus" size={13} />
          <span>{creating ? 'Creating…' : 'Create key'}</span>
        </button>
      </form>
      {keys.length === 0 ? (
        <EmptyState title="No gateway keys yet">
          <p>Create one above; clients send it as “Authorization: Bearer …”.</p>
        </EmptyState>
      ) : (
        <table className="keys-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Tags</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} className={active(key) ? '' : 'inactive'} data-key-name={key.name}>
                <td>{key.name}</td>
                <td className="mono">{key.prefix}</td>
                <td>
                  {key.tags.map((tag) => (
                    <span className="tag" key={`${tag.key}:${tag.value}`}>
                      {tag.key}:{tag.value}
                    </span>
                  ))}
                </td>
                <td title={key.createdAt ? formatExactTime(key.createdAt) : undefined}>{key.source === 'environment' ? 'environment' : formatRelativeTime(key.createdAt)}</td>
                <td title={key.lastUsedAt ? formatExactTime(key.lastUsedAt) : undefined}>{key.lastUsedAt ? formatRelativeTime(key.lastUsedAt) : <span className="muted">never</span>}</td>
                <td>{key.revokedAt ? <span className="pill error">revoked</span> : key.expiresAt ? new Date(key.expiresAt).toLocaleDateString() : <span className="muted">never</span>}</td>
                <td className="cell-actions">
                  {key.source === 'app' && key.revokedAt === null ? (
                    <button
                      type="button"
                      className="button ghost danger-text"
                      aria-label={`Revoke ${key.name}`}
                      onClick={() => {
                        if (window.confirm(`Revoke “${key.name}”? Tools using it stop working at once.`)) void providers.getState().revokeGatewayKey(key.id);
                      }}
                    >
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export default function ProvidersScreen(): JSX.Element {
  const { providers } = useApp();
  const list = useStoreValue(providers, (state) => state.providers);
  const loading = useStoreValue(providers, (state) => state.loading);
  const error = useStoreValue(providers, (state) => state.error);
  useEffect(() => {
    void providers.getState().load();
  }, [providers]);
  const limited = list.some((provider) => provider.concurrency !== null);
  useEffect(() => {
    if (!limited) return undefined;
    const timer = window.setInterval(() => void providers.getState().refreshProviders(), CONCURRENCY_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [providers, limited]);
  const cloud = list.filter((provider) => !provider.local);
  const local = list.filter((provider) => provider.local);
  return (
    <div className="providers-screen">
      {error ? <ErrorState message={error} onRetry={() => void providers.getState().load()} /> : null}
      {loading ? <LoadingState label="Loading providers…" /> : null}
      <section aria-labelledby="providers-heading">
        <div className="panel-header">
          <h2 id="providers-heading">Providers</h2>
          <span className="muted small">Keys are stored by Switchyard and never shown again; only a masked form appears here.</span>
        </div>
        <div className="provider-grid">
          {cloud.map((provider) => (
            <ProviderCard key={provider.id} provider={provider} />
          ))}
        </div>
      </section>
      {local.length > 0 ? (
        <section aria-labelledby="local-heading">
          <div className="panel-header">
            <h2 id="local-heading">Local servers</h2>
            <button type="button" className="button ghost" onClick={() => void providers.getState().detectLocal()}>
              <Icon name="refresh" size={13} />
              <span>Detect</span>
            </button>
          </div>
          <div className="provider-grid">
            {local.map((provider) => (
              <ProviderCard key={provider.id} provider={provider} />
            ))}
          </div>
        </section>
      ) : null}
      <GatewayKeys />
    </div>
  );
}
