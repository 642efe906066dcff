#!/usr/bin/env node
/**
 * Builds the native modules (better-sqlite3, keytar) for Electron's ABI into
 * .electron-native/, leaving node_modules' Node builds alone for tests and headless use.
 * Each module is copied to .electron-native/build/<name>, installed there for the Electron
 * runtime (prebuilt binary when one exists, else compiled against Electron's headers),
 * and its .node file copied to .electron-native/. Needs the network on first run.
 * `--if-missing` skips the work when the binaries are already there.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, '.electron-native');
const require = createRequire(join(root, 'package.json'));
const modules = [
  { name: 'better-sqlite3', binary: 'better_sqlite3.node' },
  { name: 'keytar', binary: 'keytar.node' },
];

if (process.argv.includes('--if-missing') && modules.every((module) => existsSync(join(output, module.binary)))) process.exit(0);

const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
mkdirSync(join(output, 'build'), { recursive: true });
for (const module of modules) {
  const source = dirname(require.resolve(`${module.name}/package.json`));
  const work = join(output, 'build', module.name);
  rmSync(work, { recursive: true, force: true });
  cpSync(source, work, { recursive: true, filter: (path) => !path.includes(`${module.name}/build`) });
  process.stdout.write(`building ${module.name} for Electron ${electronVersion}\n`);
  execFileSync('npm', ['install', '--no-save', '--ignore-scripts=false', '--omit=dev', '--no-package-lock'], {
    cwd: work,
    stdio: 'inherit',
    env: {
      ...process.env,
      npm_config_runtime: 'electron',
      npm_config_target: electronVersion,
      npm_config_disturl: 'https://electronjs.org/headers',
      npm_config_build_from_source: process.env.npm_config_build_from_source ?? '',
    },
  });
  cpSync(join(work, 'build', 'Release', module.binary), join(output, module.binary));
}
process.stdout.write(`Electron builds of the native modules are in ${output}\n`);
