/**
 * Electron entry only: lifecycle, window, tray, IPC wiring. Every piece of logic lives in
 * modules Node can test (the gateway, services/application.ts, and desktop/*: the port
 * choice, the tray's text and menu, what the window loads and trusts, where the Electron
 * native modules are); this file just connects them to Electron. The window shows the UI
 * the gateway serves at /ui/ (same origin as /v1, so the playground calls the gateway like
 * any client; the Content-Security-Policy arrives as a response header there) and talks to
 * main over IPC only.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, shell, Tray, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OPERATION_NAMES, type OperationName } from '../shared/contract';
import { createAdminToken } from './admin/admin-token';
import { findRendererDirectory } from './admin/renderer-location';
import { electronNativeEnvironment, electronNativeModules, electronNativeModulesPresent, resourcesDirectory as resourcesDirectoryOf, workerExecArgv } from './desktop/native-modules';
import { startWithPortChoice } from './desktop/port-choice';
import { TrayPresenter, type TrayAction, type TrayView } from './desktop/tray-menu';
import { closeHidesWindow, isTrustedUiUrl, opensInBrowser, startupFailure, windowSource, type WindowPlaces } from './desktop/window-policy';
import { DEFAULT_PORT } from './gateway/config';
import { startGateway, type RunningGateway } from './headless';
import { createApplication, type Application } from './services/application';
import { openProviderKeyStore } from './secrets/keychain';
import { gatewayStatus, spendToday } from './services/gateway-service';

const appLocation = { isPackaged: app.isPackaged, resourcesPath: process.resourcesPath, appPath: app.getAppPath() };
const resourcesDirectory = resourcesDirectoryOf(appLocation);
const rendererDirectory = findRendererDirectory(import.meta.url) ?? join(__dirname, '../renderer');

/** Native modules built for Electron's ABI (see scripts/build-electron-native.mjs); node_modules keeps Node's. */
function useElectronNativeModules(): string[] {
  const modules = electronNativeModules(appLocation);
  if (!electronNativeModulesPresent(modules, existsSync)) return [];
  Object.assign(process.env, electronNativeEnvironment(modules));
  createRequire(import.meta.url)(modules.hook);
  return workerExecArgv(modules);
}

let application: Application | null = null;
let gateway: RunningGateway | null = null;
let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;

function windowPlaces(): WindowPlaces {
  return { devServerUrl: process.env.ELECTRON_RENDERER_URL, gatewayOrigin: gateway?.origin ?? null, rendererDirectory };
}

function quit(): void {
  quitting = true;
  app.quit();
}

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
    if (opensInBrowser(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.on('will-redirect', (event) => event.preventDefault());
  window.webContents.session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  // Keep running in the tray when the window closes; Quit is in the tray menu.
  window.on('close', (event) => {
    if (closeHidesWindow({ quitting, trayShown: tray !== null })) {
      event.preventDefault();
      window.hide();
    }
  });
  // Over HTTP the page gets its Content-Security-Policy as a header; the built file keeps a <meta> policy.
  const source = windowSource(windowPlaces());
  if (source.kind === 'url') void window.loadURL(source.url);
  else void window.loadFile(source.path);
  return window;
}

function showWindow(): void {
  if (!mainWindow) mainWindow = createWindow();
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function startGatewayAskingForPort(current: Application, port: number): Promise<void> {
  const started = await startWithPortChoice({
    port,
    start: (chosen) =>
      startGateway({ dataDir: app.getPath('userData'), port: chosen, application: current, admin: { token: createAdminToken(), rendererDir: rendererDirectory } }),
    ask: async (question) => (await dialog.showMessageBox(question)).response,
  });
  if (started.outcome === 'started') gateway = started.value;
  else if (started.outcome === 'failed') current.gatewayStopped(started.error.message);
  else quit();
}

/** Only our window's main frame, showing our own UI, may call operations. */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  if (!mainWindow || event.sender !== mainWindow.webContents || event.senderFrame !== mainWindow.webContents.mainFrame) return false;
  return isTrustedUiUrl(event.senderFrame?.url ?? '', windowPlaces());
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

function trayMenuTemplate(view: TrayView): MenuItemConstructorOptions[] {
  const actions: Record<TrayAction, (checked: boolean) => void> = {
    open: showWindow,
    'toggle-start-at-login': (checked) => app.setLoginItemSettings({ openAtLogin: checked }),
    quit,
  };
  return view.menu.map((item): MenuItemConstructorOptions => {
    if (item.kind === 'separator') return { type: 'separator' };
    if (item.kind === 'info') return { label: item.label, enabled: false };
    if (item.kind === 'checkbox') return { label: item.label, type: 'checkbox', checked: item.checked, click: (menuItem) => actions[item.action](menuItem.checked) };
    return { label: item.label, click: (menuItem) => actions[item.action](menuItem.checked) };
  });
}

function createTray(current: Application): void {
  const file = join(resourcesDirectory, 'icons', process.platform === 'darwin' ? 'tray-template.png' : 'tray.png');
  const image = nativeImage.createFromPath(file);
  if (image.isEmpty()) return;
  if (process.platform === 'darwin') image.setTemplateImage(true);
  const shown = new Tray(image);
  tray = shown;
  shown.on('click', showWindow);
  const presenter = new TrayPresenter({
    status: () => gatewayStatus(current.context),
    spendToday: () => spendToday(current.context),
    startAtLogin: () => app.getLoginItemSettings().openAtLogin,
    render: (view) => {
      if (!application || shown.isDestroyed()) return;
      shown.setToolTip(view.tooltip);
      shown.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(view)));
    },
  });
  presenter.update();
  current.events.subscribe((name, payload) => presenter.onEvent(name, payload));
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
      const failure = startupFailure(error);
      dialog.showErrorBox(failure.title, failure.content);
      quit();
      return;
    }
    registerIpc(application);
    await startGatewayAskingForPort(application, application.config.port || DEFAULT_PORT);
    if (quitting) return;
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
