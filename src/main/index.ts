/**
 * Electron entry only: lifecycle, window, tray, IPC wiring. Every piece of logic lives in
 * modules Node can test (the gateway, services/application.ts); this file just connects
 * them. The window shows the UI the gateway serves at /ui/ (same origin as /v1, so the
 * playground calls the gateway like any client) and talks to main over IPC only.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OPERATION_NAMES, type GatewayStatus, type OperationName } from '../shared/contract';
import { createAdminToken } from './admin/admin-token';
import { findRendererDirectory } from './admin/renderer-location';
import { DEFAULT_PORT } from './gateway/config';
import { startGateway, type RunningGateway } from './headless';
import { createApplication, type Application } from './services/application';
import { openProviderKeyStore } from './secrets/keychain';
import { gatewayStatus, spendToday } from './services/gateway-service';

const resourcesDirectory = app.isPackaged ? process.resourcesPath : join(app.getAppPath(), 'resources');

/** Native modules built for Electron's ABI (see scripts/build-electron-native.mjs); node_modules keeps Node's. */
function useElectronNativeModules(): string[] {
  const directory = app.isPackaged ? join(process.resourcesPath, 'native') : join(app.getAppPath(), '.electron-native');
  const hook = join(resourcesDirectory, 'electron-native-hook.cjs');
  if (!existsSync(join(directory, 'better_sqlite3.node')) || !existsSync(hook)) return [];
  process.env.SWITCHYARD_ELECTRON_NATIVE_DIR = directory;
  // better-sqlite3 takes its Electron build through `nativeBinding` (storage reads this; worker threads inherit it).
  process.env.SWITCHYARD_SQLITE_BINDING = join(directory, 'better_sqlite3.node');
  createRequire(import.meta.url)(hook);
  return ['--require', hook];
}

let application: Application | null = null;
let gateway: RunningGateway | null = null;
let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
let todaySpend = '';

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Switchyard',
    icon: join(resourcesDirectory, 'icons', 'icon.png'),
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  // No navigation away from the app and no new windows; http(s) links open in the browser.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://') || url.startsWith('http://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.on('will-redirect', (event) => event.preventDefault());
  window.webContents.session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  // Keep running in the tray when the window closes; Quit is in the tray menu.
  window.on('close', (event) => {
    if (!quitting && tray) {
      event.preventDefault();
      window.hide();
    }
  });
  if (process.env.ELECTRON_RENDERER_URL) void window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else if (gateway) void window.loadURL(`${gateway.origin}/ui/`);
  else void window.loadFile(join(__dirname, '../renderer/index.html'));
  return window;
}

function showWindow(): void {
  if (!mainWindow) mainWindow = createWindow();
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function startWithPortChoice(current: Application, port: number): Promise<void> {
  try {
    gateway = await startGateway({
      dataDir: app.getPath('userData'),
      port,
      application: current,
      admin: { token: createAdminToken(), rendererDir: findRendererDirectory(import.meta.url) ?? join(__dirname, '../renderer') },
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') {
      current.gatewayStopped((error as Error).message);
      return;
    }
    const choice = await dialog.showMessageBox({
      type: 'warning',
      message: `Port ${port} is already in use`,
      detail:
        'Another program (or another Switchyard) is listening on it. Switchyard can start on a free port instead; tools pointed at the old address will need the new one. You can set a fixed port later in Settings.',
      buttons: ['Use a free port', 'Try again', 'Quit'],
      defaultId: 0,
      cancelId: 2,
    });
    if (choice.response === 2) {
      quitting = true;
      app.quit();
      return;
    }
    await startWithPortChoice(current, choice.response === 1 ? port : 0);
  }
}

/** Only our window's main frame, showing our own UI, may call operations. */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  if (!mainWindow || event.sender !== mainWindow.webContents || event.senderFrame !== mainWindow.webContents.mainFrame) return false;
  const url = event.senderFrame?.url ?? '';
  if (gateway && url.startsWith(`${gateway.origin}/ui/`)) return true;
  if (url.startsWith('file://')) return true;
  return Boolean(process.env.ELECTRON_RENDERER_URL && url.startsWith(process.env.ELECTRON_RENDERER_URL));
}

function registerIpc(current: Application): void {
  for (const name of OPERATION_NAMES) {
    ipcMain.handle(`switchyard:${name}`, (event, input: unknown) => {
      if (!trustedSender(event)) throw new Error('operation refused: unknown sender');
      const handler = current.services[name as OperationName] as (value: unknown) => Promise<unknown>;
      return handler(input);
    });
  }
  current.events.subscribe((name, payload) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(`switchyard-event:${name}`, payload);
  });
}

function formatUsd(nanoUsd: number): string {
  const usd = nanoUsd / 1e9;
  return usd === 0 ? '$0.00' : usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(2)}`;
}

function updateTray(status: GatewayStatus): void {
  if (!tray || !application) return;
  const current = application;
  tray.setToolTip(status.running ? `Switchyard — ${status.baseUrl}` : 'Switchyard — not running');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: status.running ? `Running at ${status.baseUrl}` : `Not running${status.error ? `: ${status.error}` : ''}`, enabled: false },
      { label: todaySpend ? `Today: ${todaySpend}` : 'Today: —', enabled: false },
      { type: 'separator' },
      { label: 'Open Switchyard', click: showWindow },
      {
        label: 'Start at login',
        type: 'checkbox',
        checked: app.getLoginItemSettings().openAtLogin,
        click: (item) => app.setLoginItemSettings({ openAtLogin: item.checked }),
      },
      { type: 'separator' },
      {
        label: 'Quit Switchyard',
        click: () => {
          quitting = true;
          app.quit();
        },
      },
    ]),
  );
  void spendToday(current.context).then(
    (spend) => {
      const text = `${formatUsd(spend.costNanoUsd)}${spend.unpricedRequests > 0 ? ` (+${spend.unpricedRequests} unpriced)` : ''}`;
      if (text !== todaySpend) {
        todaySpend = text;
        updateTray(gatewayStatus(current.context));
      }
    },
    () => undefined,
  );
}

function createTray(current: Application): void {
  const file = join(resourcesDirectory, 'icons', process.platform === 'darwin' ? 'tray-template.png' : 'tray.png');
  const image = nativeImage.createFromPath(file);
  if (image.isEmpty()) return;
  if (process.platform === 'darwin') image.setTemplateImage(true);
  tray = new Tray(image);
  tray.on('click', showWindow);
  updateTray(gatewayStatus(current.context));
  let pending: NodeJS.Timeout | null = null;
  current.events.subscribe((name, payload) => {
    if (name === 'gateway.status-changed') updateTray(payload as GatewayStatus);
    if (name === 'request.finished' && !pending) {
      pending = setTimeout(() => {
        pending = null;
        updateTray(gatewayStatus(current.context));
      }, 2_000);
    }
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showWindow);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  void app.whenReady().then(async () => {
    const analyticsExecArgv = useElectronNativeModules();
    // Provider keys live in the OS keychain; without one the app says so and uses environment keys.
    const providerKeys = await openProviderKeyStore();
    try {
      application = createApplication({
        dataDirectory: app.getPath('userData'),
        mode: 'desktop',
        providerKeys,
        analyticsExecArgv,
        shell: {
          openPath: async (path) => {
            await shell.openPath(path);
          },
          getStartAtLogin: () => app.getLoginItemSettings().openAtLogin,
          setStartAtLogin: (enabled) => app.setLoginItemSettings({ openAtLogin: enabled }),
        },
      });
    } catch (error) {
      dialog.showErrorBox('Switchyard cannot start', `${(error as Error).message}\n\nIf this mentions NODE_MODULE_VERSION, run \`node scripts/build-electron-native.mjs\` first.`);
      quitting = true;
      app.quit();
      return;
    }
    registerIpc(application);
    await startWithPortChoice(application, application.config.port || DEFAULT_PORT);
    createTray(application);
    mainWindow = createWindow();
    mainWindow.on('closed', () => {
      mainWindow = null;
    });
    app.on('activate', showWindow);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin' && !tray) app.quit();
  });
  app.on('before-quit', (event) => {
    quitting = true;
    if (!application) return;
    // Finish requests in flight and flush the log before exiting.
    event.preventDefault();
    const closing = application;
    application = null;
    void (gateway?.close() ?? Promise.resolve())
      .then(() => closing.close())
      .finally(() => app.exit(0));
  });
}
