/**
 * Limits, budgets and the response cache as the user sees them: each rule with its use as
 * bars (requests and tokens this minute, spend today and this month against the budget),
 * the rules editable as the config file's JSON, and the cache's size, hit rate, savings and
 * Clear. Shown in Settings (editable) and on Analytics (read only).
 */
import { useCallback, useEffect, useState, type FormEvent, type JSX } from 'react';
import type { CacheView, LimitUsageView, LimitsView } from '../../../shared/contract';
import { useApp } from '../app-context';
import { formatCount, formatPercent, formatUsd } from '../format/format-values';
import { ErrorState, LoadingState } from './empty-state';

const REFRESH_MS = 5_000;

function usePolled<T>(load: () => Promise<T>): { value: T | null; error: string | null; set: (value: T) => void; reload: () => void } {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    load().then(
      (next) => {
        setValue(next);
        setError(null);
      },
      (failure: Error) => setError(failure.message),
    );
  }, [load]);
  useEffect(() => {
    reload();
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return { value, error, set: setValue, reload };
}

function UsageBar({ label, used, limit, text }: { label: string; used: number; limit: number; text: string }): JSX.Element {
  const ratio = limit > 0 ? Math.min(1, used / limit) : 1;
  const tone = ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : 'ok';
  return (
    <div className="usage-bar">
      <div className="usage-bar-label">
        <span>{label}</span>
        <span className="muted mono">{text}</span>
      </div>
      <div className={`usage-bar-track ${tone}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limit} aria-valuenow={Math.min(used, limit)}>
        <div className="usage-bar-fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

function RuleUsage({ usage }: { usage: LimitUsageView }): JSX.Element {
  return (
    <li className="limit-rule">
      <strong>{usage.label}</strong>
      {usage.requestsPerMinute !== null ? <UsageBar label="Requests this minute" used={usage.requestsThisMinute} limit={usage.requestsPerMinute} text={`${formatCount(usage.requestsThisMinute)} / ${formatCount(usage.requestsPerMinute)}`} /> : null}
      {usage.tokensPerMinute !== null ? <UsageBar label="Tokens this minute" used={usage.tokensThisMinute} limit={usage.tokensPerMinute} text={`${formatCount(usage.tokensThisMinute)} / ${formatCount(usage.tokensPerMinute)}`} /> : null}
      {usage.usdPerDayNanoUsd !== null ? <UsageBar label="Spend today" used={usage.spentTodayNanoUsd} limit={usage.usdPerDayNanoUsd} text={`${formatUsd(usage.spentTodayNanoUsd)} / ${formatUsd(usage.usdPerDayNanoUsd)}`} /> : null}
      {usage.usdPerMonthNanoUsd !== null ? <UsageBar label="Spend this month" used={usage.spentThisMonthNanoUsd} limit={usage.usdPerMonthNanoUsd} text={`${formatUsd(usage.spentThisMonthNanoUsd)} / ${formatUsd(usage.usdPerMonthNanoUsd)}`} /> : null}
    </li>
  );
}

function LimitsUsageList({ view }: { view: LimitsView }): JSX.Element {
  if (view.usage.length === 0) return <p className="muted small">No limits or budgets: every request goes through.</p>;
  return (
    <>
      <ul className="limit-rules" aria-label="Limits and their use">
        {view.usage.map((usage) => (
          <RuleUsage key={usage.index} usage={usage} />
        ))}
      </ul>
      <p className="muted small">
        Days and months are counted in {view.timeZone} (today {view.day}).
      </p>
    </>
  );
}

const EXAMPLE_RULES = '[\n  { "match": {}, "requestsPerMinute": 60 },\n  { "match": { "key": "ci" }, "usdPerDay": "0.50" }\n]';

/** Settings: the rules as JSON (the config file's `limits`), saved and applied at once, with their use. */
export function LimitsSettings(): JSX.Element {
  const { client } = useApp();
  const load = useCallback(() => client.call('limits.get', undefined), [client]);
  const { value, error, set } = usePolled(load);
  const [text, setText] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  if (error && !value) return <ErrorState message={error} />;
  if (!value) return <LoadingState />;
  const shown = text ?? JSON.stringify(value.rules, null, 2);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    let rules: unknown;
    try {
      rules = JSON.parse(shown);
    } catch (failure) {
      setMessage({ tone: 'error', text: `The rules are not valid JSON: ${(failure as Error).message}` });
      return;
    }
    try {
      set(await client.call('limits.update', { rules: rules as LimitsView['rules'] }));
      setText(null);
      setMessage({ tone: 'info', text: 'Limits saved and applied to the next request.' });
    } catch (failure) {
      setMessage({ tone: 'error', text: (failure as Error).message });
    }
  };
  return (
    <form className="settings-form" onSubmit={(event) => void submit(event)}>
      {/* Only a gateway sharing its counters through Redis (serve --redis-url) has anything to say here. */}
      {value.sharedState.backend === 'redis' ? (
        <p className={value.sharedState.state === 'unreachable' ? 'callout warning small' : 'muted small'} role={value.sharedState.state === 'unreachable' ? 'alert' : undefined} data-testid="shared-state">
          {value.sharedState.message}
        </p>
      ) : null}
      <LimitsUsageList view={value} />
      <label className="field">
        <span className="field-label">Rules (JSON, as the config file's "limits")</span>
        <textarea className="mono" rows={Math.min(14, Math.max(4, shown.split('\n').length + 1))} spellCheck={false} value={shown} placeholder={EXAMPLE_RULES} onChange={(event) => setText(event.target.value)} />
      </label>
      <p className="muted small">
        Each rule: <code>match</code> (<code>key</code> name, <code>tag</code> "k:v", <code>user</code>; empty for every request) and any of <code>requestsPerMinute</code>, <code>tokensPerMinute</code>, <code>usdPerDay</code>, <code>usdPerMonth</code>. A refused request gets a 429 with retry-after.
      </p>
      {message ? (
        <p className={`callout ${message.tone} small`} role={message.tone === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button primary">
          Save limits
        </button>
      </div>
    </form>
  );
}

function CacheFigures({ view }: { view: CacheView }): JSX.Element {
  const asked = view.hits + view.misses;
  return (
    <dl className="cache-figures">
      <div>
        <dt>Status</dt>
        <dd>{view.enabled ? `On, answers kept ${formatCount(view.ttlSeconds)} s` : 'Off (a request may ask with x-switchyard-cache: on)'}</dd>
      </div>
      <div>
        <dt>Entries</dt>
        <dd>
          {formatCount(view.entries)} / {formatCount(view.maxEntries)} ({(view.bytes / 1_048_576).toFixed(1)} of {(view.maxBytes / 1_048_576).toFixed(0)} MB)
        </dd>
      </div>
      <div>
        <dt>Hit rate since start</dt>
        <dd>{asked === 0 ? '—' : `${formatPercent(view.hits / asked)} (${formatCount(view.hits)} of ${formatCount(asked)})`}</dd>
      </div>
      <div>
        <dt>Saved, last 30 days</dt>
        <dd>
          {formatUsd(view.savedNanoUsd30d)} in {formatCount(view.loggedHits30d)} hits
        </dd>
      </div>
    </dl>
  );
}

/** Settings: the response cache's figures and Clear. */
export function CacheSettings(): JSX.Element {
  const { client } = useApp();
  const load = useCallback(() => client.call('cache.get', undefined), [client]);
  const { value, error, set } = usePolled(load);
  const [message, setMessage] = useState<string | null>(null);
  if (error && !value) return <ErrorState message={error} />;
  if (!value) return <LoadingState />;
  const clear = async (): Promise<void> => {
    try {
      set(await client.call('cache.clear', undefined));
      setMessage('Cache cleared.');
    } catch (failure) {
      setMessage((failure as Error).message);
    }
  };
  return (
    <div className="settings-form">
      <CacheFigures view={value} />
      <p className="muted small">
        Turn it on in the config file: <code>{'"cache": {"enabled": true, "ttlSeconds": 3600}'}</code>. Per request: <code>x-switchyard-cache: off | refresh | on</code>.
      </p>
      <div className="form-actions">
        <button type="button" className="button" onClick={() => void clear()} disabled={value.entries === 0 && value.hits === 0 && value.misses === 0}>
          Clear cache
        </button>
        {message ? (
          <span className="muted small" role="status">
            {message}
          </span>
        ) : null}
      </div>
    </div>
  );
}

/** Analytics: limits' use and the cache's savings, read only. */
export function LimitsAndCachePanel(): JSX.Element | null {
  const { client } = useApp();
  const loadLimits = useCallback(() => client.call('limits.get', undefined), [client]);
  const loadCache = useCallback(() => client.call('cache.get', undefined), [client]);
  const limits = usePolled(loadLimits);
  const cache = usePolled(loadCache);
  if (!limits.value || !cache.value) return null;
  if (limits.value.usage.length === 0 && cache.value.loggedHits30d === 0 && !cache.value.enabled) return null;
  return (
    <section className="panel" aria-labelledby="analytics-limits">
      <div className="panel-header">
        <h3 id="analytics-limits">Limits and cache</h3>
      </div>
      <LimitsUsageList view={limits.value} />
      <CacheFigures view={cache.value} />
    </section>
  );
}
