/**
 * Settings: gateway (host, port, auth), model aliases, price overrides, data and
 * retention, export, and the desktop's start-at-login. Each section is a component in one
 * list, so routing, limits and telemetry sections slot in beside these as they land.
 */
import { useEffect, useState, type FormEvent, type JSX } from 'react';
import type { PriceOverrideView, SettingsUpdate, SettingsView } from '../../../shared/contract';
import { useApp } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { CacheSettings, LimitsSettings } from '../components/limits-panels';
import { ErrorState, LoadingState } from '../components/empty-state';
import { Icon } from '../components/icons';

interface SectionProps {
  settings: SettingsView;
  save: (update: SettingsUpdate) => Promise<boolean>;
}

function GatewaySection({ settings, save }: SectionProps): JSX.Element {
  const [host, setHost] = useState(settings.host);
  const [port, setPort] = useState(String(settings.port));
  const [auth, setAuth] = useState(settings.authRequired);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void save({ host: host.trim(), port: Number(port), authRequired: auth });
  };
  return (
    <form onSubmit={submit} className="settings-form">
      <div className="field-row">
        <label className="field">
          <span className="field-label">Host</span>
          <input value={host} onChange={(event) => setHost(event.target.value)} spellCheck={false} />
        </label>
        <label className="field narrow">
          <span className="field-label">Port</span>
          <input type="number" min={1} max={65535} value={port} onChange={(event) => setPort(event.target.value)} />
        </label>
      </div>
      <label className="toggle">
        <input type="checkbox" checked={auth} onChange={(event) => setAuth(event.target.checked)} />
        Require a gateway key on /v1 (recommended: any web page can reach localhost)
      </label>
      {host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' ? <p className="callout warning small">Listening beyond loopback exposes the gateway to your network.</p> : null}
      {settings.restartRequired ? <p className="callout info small">Saved. Host, port and auth changes apply at the next start.</p> : null}
      <div className="form-actions">
        <button type="submit" className="button primary">
          Save
        </button>
      </div>
    </form>
  );
}

function AliasesSection({ settings, save }: SectionProps): JSX.Element {
  const [rows, setRows] = useState(() => Object.entries(settings.aliases).map(([name, target]) => ({ name, target })));
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const aliases: Record<string, string> = {};
    for (const row of rows) if (row.name.trim() && row.target.trim()) aliases[row.name.trim()] = row.target.trim();
    void save({ aliases });
  };
  return (
    <form onSubmit={submit} className="settings-form">
      <p className="muted small">A name your tools send as the model, mapped to a real model (e.g. fast → openai/gpt-4.1-mini). Applies to the next request.</p>
      <table className="edit-table">
        <thead>
          <tr>
            <th scope="col">Alias</th>
            <th scope="col">Model</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td>
                <input aria-label="Alias name" value={row.name} onChange={(event) => setRows(rows.map((item, position) => (position === index ? { ...item, name: event.target.value } : item)))} />
              </td>
              <td>
                <input aria-label="Target model" className="mono" value={row.target} onChange={(event) => setRows(rows.map((item, position) => (position === index ? { ...item, target: event.target.value } : item)))} />
              </td>
              <td>
                <button type="button" className="button ghost icon-only" aria-label={`Remove alias ${row.name}`} onClick={() => setRows(rows.filter((_item, position) => position !== index))}>
                  <Icon name="trash" size={13} />
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="form-actions">
        <button type="button" className="button ghost" onClick={() => setRows([...rows, { name: '', target: '' }])}>
          <Icon name="plus" size={13} /> <span>Add alias</span>
        </button>
        <button type="submit" className="button primary">
          Save aliases
        </button>
      </div>
    </form>
  );
}

function PricesSection({ settings, save }: SectionProps): JSX.Element {
  const [rows, setRows] = useState<Array<{ key: string; input: string; output: string; cached: string }>>(() =>
    settings.priceOverrides.map((item) => ({ key: item.key, input: String(item.inputPerMillion), output: String(item.outputPerMillion), cached: item.cachedInputPerMillion === null ? '' : String(item.cachedInputPerMillion) })),
  );
  const update = (index: number, field: 'key' | 'input' | 'output' | 'cached', value: string): void => setRows(rows.map((row, position) => (position === index ? { ...row, [field]: value } : row)));
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const priceOverrides: PriceOverrideView[] = rows
      .filter((row) => row.key.trim())
      .map((row) => ({ key: row.key.trim(), inputPerMillion: Number(row.input), outputPerMillion: Number(row.output), cachedInputPerMillion: row.cached === '' ? null : Number(row.cached) }));
    void save({ priceOverrides });
  };
  return (
    <form onSubmit={submit} className="settings-form">
      <p className="muted small">USD per 1M tokens for models the catalog does not know, or to override it. Keys: model, provider/model, or provider/* (e.g. ollama/* at 0 for local models).</p>
      <table className="edit-table">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Input</th>
            <th scope="col">Output</th>
            <th scope="col">Cached input</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td>
                <input aria-label="Model" className="mono" value={row.key} onChange={(event) => update(index, 'key', event.target.value)} />
              </td>
              <td>
                <input aria-label="Input price" type="number" min={0} step="any" value={row.input} onChange={(event) => update(index, 'input', event.target.value)} />
              </td>
              <td>
                <input aria-label="Output price" type="number" min={0} step="any" value={row.output} onChange={(event) => update(index, 'output', event.target.value)} />
              </td>
              <td>
                <input aria-label="Cached input price" type="number" min={0} step="any" placeholder="= input" value={row.cached} onChange={(event) => update(index, 'cached', event.target.value)} />
              </td>
              <td>
                <button type="button" className="button ghost icon-only" aria-label={`Remove price ${row.key}`} onClick={() => setRows(rows.filter((_item, position) => position !== index))}>
                  <Icon name="trash" size={13} />
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="form-actions">
        <button type="button" className="button ghost" onClick={() => setRows([...rows, { key: '', input: '0', output: '0', cached: '' }])}>
          <Icon name="plus" size={13} /> <span>Add price</span>
        </button>
        <button type="submit" className="button primary">
          Save prices
        </button>
      </div>
    </form>
  );
}

function DataSection({ settings, save }: SectionProps): JSX.Element {
  const { client, status } = useApp();
  const [age, setAge] = useState(settings.retention.maximumAgeDays?.toString() ?? '');
  const [bodyAge, setBodyAge] = useState(settings.retention.bodyMaximumAgeDays?.toString() ?? '');
  const [size, setSize] = useState(settings.retention.maximumSizeMegabytes?.toString() ?? '');
  const [storeBodies, setStoreBodies] = useState(settings.retention.storeBodies);
  const [message, setMessage] = useState<string | null>(null);
  const desktop = status.getState().information?.mode === 'desktop';
  const number = (text: string): number | null => (text.trim() === '' ? null : Number(text));
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await save({ retention: { maximumAgeDays: number(age), bodyMaximumAgeDays: number(bodyAge), maximumSizeMegabytes: number(size), storeBodies } })) setMessage('Retention saved and applied.');
  };
  const exportAs = async (format: 'csv' | 'jsonl'): Promise<void> => {
    setMessage('Exporting…');
    try {
      const result = await client.call('data.export', { format });
      setMessage(`Exported ${result.requests.toLocaleString('en-US')} requests to ${result.path}`);
    } catch (error) {
      setMessage((error as Error).message);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} className="settings-form">
      <div className="field">
        <span className="field-label">Data folder</span>
        <div className="inline-value">
          <code className="mono">{settings.dataDirectory}</code>
          <CopyButton text={settings.dataDirectory} compact label="Copy path" />
          {desktop ? (
            <button type="button" className="button ghost" onClick={() => void client.call('app.open-data-folder', undefined)}>
              <Icon name="folder" size={13} /> <span>Open</span>
            </button>
          ) : null}
        </div>
      </div>
      <div className="field-row">
        <label className="field narrow">
          <span className="field-label">Delete requests after (days)</span>
          <input type="number" min={1} placeholder="keep" value={age} onChange={(event) => setAge(event.target.value)} />
        </label>
        <label className="field narrow">
          <span className="field-label">Delete bodies after (days)</span>
          <input type="number" min={0} placeholder="keep" value={bodyAge} onChange={(event) => setBodyAge(event.target.value)} />
        </label>
        <label className="field narrow">
          <span className="field-label">Maximum size (MB)</span>
          <input type="number" min={1} placeholder="no limit" value={size} onChange={(event) => setSize(event.target.value)} />
        </label>
      </div>
      <label className="toggle">
        <input type="checkbox" checked={storeBodies} onChange={(event) => setStoreBodies(event.target.checked)} />
        Store request and response bodies (the inspector's Request / Upstream / Response tabs and transcripts need them)
      </label>
      <div className="form-actions">
        <button type="submit" className="button primary">
          Save retention
        </button>
        <span className="spacer" />
        <button type="button" className="button" onClick={() => void exportAs('csv')}>
          Export CSV
        </button>
        <button type="button" className="button" onClick={() => void exportAs('jsonl')}>
          Export JSON lines
        </button>
      </div>
      {message ? (
        <p className="muted small" role="status">
          {message}
        </p>
      ) : null}
    </form>
  );
}

function TelemetrySection({ settings, save }: SectionProps): JSX.Element {
  const [enabled, setEnabled] = useState(settings.telemetry.enabled);
  const [endpoint, setEndpoint] = useState(settings.telemetry.endpoint);
  const [protocol, setProtocol] = useState(settings.telemetry.protocol);
  const [captureContent, setCaptureContent] = useState(settings.telemetry.captureContent);
  const [message, setMessage] = useState<string | null>(null);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await save({ telemetry: { enabled, endpoint: endpoint.trim(), protocol, captureContent } })) setMessage('Saved. Telemetry settings apply at the next start.');
  };
  const running = settings.telemetry;
  return (
    <form onSubmit={(event) => void submit(event)} className="settings-form">
      <p className="muted small">
        {running.active ? `Exporting traces and metrics now (${running.source === 'environment' ? 'from the OTEL_ variables' : 'from the configuration'}).` : 'Not exporting now.'}
        {running.droppedSpans > 0 ? ` ${running.droppedSpans.toLocaleString('en-US')} spans were dropped (the collector is slower than the traffic).` : ''}
      </p>
      <label className="toggle">
        <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
        Export a trace of every model call and metrics over OTLP/HTTP
      </label>
      <div className="field-row">
        <label className="field">
          <span className="field-label">Collector endpoint</span>
          <input className="mono" value={endpoint} placeholder="http://localhost:4318" spellCheck={false} onChange={(event) => setEndpoint(event.target.value)} />
        </label>
        <label className="field narrow">
          <span className="field-label">Protocol</span>
          <select value={protocol} onChange={(event) => setProtocol(event.target.value as typeof protocol)}>
            <option value="http/protobuf">http/protobuf</option>
            <option value="http/json">http/json</option>
          </select>
        </label>
      </div>
      <label className="toggle">
        <input type="checkbox" checked={captureContent} onChange={(event) => setCaptureContent(event.target.checked)} />
        Include prompts and answers in spans (gen_ai.input.messages / gen_ai.output.messages)
      </label>
      <p className="muted small">Headers such as a collector's API key: OTEL_EXPORTER_OTLP_HEADERS or the config file's telemetry.headers.</p>
      {message ? (
        <p className="callout info small" role="status">
          {message}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button primary">
          Save telemetry
        </button>
      </div>
    </form>
  );
}

function DesktopSection({ settings, save }: SectionProps): JSX.Element {
  return (
    <div className="settings-form">
      <label className="toggle">
        <input type="checkbox" checked={settings.startAtLogin === true} onChange={(event) => void save({ startAtLogin: event.target.checked })} />
        Start Switchyard at login (the gateway runs in the tray)
      </label>
    </div>
  );
}

const SECTIONS: Array<{ id: string; title: string; description: string; Component: (props: SectionProps) => JSX.Element; visible?: (settings: SettingsView) => boolean }> = [
  { id: 'gateway', title: 'Gateway', description: 'Where Switchyard listens and who may call it.', Component: GatewaySection },
  { id: 'aliases', title: 'Model aliases', description: 'Short names for models.', Component: AliasesSection },
  { id: 'prices', title: 'Prices', description: 'Price overrides and prices for custom or local models.', Component: PricesSection },
  { id: 'limits', title: 'Limits and budgets', description: 'Requests and tokens per minute, spend per day and month, by key, tag or user.', Component: () => <LimitsSettings /> },
  { id: 'cache', title: 'Response cache', description: 'The same prompt asked again, answered at no cost.', Component: () => <CacheSettings /> },
  { id: 'telemetry', title: 'OpenTelemetry', description: 'Traces and metrics of every model call, to your collector.', Component: TelemetrySection },
  { id: 'data', title: 'Data, retention and export', description: 'What is kept, for how long, and exports of the request log.', Component: DataSection },
  { id: 'desktop', title: 'Desktop', description: 'How the app starts.', Component: DesktopSection, visible: (settings) => settings.startAtLogin !== null },
];

export default function SettingsScreen(): JSX.Element {
  const { client } = useApp();
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    client.call('settings.get', undefined).then(setSettings, (failure: Error) => setError(failure.message));
  }, [client]);
  const save = async (update: SettingsUpdate): Promise<boolean> => {
    try {
      setSettings(await client.call('settings.update', update));
      setSaveError(null);
      setVersion((value) => value + 1);
      return true;
    } catch (failure) {
      setSaveError((failure as Error).message);
      return false;
    }
  };
  if (error) return <ErrorState message={error} />;
  if (!settings) return <LoadingState />;
  return (
    <div className="settings">
      {saveError ? (
        <p className="callout error" role="alert">
          {saveError}
        </p>
      ) : null}
      {SECTIONS.filter((section) => section.visible?.(settings) ?? true).map(({ id, title, description, Component }) => (
        <section className="panel settings-section" key={id} aria-labelledby={`settings-${id}`}>
          <div className="settings-section-heading">
            <h2 id={`settings-${id}`}>{title}</h2>
            <p className="muted small">{description}</p>
          </div>
          <Component key={id === 'gateway' ? version : id} settings={settings} save={save} />
        </section>
      ))}
    </div>
  );
}
