import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'ChatP2P';

/**
 * The per-user data folder, the same one Electron's `app.getPath('userData')` picks for this
 * product, so the desktop app, the terminal client and the servers share one place.
 */
export function userDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), APP_DIR_NAME);
}
