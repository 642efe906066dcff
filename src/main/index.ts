/**
 * Electron entry only: lifecycle, window, IPC wiring. Every piece of logic lives in
 * modules Node can test (the gateway, services); this file just connects them.
 */
import { app, BrowserWindow, dialog, ipcMain, shell } from 'electron';
import { join } from 'node:path';
import { OPERATION_NAMES, type OperationName } from '../shared/contract';
import { DEFAULT_PORT } from './gateway/config';
import { startGateway, type RunningGateway } from './headless';
import { createAppServices } from './services/app-services';

const state: { gateway: RunningGateway | null; error: string | null } = { gateway: null, error: null };
let mainWindow: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Switchyard',
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  window.once('ready-to-show', () => window.show());
  // No navigation away from the app and no new windows; http(s) links open in the browser.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://') || url.startsWith('http://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) void window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void window.loadFile(join(__dirname, '../renderer/index.html'));
  return window;
}

async function startWithPortChoice(port: number): Promise<void> {
  try {
    state.gateway = await startGateway({ dataDir: app.getPath('userData'), port });
    state.error = null;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') {
      state.error = (error as Error).message;
      return;
    }
    const choice = await dialog.showMessageBox({
      type: 'warning',
      message: `Port ${port} is already in use`,
      detail: 'Another program (or another Switchyard) is listening on it. Switchyard can start on a free port instead; tools pointed at the old address will need the new one.',
      buttons: ['Use a free port', 'Quit'],
      defaultId: 0,
      cancelId: 1,
    });
    if (choice.response === 1) {
      app.quit();
      return;
    }
    await startWithPortChoice(0);
  }
}

function registerIpc(): void {
  const services = createAppServices(state);
  for (const name of OPERATION_NAMES) {
    ipcMain.handle(`switchyard:${name}`, (event, input: unknown) => {
      // Only our own window's main frame may call operations.
      if (!mainWindow || event.sender !== mainWindow.webContents || event.senderFrame !== mainWindow.webContents.mainFrame) {
        throw new Error('operation refused: unknown sender');
      }
      const handler = services[name as OperationName] as (value: unknown) => Promise<unknown>;
      return handler(input);
    });
  }
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  void app.whenReady().then(async () => {
    registerIpc();
    await startWithPortChoice(Number(process.env.SWITCHYARD_PORT) || DEFAULT_PORT);
    mainWindow = createWindow();
    mainWindow.on('closed', () => {
      mainWindow = null;
    });
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', () => {
    void state.gateway?.close();
  });
}
