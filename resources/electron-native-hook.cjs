/**
 * Desktop only: makes better-sqlite3 and keytar load their Electron builds (made by
 * scripts/build-electron-native.mjs into .electron-native/, or shipped in the packaged
 * app's resources/native/) instead of node_modules' Node builds, which tests and
 * `switchyard serve` keep using. Loaded with --require by the analytics worker and
 * required by the Electron main process; does nothing unless
 * SWITCHYARD_ELECTRON_NATIVE_DIR is set. Remove once storage passes better-sqlite3's
 * `nativeBinding` option itself.
 */
'use strict';
const Module = require('node:module');
const path = require('node:path');

const directory = process.env.SWITCHYARD_ELECTRON_NATIVE_DIR;
if (directory && !Module.__switchyardNativeHook) {
  Module.__switchyardNativeHook = true;
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    const from = parent && parent.filename ? parent.filename : '';
    if (request === 'bindings' && from.includes(`${path.sep}better-sqlite3${path.sep}`)) {
      return () => originalLoad.call(this, path.join(directory, 'better_sqlite3.node'), parent, false);
    }
    if (request.endsWith('keytar.node') && from.includes(`${path.sep}keytar${path.sep}`)) {
      return originalLoad.call(this, path.join(directory, 'keytar.node'), parent, false);
    }
    return originalLoad.call(this, request, parent, isMain);
  };
}
