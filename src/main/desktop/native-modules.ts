/**
 * Where the desktop app finds the native modules built for Electron's ABI
 * (scripts/build-electron-native.mjs puts them in `.electron-native/` in a checkout and
 * `resources/native/` in a package; node_modules keeps Node's builds for tests and
 * `switchyard serve`), and the environment that points storage and worker threads at them.
 */
import { join } from 'node:path';

export interface AppLocation {
  isPackaged: boolean;
  /** process.resourcesPath */
  resourcesPath: string;
  /** app.getAppPath() */
  appPath: string;
}

/** The folder holding bundled resources (icons, the native hook): inside the package, or the checkout's resources/. */
export function resourcesDirectory(location: AppLocation): string {
  return location.isPackaged ? location.resourcesPath : join(location.appPath, 'resources');
}

export interface ElectronNativeModules {
  directory: string;
  /** The require hook that makes keytar and friends load their Electron builds. */
  hook: string;
  sqliteBinding: string;
}

export function electronNativeModules(location: AppLocation): ElectronNativeModules {
  const directory = location.isPackaged ? join(location.resourcesPath, 'native') : join(location.appPath, '.electron-native');
  return {
    directory,
    hook: join(resourcesDirectory(location), 'electron-native-hook.cjs'),
    sqliteBinding: join(directory, 'better_sqlite3.node'),
  };
}

/** Environment for storage (better-sqlite3's `nativeBinding`) and the hook; worker threads inherit it. */
export function electronNativeEnvironment(modules: ElectronNativeModules): Record<string, string> {
  return { SWITCHYARD_ELECTRON_NATIVE_DIR: modules.directory, SWITCHYARD_SQLITE_BINDING: modules.sqliteBinding };
}

/** Whether both the Electron build of better-sqlite3 and the hook are there (`exists` is fs.existsSync in the app). */
export function electronNativeModulesPresent(modules: ElectronNativeModules, exists: (path: string) => boolean): boolean {
  return exists(modules.sqliteBinding) && exists(modules.hook);
}

/** What worker threads are started with so they load the Electron builds too. */
export function workerExecArgv(modules: ElectronNativeModules): string[] {
  return ['--require', modules.hook];
}
