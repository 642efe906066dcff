/**
 * What the tray shows, as plain data: the tooltip, the menu (status, today's spend, open,
 * start at login, quit), and when to redraw it. The Electron shell (main/index.ts) turns
 * the menu into a `Menu` and wires the actions; everything else is decided here.
 */
import type { GatewayStatus, SpendToday } from '../../shared/contract';

export type TrayAction = 'open' | 'toggle-start-at-login' | 'quit';

export type TrayMenuItem =
  | { kind: 'info'; label: string }
  | { kind: 'separator' }
  | { kind: 'action'; action: Exclude<TrayAction, 'toggle-start-at-login'>; label: string }
  | { kind: 'checkbox'; action: 'toggle-start-at-login'; label: string; checked: boolean };

export interface TrayView {
  tooltip: string;
  menu: TrayMenuItem[];
}

/** Dollars from nano-dollars: `$0.00`, two significant digits below a cent, else cents. */
export function formatUsd(nanoUsd: number): string {
  const usd = nanoUsd / 1e9;
  return usd === 0 ? '$0.00' : usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(2)}`;
}

/** Today's spend as the tray says it, unpriced requests counted apart. */
export function spendText(spend: Pick<SpendToday, 'costNanoUsd' | 'unpricedRequests'>): string {
  return `${formatUsd(spend.costNanoUsd)}${spend.unpricedRequests > 0 ? ` (+${spend.unpricedRequests} unpriced)` : ''}`;
}

export function trayView(status: GatewayStatus, todaySpend: string | null, startAtLogin: boolean): TrayView {
  return {
    tooltip: status.running ? `Switchyard — ${status.baseUrl}` : 'Switchyard — not running',
    menu: [
      { kind: 'info', label: status.running ? `Running at ${status.baseUrl}` : `Not running${status.error ? `: ${status.error}` : ''}` },
      { kind: 'info', label: todaySpend ? `Today: ${todaySpend}` : 'Today: —' },
      { kind: 'separator' },
      { kind: 'action', action: 'open', label: 'Open Switchyard' },
      { kind: 'checkbox', action: 'toggle-start-at-login', label: 'Start at login', checked: startAtLogin },
      { kind: 'separator' },
      { kind: 'action', action: 'quit', label: 'Quit Switchyard' },
    ],
  };
}

export interface TrayPresenterOptions {
  status: () => GatewayStatus;
  spendToday: () => Promise<Pick<SpendToday, 'costNanoUsd' | 'unpricedRequests'>>;
  startAtLogin: () => boolean;
  /** Draws the view (the shell sets the tooltip and the context menu). */
  render: (view: TrayView) => void;
  /** Finished requests redraw at most once per this many ms (the spend is a query). */
  refreshDelayMs?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
}

/**
 * Keeps the tray current: redraws at once on a status change, at most every
 * `refreshDelayMs` after finished requests, and again when today's spend (read after each
 * redraw) has changed since it was last shown.
 */
export class TrayPresenter {
  private spend: string | null = null;
  private pending = false;

  constructor(private readonly options: TrayPresenterOptions) {}

  /** Draws now with `status` (or the current one) and refreshes the spend. */
  update(status: GatewayStatus = this.options.status()): void {
    this.options.render(trayView(status, this.spend, this.options.startAtLogin()));
    void this.options.spendToday().then(
      (spend) => {
        const text = spendText(spend);
        if (text === this.spend) return;
        this.spend = text;
        this.options.render(trayView(this.options.status(), this.spend, this.options.startAtLogin()));
      },
      () => undefined,
    );
  }

  /** Feed the app's events here. */
  onEvent(name: string, payload: unknown): void {
    if (name === 'gateway.status-changed') this.update(payload as GatewayStatus);
    else if (name === 'request.finished' && !this.pending) {
      this.pending = true;
      (this.options.setTimer ?? setTimeout)(() => {
        this.pending = false;
        this.update();
      }, this.options.refreshDelayMs ?? 2_000);
    }
  }
}
