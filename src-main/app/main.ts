// Electron's main process: the only module that imports Electron's values. It wires the service
// to the window, IPC, tray, notifications and badge; every piece of logic lives in a plain module.
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, protocol, safeStorage, screen, shell, Tray } from 'electron';
import Store from 'electron-store';
import { readFileSync } from 'node:fs';
import { Logger, streamSink } from '../engine/log.ts';
import { ChatService } from '../service/chat-service.ts';
import { showUnreadCount } from './badge.ts';
import { offerNotice, openDownload, pickFiles, pickFolder, showDownload } from './downloads.ts';
import { installSecurityGuards } from './guards.ts';
import { forwardEvents, registerCommandHandlers } from './ipc.ts';
import { keychainProtection } from './key-protection.ts';
import { appMenuTemplate } from './menu.ts';
import { createNotifier } from './notifications.ts';
import { appPaths } from './paths.ts';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, APP_URL, createAppProtocolHandler } from './protocol.ts';
import { installQuitSequence, quitOnSignals } from './quit.ts';
import { startupFailureDialog } from './startup-failure.ts';
import { settingsStore, windowStateStore } from './stores.ts';
import { createTray, type AppTray } from './tray.ts';
import { closeToTray, rememberWindowState, restoreWindowState, showWindow, windowOptions } from './window.ts';

/** Windows shows notifications only for an app with this id; it must match electron-builder's appId. */
const APP_USER_MODEL_ID = 'cc.chatp2p.desktop';

const logger = new Logger({ sink: streamSink() });
const log = logger.module('App');

// Both must happen before the ready event.
app.enableSandbox();
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

/** Once it exists, a failed start still says BYE and UNREGISTERs before the process ends. */
let running: ChatService | undefined;

// Never `await` at the top level of this module: Electron emits `ready` only once the main module
// has finished evaluating, so a top-level await on anything that needs `ready` never ends.
if (app.requestSingleInstanceLock()) void run().catch(startupFailed);
else app.quit();

/**
 * A start that failed is said, in a dialog and the log, and the process ends with an error: a
 * windowless process must not stay behind holding the single-instance lock.
 */
async function startupFailed(error: unknown): Promise<void> {
  log.error(`ChatP2P could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const locale = app.isReady() ? app.getLocale() : Intl.DateTimeFormat().resolvedOptions().locale;
  const { title, content } = startupFailureDialog(error, locale, app.getPath('userData'));
  dialog.showErrorBox(title, content);
  await running?.stop().catch(() => undefined);
  app.exit(1);
}

async function run(): Promise<void> {
  const paths = appPaths(app.getAppPath());
  // A corrupt file must not keep the app from starting; the service re-validates what it reads.
  // Not electron-store's default config.json: that name is the terminal client's config file,
  // in the Python clients' layout, in this same folder.
  const store = new Store({ name: 'desktop-settings', clearInvalidConfig: true });
  const windowState = windowStateStore(store);
  const service = new ChatService({
    store: settingsStore(store),
    dataDir: app.getPath('userData'),
    host: 'electron',
    openExternal: (url) => shell.openExternal(url),
    // Asked when a profile starts, after ready: only then does safeStorage know the OS keychain.
    keyProtection: () => keychainProtection(safeStorage, process.platform),
    downloadsDir: app.getPath('downloads'),
    pickFiles: () => pickFiles(dialog, liveWindow()),
    pickFolder: () => pickFolder(dialog, liveWindow()),
    openPath: (path) => openDownload(shell, path),
    showItemInFolder: (path) => showDownload(shell, path),
  });
  running = service;

  let window: BrowserWindow | undefined;
  let tray: AppTray | undefined;
  const liveWindow = () => (window !== undefined && !window.isDestroyed() ? window : undefined);

  // Exit paths and guards exist before anything can start or load.
  const quit = installQuitSequence(app, () => service.stop(), log);
  quitOnSignals(process, quit.quit);
  installSecurityGuards(app, { openExternal: (url) => shell.openExternal(url), log: logger.module('Guard') });
  registerCommandHandlers(ipcMain, service, logger.module('IPC'));
  forwardEvents(service, () => liveWindow()?.webContents);
  app.on('second-instance', () => showWindow(liveWindow()));
  app.on('activate', () => showWindow(liveWindow()));

  await app.whenReady();
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
  protocol.handle(APP_SCHEME, createAppProtocolHandler(paths.renderer));
  Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(process.platform)));
  await service.start().catch((error: unknown) => log.error(`The service did not start: ${String(error)}`));

  const state = restoreWindowState(windowState.read(), screen);
  window = new BrowserWindow(windowOptions(state, paths));
  rememberWindowState(window, state, (saved) => windowState.write(saved));
  window.on('closed', () => (window = undefined));

  try {
    // macOS draws menu-bar icons at 16 points: the 32 px image is their sharp 2x version.
    const trayIcon =
      process.platform === 'darwin' ? nativeImage.createFromBuffer(readFileSync(paths.trayIcon), { scaleFactor: 2 }) : paths.trayIcon;
    tray = createTray({
      Tray,
      Menu,
      icon: trayIcon,
      service,
      open: () => showWindow(liveWindow()),
      quit: quit.quit,
    });
  } catch (error) {
    log.warn(`No tray icon: ${String(error)}`);
  }
  closeToTray(window, () => !quit.quitting && tray !== undefined && service.settings.minimizeToTray);

  // Linux servers show no icon unless given one; macOS and Windows use the app's own.
  const notificationIcon = process.platform === 'linux' ? paths.icon : undefined;
  const notify = createNotifier({ Notification, platform: process.platform, service, window: liveWindow, icon: notificationIcon, log: logger.module('Notify') });
  service.on('message', notify);
  service.on('transfer', (transfer) => {
    const notice = offerNotice(transfer);
    if (notice) notify(notice);
  });
  const overlay = nativeImage.createFromPath(paths.overlayIcon);
  const refreshUnread = () => {
    const count = service.totalUnread();
    showUnreadCount(count, { platform: process.platform, app, window: liveWindow(), overlay });
    tray?.setUnread(count);
  };
  service.on('conversations', refreshUnread);
  refreshUnread();

  await window.loadURL(APP_URL);
}
