/**
 * The client in a browser (headless `switchyard serve`, browser tests): operations are
 * `POST /admin/api/<name>` with the admin token header, events come from the SSE stream
 * at `/admin/api/events` (read with fetch, since EventSource cannot send headers), and
 * the stream reconnects with back-off. The token arrives in the URL fragment once, is
 * kept in sessionStorage for reloads, and is removed from the address bar.
 */
import type { EventName, Events, OperationFailure, OperationInput, OperationName, OperationOutput } from '../../../shared/contract';
import { SseParser } from './sse-parser';
import { ClientError, ListenerRegistry, type SwitchyardClient } from './switchyard-client';

export const ADMIN_TOKEN_HEADER = 'x-switchyard-admin-token';
const TOKEN_STORAGE_KEY = 'switchyard.admin-token';

export interface TokenLocation {
  hash: string;
  replaceHash(hash: string): void;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/** Reads `#token=…` (then removes it) or the token kept from an earlier load. */
export function readAdminToken(location: TokenLocation): string | null {
  const parameters = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromFragment = parameters.get('token');
  if (fromFragment) {
    location.storage?.setItem(TOKEN_STORAGE_KEY, fromFragment);
    parameters.delete('token');
    const rest = parameters.toString();
    location.replaceHash(rest ? `#${rest}` : '');
    return fromFragment;
  }
  return location.storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
}

export interface HttpClientOptions {
  baseUrl: string;
  token: string | null;
  fetch?: typeof fetch;
  /** Open the event stream at once (default true). */
  connectEvents?: boolean;
}

export class HttpClient implements SwitchyardClient {
  readonly transport = 'http' as const;
  private readonly listeners = new ListenerRegistry();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private readonly fetchFunction: typeof fetch;
  private isConnected = false;
  private stopped = false;
  private abort: AbortController | null = null;

  constructor(private readonly options: HttpClientOptions) {
    this.fetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
    if (options.connectEvents !== false) void this.connect(0);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  private headers(): Record<string, string> {
    return this.options.token ? { [ADMIN_TOKEN_HEADER]: this.options.token } : {};
  }

  async call<Name extends OperationName>(name: Name, input: OperationInput<Name>): Promise<OperationOutput<Name>> {
    let response: Response;
    try {
      response = await this.fetchFunction(`${this.options.baseUrl}/admin/api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.headers() },
        body: JSON.stringify(input ?? null),
      });
    } catch (error) {
      throw new ClientError(`Switchyard is not reachable (${(error as Error).message}).`, 'unreachable');
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      throw new ClientError(`Unexpected answer from Switchyard (HTTP ${response.status}).`, 'bad_response');
    }
    if (!response.ok) {
      const failure = body as Partial<OperationFailure> | null;
      throw new ClientError(failure?.error?.message ?? `HTTP ${response.status}`, failure?.error?.code ?? 'http_error');
    }
    return body as OperationOutput<Name>;
  }

  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void {
    return this.listeners.add(name, listener as (payload: unknown) => void);
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private setConnected(connected: boolean): void {
    if (connected === this.isConnected) return;
    this.isConnected = connected;
    for (const listener of this.connectionListeners) listener(connected);
  }

  /** Opens the event stream; on failure retries after 0.5 s, 1 s, 2 s … up to 10 s. */
  private async connect(attempt: number): Promise<void> {
    if (this.stopped) return;
    this.abort = new AbortController();
    try {
      const response = await this.fetchFunction(`${this.options.baseUrl}/admin/api/events`, { headers: this.headers(), signal: this.abort.signal });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      this.setConnected(true);
      attempt = 0;
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(decoder.decode(value, { stream: true }))) this.deliver(event.event, event.data);
      }
    } catch {
      // Reconnect below.
    }
    this.setConnected(false);
    if (this.stopped) return;
    const delay = Math.min(10_000, 500 * 2 ** attempt);
    setTimeout(() => void this.connect(attempt + 1), delay);
  }

  private deliver(name: string, data: string): void {
    try {
      this.listeners.dispatch(name, JSON.parse(data) as unknown);
    } catch {
      // A malformed event is skipped; the next refresh corrects what it would have shown.
    }
  }

  close(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}
