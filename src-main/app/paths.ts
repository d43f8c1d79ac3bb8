// Where the app's files are, relative to the folder Electron runs it from (`app.getAppPath()`:
// the project folder in development, the app.asar root when packaged).
import path from 'node:path';

export interface AppPaths {
  renderer: string;
  preload: string;
  icon: string;
  trayIcon: string;
  overlayIcon: string;
}

export function appPaths(appPath: string): AppPaths {
  return {
    renderer: path.join(appPath, 'dist', 'renderer'),
    preload: path.join(appPath, 'dist', 'preload', 'preload.cjs'),
    icon: path.join(appPath, 'assets', 'icon.png'),
    trayIcon: path.join(appPath, 'assets', 'tray.png'),
    overlayIcon: path.join(appPath, 'assets', 'overlay.png'),
  };
}
