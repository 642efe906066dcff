/**
 * The tray's text and menu from the gateway's status and today's spend, and when it
 * redraws: at once on a status change, at most every refresh delay after finished
 * requests, and again when the spend changed.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayStatus } from '../../src/shared/contract.js';
import { formatUsd, spendText, TrayPresenter, trayView, type TrayView } from '../../src/main/desktop/tray-menu.js';

const running: GatewayStatus = { running: true, origin: 'http://127.0.0.1:4141', baseUrl: 'http://127.0.0.1:4141/v1', error: null, authRequired: true, inFlight: 0 };
const stopped: GatewayStatus = { running: false, origin: null, baseUrl: null, error: 'listen EACCES', authRequired: true, inFlight: 0 };

describe('tray text', () => {
  it('formats dollars from nano-dollars', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(1_234_000)).toBe('$0.0012');
    expect(formatUsd(10_000_000)).toBe('$0.01');
    expect(formatUsd(12_345_678_901)).toBe('$12.35');
  });

  it('counts unpriced requests apart', () => {
    expect(spendText({ costNanoUsd: 2_500_000_000, unpricedRequests: 0 })).toBe('$2.50');
    expect(spendText({ costNanoUsd: 2_500_000_000, unpricedRequests: 3 })).toBe('$2.50 (+3 unpriced)');
  });

  it('says where the gateway runs, or why not, and today\'s spend', () => {
    const view = trayView(running, '$2.50', true);
    expect(view.tooltip).toBe('Switchyard — http://127.0.0.1:4141/v1');
    expect(view.menu).toEqual([
      { kind: 'info', label: 'Running at http://127.0.0.1:4141/v1' },
      { kind: 'info', label: 'Today: $2.50' },
      { kind: 'separator' },
      { kind: 'action', action: 'open', label: 'Open Switchyard' },
      { kind: 'checkbox', action: 'toggle-start-at-login', label: 'Start at login', checked: true },
      { kind: 'separator' },
      { kind: 'action', action: 'quit', label: 'Quit Switchyard' },
    ]);
    const down = trayView(stopped, null, false);
    expect(down.tooltip).toBe('Switchyard — not running');
    expect(down.menu[0]).toEqual({ kind: 'info', label: 'Not running: listen EACCES' });
    expect(down.menu[1]).toEqual({ kind: 'info', label: 'Today: —' });
    expect(down.menu[4]).toMatchObject({ checked: false });
    expect(trayView({ ...stopped, error: null }, null, false).menu[0]).toEqual({ kind: 'info', label: 'Not running' });
  });
});

describe('TrayPresenter', () => {
  function setUp(spends: Array<{ costNanoUsd: number; unpricedRequests: number }>) {
    const views: TrayView[] = [];
    const timers: Array<{ callback: () => void; ms: number }> = [];
    let status = running;
    let queries = 0;
    const presenter = new TrayPresenter({
      status: () => status,
      spendToday: async () => {
        queries += 1;
        const spend = spends.shift();
        if (!spend) throw new Error('no analytics');
        return spend;
      },
      startAtLogin: () => false,
      render: (view) => views.push(view),
      refreshDelayMs: 2_000,
      setTimer: (callback, ms) => timers.push({ callback, ms }),
    });
    return { presenter, views, timers, queries: () => queries, setStatus: (next: GatewayStatus) => (status = next) };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  const spendLine = (view: TrayView | undefined) => (view?.menu[1] as { label: string } | undefined)?.label;

  it('draws at once, then again with the spend once it is known', async () => {
    const { presenter, views } = setUp([{ costNanoUsd: 1_500_000_000, unpricedRequests: 0 }]);
    presenter.update();
    expect(views).toHaveLength(1);
    expect(spendLine(views[0])).toBe('Today: —');
    await settle();
    expect(views).toHaveLength(2);
    expect(spendLine(views[1])).toBe('Today: $1.50');
  });

  it('does not redraw when the spend is unchanged, and survives a failed query', async () => {
    const { presenter, views } = setUp([{ costNanoUsd: 0, unpricedRequests: 0 }, { costNanoUsd: 0, unpricedRequests: 0 }]);
    presenter.update();
    await settle();
    presenter.update();
    await settle();
    expect(views.map(spendLine)).toEqual(['Today: —', 'Today: $0.00', 'Today: $0.00']);
    presenter.update();
    await settle();
    expect(views).toHaveLength(4);
  });

  it('redraws at once with the status of a status change', async () => {
    const { presenter, views } = setUp([{ costNanoUsd: 0, unpricedRequests: 0 }]);
    presenter.onEvent('gateway.status-changed', stopped);
    expect(views[0]?.tooltip).toBe('Switchyard — not running');
  });

  it('coalesces finished requests into one redraw per refresh delay', async () => {
    const { presenter, views, timers, queries } = setUp([{ costNanoUsd: 1e9, unpricedRequests: 0 }, { costNanoUsd: 2e9, unpricedRequests: 1 }]);
    for (let index = 0; index < 50; index += 1) presenter.onEvent('request.finished', {});
    presenter.onEvent('request.started', {});
    expect(timers).toHaveLength(1);
    expect(timers[0]?.ms).toBe(2_000);
    expect(views).toHaveLength(0);
    timers[0]?.callback();
    await settle();
    expect(queries()).toBe(1);
    expect(spendLine(views.at(-1))).toBe('Today: $1.00');
    presenter.onEvent('request.finished', {});
    expect(timers).toHaveLength(2);
    timers[1]?.callback();
    await settle();
    expect(spendLine(views.at(-1))).toBe('Today: $2.00 (+1 unpriced)');
  });
});
