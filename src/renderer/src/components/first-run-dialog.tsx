/**
 * The first-run dialog of the desktop app: the first gateway key, made on the app's first
 * start, shown once in full with a copy button, the base URL tools point at, and a way on
 * to the Connect screen. A native modal <dialog> (showModal): the rest of the window is
 * inert while it is open, so focus stays inside; it opens with focus on "Copy key", Escape
 * closes it, and focus returns where it was.
 */
import { useEffect, useRef, type JSX } from 'react';
import type { GatewayKeyCreated } from '../../../shared/contract';
import { useApp, useStoreValue } from '../app-context';
import { CopyButton } from './copy-button';

export function FirstRunDialog(): JSX.Element | null {
  const { providers, status, navigation } = useApp();
  const created = useStoreValue(providers, (state) => state.firstRunKey);
  const baseUrl = useStoreValue(status, (state) => state.status?.baseUrl ?? null);
  if (!created) return null;
  return (
    <FirstRunKeyDialog
      created={created}
      baseUrl={baseUrl}
      onDone={() => providers.getState().dismissFirstRunKey()}
      onConnect={() => {
        providers.getState().dismissFirstRunKey(true);
        navigation.getState().go('connect');
      }}
    />
  );
}

function FirstRunKeyDialog({ created, baseUrl, onDone, onConnect }: { created: GatewayKeyCreated; baseUrl: string | null; onDone: () => void; onConnect: () => void }): JSX.Element {
  const dialog = useRef<HTMLDialogElement>(null);
  const done = useRef(onDone);
  done.current = onDone;

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (!element.open) element.showModal();
    element.querySelector<HTMLButtonElement>('.first-run-copy')?.focus();
    // Escape: close the way "Done" does (the store forgets the key).
    const onCancel = (event: Event): void => {
      event.preventDefault();
      done.current();
    };
    element.addEventListener('cancel', onCancel);
    return () => {
      element.removeEventListener('cancel', onCancel);
      if (element.open) element.close();
    };
  }, []);

  return (
    <dialog ref={dialog} className="first-run-dialog" aria-labelledby="first-run-title" aria-describedby="first-run-description" data-testid="first-run-dialog">
      <h2 id="first-run-title">Your first gateway key</h2>
      <p id="first-run-description">
        Switchyard made this key for your first tool: it sends it as its API key (<code>Authorization: Bearer …</code>). Copy it now.{' '}
        <strong>You will not see this key again.</strong>
      </p>
      <div className="first-run-row">
        <span className="field-label">Key “{created.record.name}”</span>
        <div className="first-run-value">
          <code className="mono" data-testid="first-run-key">
            {created.key}
          </code>
          <CopyButton text={created.key} label="Copy key" className="first-run-copy" />
        </div>
      </div>
      <div className="first-run-row">
        <span className="field-label">Base URL</span>
        <div className="first-run-value">
          {baseUrl ? (
            <>
              <code className="mono">{baseUrl}</code>
              <CopyButton text={baseUrl} label="Copy base URL" />
            </>
          ) : (
            <span className="muted">The gateway is starting…</span>
          )}
        </div>
      </div>
      <p className="muted small">Lost it? Revoke it on the Providers &amp; keys screen and create another; give each tool its own key to see cost by tool.</p>
      <div className="first-run-actions">
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
        <button type="button" className="button primary" onClick={onConnect}>
          Connect a tool
        </button>
      </div>
    </dialog>
  );
}
