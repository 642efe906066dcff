/**
 * What the desktop window loads (the gateway's /ui/ over HTTP, so the policy arrives as a
 * header; the dev server; the built file only without a gateway), which frames may call
 * operations over IPC, which links go to the browser, closing to the tray, the start-up
 * failure text, and where the Electron builds of the native modules are.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { electronNativeEnvironment, electronNativeModules, electronNativeModulesPresent, resourcesDirectory, workerExecArgv } from '../../src/main/desktop/native-modules.js';
import { closeHidesWindow, isTrustedUiUrl, opensInBrowser, startupFailure, windowSource } from '../../src/main/desktop/window-policy.js';

const rendererDirectory = join('/opt', 'Switchyard', 'out', 'renderer');
const withGateway = { gatewayOrigin: 'http://127.0.0.1:4141', rendererDirectory };

describe('the window', () => {
  it('loads the gateway\'s /ui/, the dev server under electron-vite dev, or the built file when the gateway is down', () => {
    expect(windowSource(withGateway)).toEqual({ kind: 'url', url: 'http://127.0.0.1:4141/ui/' });
    expect(windowSource({ ...withGateway, devServerUrl: 'http://localhost:5173' })).toEqual({ kind: 'url', url: 'http://localhost:5173' });
    expect(windowSource({ gatewayOrigin: null, rendererDirectory })).toEqual({ kind: 'file', path: join(rendererDirectory, 'index.html') });
  });

  it('lets only our own UI call operations', () => {
    expect(isTrustedUiUrl('http://127.0.0.1:4141/ui/', withGateway)).toBe(true);
    expect(isTrustedUiUrl('http://127.0.0.1:4141/ui/inspector#x', withGateway)).toBe(true);
    expect(isTrustedUiUrl('http://127.0.0.1:4141/v1/models', withGateway)).toBe(false);
    expect(isTrustedUiUrl('http://127.0.0.1:41410/ui/', withGateway)).toBe(false);
    expect(isTrustedUiUrl('http://127.0.0.1:4141.evil.example/ui/', withGateway)).toBe(false);
    expect(isTrustedUiUrl('https://example.com/ui/', withGateway)).toBe(false);
    expect(isTrustedUiUrl('not a url', withGateway)).toBe(false);
    expect(isTrustedUiUrl('', withGateway)).toBe(false);
    // The built file, and nothing else on disk.
    expect(isTrustedUiUrl(pathToFileURL(join(rendererDirectory, 'index.html')).href, withGateway)).toBe(true);
    expect(isTrustedUiUrl(pathToFileURL(join('/tmp', 'download', 'index.html')).href, withGateway)).toBe(false);
    expect(isTrustedUiUrl(pathToFileURL(join(rendererDirectory, '..', 'renderer-evil', 'index.html')).href, withGateway)).toBe(false);
    // The dev server by origin, only when it is in use.
    const dev = { ...withGateway, devServerUrl: 'http://localhost:5173/' };
    expect(isTrustedUiUrl('http://localhost:5173/', dev)).toBe(true);
    expect(isTrustedUiUrl('http://localhost:51730/', dev)).toBe(false);
    expect(isTrustedUiUrl('http://localhost:5173/', withGateway)).toBe(false);
    // Without a gateway, its old address is not trusted.
    expect(isTrustedUiUrl('http://127.0.0.1:4141/ui/', { gatewayOrigin: null, rendererDirectory })).toBe(false);
  });

  it('sends only http(s) links to the browser', () => {
    expect(opensInBrowser('https://platform.openai.com/api-keys')).toBe(true);
    expect(opensInBrowser('http://localhost:11434')).toBe(true);
    expect(opensInBrowser('file:///etc/passwd')).toBe(false);
    expect(opensInBrowser('javascript:alert(1)')).toBe(false);
    expect(opensInBrowser('smb://host/share')).toBe(false);
    expect(opensInBrowser('nonsense')).toBe(false);
  });

  it('hides to the tray on close unless quitting or without a tray', () => {
    expect(closeHidesWindow({ quitting: false, trayShown: true })).toBe(true);
    expect(closeHidesWindow({ quitting: true, trayShown: true })).toBe(false);
    expect(closeHidesWindow({ quitting: false, trayShown: false })).toBe(false);
  });

  it('explains a failed start, with the fix for a native module built for Node', () => {
    const failure = startupFailure(new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 115'));
    expect(failure.title).toBe('Switchyard cannot start');
    expect(failure.content).toContain('NODE_MODULE_VERSION 115');
    expect(failure.content).toContain('node scripts/build-electron-native.mjs');
    expect(startupFailure('disk full').content).toMatch(/^disk full/);
  });
});

describe('native modules for Electron', () => {
  it('come from .electron-native/ in a checkout and resources/native/ in a package', () => {
    const checkout = { isPackaged: false, resourcesPath: '/electron/resources', appPath: '/src/switchyard' };
    expect(resourcesDirectory(checkout)).toBe(join('/src/switchyard', 'resources'));
    expect(electronNativeModules(checkout)).toEqual({
      directory: join('/src/switchyard', '.electron-native'),
      hook: join('/src/switchyard', 'resources', 'electron-native-hook.cjs'),
      sqliteBinding: join('/src/switchyard', '.electron-native', 'better_sqlite3.node'),
    });
    const packaged = { isPackaged: true, resourcesPath: '/Applications/Switchyard.app/Contents/Resources', appPath: '/ignored' };
    expect(resourcesDirectory(packaged)).toBe(packaged.resourcesPath);
    expect(electronNativeModules(packaged).sqliteBinding).toBe(join(packaged.resourcesPath, 'native', 'better_sqlite3.node'));
    expect(electronNativeModules(packaged).hook).toBe(join(packaged.resourcesPath, 'electron-native-hook.cjs'));
  });

  it('are used only when both the binding and the hook exist, and reach worker threads', () => {
    const modules = electronNativeModules({ isPackaged: false, resourcesPath: '/r', appPath: '/app' });
    expect(electronNativeModulesPresent(modules, () => true)).toBe(true);
    expect(electronNativeModulesPresent(modules, (path) => path !== modules.hook)).toBe(false);
    expect(electronNativeModulesPresent(modules, (path) => path !== modules.sqliteBinding)).toBe(false);
    expect(electronNativeEnvironment(modules)).toEqual({ SWITCHYARD_ELECTRON_NATIVE_DIR: modules.directory, SWITCHYARD_SQLITE_BINDING: modules.sqliteBinding });
    expect(workerExecArgv(modules)).toEqual(['--require', modules.hook]);
  });
});
