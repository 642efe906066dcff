/**
 * Where Switchyard keeps its data by default: the same folder Electron uses as the app's
 * `userData`, so the desktop app and `switchyard serve` share one database.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_NAME = 'Switchyard';

export function defaultDataDir(environment: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (environment.SWITCHYARD_DATA_DIR) return environment.SWITCHYARD_DATA_DIR;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return join(environment.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  return join(environment.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME);
}
