/**
 * Connect your tools: a tab per client (openai SDK Python/TypeScript, curl, LangChain,
 * Vercel AI SDK, Continue, Cline, Aider, environment) with the real base URL and a key
 * filled in — create a key for the tool right here, shown once — and a copy button.
 */
import { useState, type JSX } from 'react';
import { useApp, useStoreValue } from '../app-context';
import { CopyButton } from '../components/copy-button';
import { Tabs } from '../components/tabs';
import { highlightCode } from '../markdown/highlight-code';
import { SNIPPETS } from './connect-snippets';
import { HighlightedTokens } from '../components/highlighted-tokens';

export default function ConnectScreen(): JSX.Element {
  const { status, providers } = useApp();
  const baseUrl = useStoreValue(status, (state) => state.status?.baseUrl ?? 'http://127.0.0.1:4141/v1');
  const created = useStoreValue(providers, (state) => state.createdKey);
  const [selected, setSelected] = useState(SNIPPETS[0]!.id);
  const [model, setModel] = useState('gpt-4.1-mini');
  const snippet = SNIPPETS.find((candidate) => candidate.id === selected) ?? SNIPPETS[0]!;
  const key = created?.key ?? (snippet.language === 'python' || snippet.language === 'typescript' ? 'YOUR_SWITCHYARD_KEY' : '$SWITCHYARD_API_KEY');
  const code = snippet.code(baseUrl, key, model);
  const tokens = highlightCode(code, snippet.language);
  return (
    <div className="connect">
      <div className="connect-intro">
        <div>
          <h2>Connect your tools</h2>
          <p className="muted">Every tool that speaks the OpenAI API works with Switchyard: point it at the base URL with a gateway key.</p>
        </div>
        <div className="connect-key">
          {created ? (
            <div className="created-key compact" role="status">
              <span>
                Using the new key <strong>“{created.record.name}”</strong> — copy it now, it is not shown again.
              </span>
              <CopyButton text={created.key} label="Copy key" />
            </div>
          ) : (
            <button type="button" className="button primary" onClick={() => void providers.getState().createGatewayKey({ name: snippet.label, tags: [{ key: 'tool', value: snippet.id }] })}>
              Create a key for {snippet.label}
            </button>
          )}
          <label className="field inline">
            <span className="field-label">Model</span>
            <input value={model} onChange={(event) => setModel(event.target.value || 'gpt-4.1-mini')} spellCheck={false} />
          </label>
        </div>
      </div>
      <Tabs idPrefix="connect" label="Clients" selected={selected} onSelect={setSelected} tabs={SNIPPETS.map((item) => ({ name: item.id, label: item.label }))} />
      <div id="connect-panel" role="tabpanel" aria-labelledby={`connect-tab-${snippet.id}`} className="snippet">
        <div className="code-block">
          <div className="code-block-header">
            <span>{snippet.note}</span>
            <CopyButton text={code} label="Copy snippet" />
          </div>
          <pre tabIndex={0}>
            <HighlightedTokens tokens={tokens} />
          </pre>
        </div>
        <p className="muted small">
          Optional headers: <code>x-tags: key:value, …</code> for cost by tag, <code>x-conversation-id</code>, <code>x-user-id</code>. Claude Code and other Anthropic-API tools will appear here once Switchyard serves <code>/v1/messages</code>.
        </p>
      </div>
    </div>
  );
}
