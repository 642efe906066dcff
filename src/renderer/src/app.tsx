/**
 * The frame: a left sidebar with the seven screens, a top status bar that is always
 * visible (gateway state with copy, today's spend, requests in flight), and the screen;
 * on the desktop app's first start, the first-run dialog with the first gateway key.
 * Screens other than the inspector load on first visit, so the window starts fast.
 */
import { lazy, Suspense, useEffect, type JSX } from 'react';
import { useApp, useStoreValue } from './app-context';
import { CopyButton } from './components/copy-button';
import { LoadingState } from './components/empty-state';
import { FirstRunDialog } from './components/first-run-dialog';
import { Icon, type IconName } from './components/icons';
import { formatCostWithUnpriced, formatCount } from './format/format-values';
import { InspectorScreen } from './screens/inspector-screen';
import { SCREENS, type ScreenName } from './stores/navigation-store';

const PlaygroundScreen = lazy(() => import('./screens/playground-screen'));
const ConversationsScreen = lazy(() => import('./screens/conversations-screen'));
const AnalyticsScreen = lazy(() => import('./screens/analytics-screen'));
const ProvidersScreen = lazy(() => import('./screens/providers-screen'));
const ConnectScreen = lazy(() => import('./screens/connect-screen'));
const SettingsScreen = lazy(() => import('./screens/settings-screen'));

const SCREEN_LABELS: Record<ScreenName, { label: string; icon: IconName; shortcut: string }> = {
  inspector: { label: 'Inspector', icon: 'inspector', shortcut: '1' },
  playground: { label: 'Playground', icon: 'playground', shortcut: '2' },
  conversations: { label: 'Conversations', icon: 'conversations', shortcut: '3' },
  analytics: { label: 'Analytics', icon: 'analytics', shortcut: '4' },
  providers: { label: 'Providers & keys', icon: 'providers', shortcut: '5' },
  connect: { label: 'Connect', icon: 'connect', shortcut: '6' },
  settings: { label: 'Settings', icon: 'settings', shortcut: '7' },
};

function StatusBar(): JSX.Element {
  const { status: statusStore, navigation } = useApp();
  const status = useStoreValue(statusStore, (state) => state.status);
  const spend = useStoreValue(statusStore, (state) => state.spend);
  const inFlight = useStoreValue(statusStore, (state) => state.inFlight);
  const connected = useStoreValue(statusStore, (state) => state.connected);
  const error = useStoreValue(statusStore, (state) => state.error);
  const running = status?.running === true;
  return (
    <header className="status-bar" aria-label="Gateway status">
      <div className="status-gateway">
        <span className={`status-dot ${running ? 'ok' : status ? 'error' : 'pending'}`} aria-hidden="true" />
        {status === null ? (
          <span className="muted">{error ? `Cannot reach Switchyard: ${error}` : 'Connecting…'}</span>
        ) : running ? (
          <>
            <span className="status-label">Running at</span>
            <code className="status-url" data-testid="gateway-url">
              {status.baseUrl}
            </code>
            <CopyButton text={status.baseUrl ?? ''} compact label="Copy base URL" />
          </>
        ) : (
          <span className="status-error">Gateway not running{status.error ? `: ${status.error}` : ''}</span>
        )}
        {!connected ? <span className="pill warning" title="Live updates are reconnecting">offline</span> : null}
      </div>
      <div className="status-figures">
        <button type="button" className="status-figure" onClick={() => navigation.getState().go('analytics')} title="Today's spend since local midnight">
          <span className="status-figure-label">Today</span>
          <span className="status-figure-value" data-testid="spend-today">
            {spend ? formatCostWithUnpriced(spend.costNanoUsd, spend.unpricedRequests) : '—'}
          </span>
        </button>
        <button type="button" className="status-figure" onClick={() => navigation.getState().openInspector({ status: ['in-flight'] })} title="Requests in flight">
          <span className="status-figure-label">In flight</span>
          <span className={`status-figure-value ${inFlight > 0 ? 'live' : ''}`} data-testid="in-flight">
            {formatCount(inFlight)}
          </span>
        </button>
      </div>
    </header>
  );
}

function Sidebar({ screen }: { screen: ScreenName }): JSX.Element {
  const { navigation } = useApp();
  return (
    <nav className="sidebar" aria-label="Screens">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="track" size={16} />
        </span>
        <span className="brand-name">Switchyard</span>
      </div>
      <ul>
        {SCREENS.map((name) => (
          <li key={name}>
            <button
              type="button"
              className={`nav-item ${name === screen ? 'active' : ''}`}
              aria-current={name === screen ? 'page' : undefined}
              onClick={() => navigation.getState().go(name)}
              title={`${SCREEN_LABELS[name].label} (Alt+${SCREEN_LABELS[name].shortcut})`}
            >
              <Icon name={SCREEN_LABELS[name].icon} size={17} />
              <span>{SCREEN_LABELS[name].label}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function App(): JSX.Element {
  const { navigation } = useApp();
  const screen = useStoreValue(navigation, (state) => state.screen);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const index = Number(event.key) - 1;
      const target = SCREENS[index];
      if (target) {
        event.preventDefault();
        navigation.getState().go(target);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigation]);

  useEffect(() => {
    document.title = `${SCREEN_LABELS[screen].label} — Switchyard`;
  }, [screen]);

  return (
    <div className="frame">
      <Sidebar screen={screen} />
      <div className="main-column">
        <StatusBar />
        <main className="screen" aria-label={SCREEN_LABELS[screen].label}>
          <Suspense fallback={<LoadingState />}>
            {screen === 'inspector' ? <InspectorScreen /> : null}
            {screen === 'playground' ? <PlaygroundScreen /> : null}
            {screen === 'conversations' ? <ConversationsScreen /> : null}
            {screen === 'analytics' ? <AnalyticsScreen /> : null}
            {screen === 'providers' ? <ProvidersScreen /> : null}
            {screen === 'connect' ? <ConnectScreen /> : null}
            {screen === 'settings' ? <SettingsScreen /> : null}
          </Suspense>
        </main>
      </div>
      <FirstRunDialog />
    </div>
  );
}
