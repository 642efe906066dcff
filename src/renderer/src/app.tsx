/** A minimal window: shows where the gateway listens and which providers it knows. */
import { useEffect, useState } from 'react';
import type { GatewayStatus, ProviderSummary, SwitchyardBridge } from '../../shared/contract';

declare global {
  interface Window {
    switchyard?: SwitchyardBridge;
  }
}

export function App(): React.JSX.Element {
  const [status, setStatus] = useState<GatewayStatus | null>(null);
  const [providers, setProviders] = useState<ProviderSummary[]>([]);

  useEffect(() => {
    const bridge = window.switchyard;
    if (!bridge) return;
    void bridge.call('gateway.status', undefined).then(setStatus);
    void bridge.call('providers.list', undefined).then(setProviders);
    return bridge.on('gateway.status-changed', setStatus);
  }, []);

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Switchyard</h1>
      {status === null ? (
        <p>Starting the gateway…</p>
      ) : status.running ? (
        <p>
          Gateway running at <code>{status.baseUrl}</code>
        </p>
      ) : (
        <p role="alert">Gateway not running: {status.error}</p>
      )}
      <h2>Providers</h2>
      <ul>
        {providers.map((provider) => (
          <li key={provider.id}>
            <strong>{provider.name}</strong> <code>{provider.baseUrl}</code> — {provider.keySource}
          </li>
        ))}
      </ul>
    </main>
  );
}
