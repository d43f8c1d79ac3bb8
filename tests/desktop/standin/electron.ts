// The stand-in for Electron's main-process module, resolved for `import ... from 'electron'` by
// the loader hook in start.ts. It keeps Electron's rules, not only its shapes: what must happen
// before `ready` throws after it and vice versa, windows are real Chromium pages (chromium.ts),
// IPC reaches the handlers the app registered with a real sender frame URL, and what a user would
// see (notifications, tray, badge, menus, dialogs) is recorded for the test to read and click.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { openPage, type PageHandle } from './chromium.ts';
import type { DesktopState, MenuItemState } from './control.ts';

// ---- app ------------------------------------------------------------------------------------

interface PackageJson {
  name: string;
  productName?: string;
  version: string;
}

const appPath = process.env.STANDIN_APP_PATH ?? process.cwd();
const pkg = JSON.parse(readFileSync(join(appPath, 'package.json'), 'utf8')) as PackageJson;

/** As on Linux: `$XDG_CONFIG_HOME` (or ~/.config), then the app's productName. */
const appData = process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
const paths: Record<string, string> = {
  home: homedir(),
  appData,
  userData: join(appData, pkg.productName ?? pkg.name),
  temp: process.env.TMPDIR ?? '/tmp',
  downloads: join(homedir(), 'Downloads'),
};

let ready = false;
let quitting = false;
let singletonServer: Server | undefined;
const readyWaiters: Array<() => void> = [];

function requireReady(what: string): void {
  if (!ready) throw new Error(`${what} cannot be used before the app is ready`);
}
function requireNotReady(what: string): void {
  if (ready) throw new Error(`${what} can only be called before the app is ready`);
}

class ElectronEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

/** Emits `name` with a fresh preventable event first; returns whether a listener prevented it. */
function emitPreventable(emitter: EventEmitter, name: string, ...args: unknown[]): boolean {
  const event = new ElectronEvent();
  emitter.emit(name, event, ...args);
  return event.defaultPrevented;
}

class App extends EventEmitter {
  readonly isPackaged = false;
  readonly commandLine = { appendSwitch: () => undefined, hasSwitch: () => false, getSwitchValue: () => '' };

  get name(): string {
    return pkg.productName ?? pkg.name;
  }
  getName(): string {
    return this.name;
  }
  getVersion(): string {
    return pkg.version;
  }
  getAppPath(): string {
    return appPath;
  }
  getPath(name: string): string {
    const found = paths[name];
    if (found === undefined) throw new Error(`Failed to get '${name}' path`);
    return found;
  }
  setPath(name: string, value: string): void {
    paths[name] = value;
  }
  getLocale(): string {
    return (process.env.LC_ALL ?? process.env.LANG ?? 'en-US').split('.')[0]!.replace('_', '-');
  }
  getPreferredSystemLanguages(): string[] {
    return [this.getLocale()];
  }
  isReady(): boolean {
    return ready;
  }
  whenReady(): Promise<void> {
    return ready ? Promise.resolve() : new Promise((resolve) => readyWaiters.push(resolve));
  }
  enableSandbox(): void {
    requireNotReady('app.enableSandbox()');
    sandboxed = true;
  }
  setAppUserModelId(_id: string): void {}

  /**
   * Electron's process singleton, across processes as the real one: the first instance listens on
   * a socket in userData; a later one hands it its argv (the first emits 'second-instance') and
   * gets false. A socket nobody answers on is stale and taken over.
   */
  requestSingleInstanceLock(): boolean {
    mkdirSync(paths.userData!, { recursive: true });
    const socketPath = join(paths.userData!, 'SingletonSocket');
    if (existsSync(socketPath) && tellFirstInstance(socketPath)) return false;
    rmSync(socketPath, { force: true });
    const server = createServer((socket) => {
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () => {
        socket.end();
        const { argv, cwd } = JSON.parse(data) as { argv: string[]; cwd: string };
        this.emit('second-instance', new ElectronEvent(), argv, cwd, {});
      });
    });
    server.listen(socketPath);
    server.unref();
    singletonServer = server;
    return true;
  }
  hasSingleInstanceLock(): boolean {
    return singletonServer !== undefined;
  }
  releaseSingleInstanceLock(): void {
    singletonServer?.close();
    singletonServer = undefined;
  }

  setBadgeCount(count?: number): boolean {
    recorded.badgeCount = count ?? 0;
    return true;
  }
  getBadgeCount(): number {
    return recorded.badgeCount;
  }
  focus(): void {}

  /**
   * As Electron: before-quit (preventable), then every window is closed (each close preventable),
   * then will-quit (preventable), quit, and the process exits.
   */
  quit(): void {
    if (quitting) return;
    quitting = true;
    if (emitPreventable(this, 'before-quit')) {
      quitting = false;
      return;
    }
    void closeAllThenQuit();
  }
  /** Exits at once: no before-quit, no close events. */
  exit(code = 0): void {
    void shutdown(code);
  }
}

export const app = new App();
let sandboxed = false;

async function closeAllThenQuit(): Promise<void> {
  for (const win of [...windows]) {
    win.close();
    if (!win.isDestroyed()) {
      quitting = false;
      return;
    }
  }
  await Promise.all([...windows].map((w) => w.closing));
  if (emitPreventable(app, 'will-quit')) {
    quitting = false;
    return;
  }
  app.emit('quit', new ElectronEvent(), 0);
  await shutdown(0);
}

let onExit: (code: number) => Promise<void> = async () => undefined;
/** start.ts decides how the process ends (it also closes Chromium). */
export function setExitHandler(handler: (code: number) => Promise<void>): void {
  onExit = handler;
}
async function shutdown(code: number): Promise<void> {
  app.releaseSingleInstanceLock();
  await onExit(code);
}

/** Synchronous, as requestSingleInstanceLock is: a short child process asks the first instance's socket. */
function tellFirstInstance(socketPath: string): boolean {
  const payload = JSON.stringify({ argv: process.argv, cwd: process.cwd() });
  const script = `const s=require('node:net').createConnection(${JSON.stringify(socketPath)});s.on('connect',()=>s.end(${JSON.stringify(payload)}));s.on('data',()=>{});s.on('close',()=>process.exit(0));s.on('error',()=>process.exit(1));`;
  return spawnSync(process.execPath, ['-e', script], { stdio: 'ignore', timeout: 5_000 }).status === 0;
}

/** Called by start.ts once the main module's import has settled, as Electron does. */
export function becomeReady(): void {
  ready = true;
  app.emit('will-finish-launching');
  app.emit('ready', new ElectronEvent(), {});
  for (const resolve of readyWaiters.splice(0)) resolve();
}

// ---- what a user would see ------------------------------------------------------------------

const recorded = {
  badgeCount: 0,
  errorBoxes: [] as DesktopState['errorBoxes'],
  openedExternal: [] as string[],
  applicationMenu: undefined as Menu | undefined,
};

export function desktopState(): DesktopState {
  return {
    ready,
    holdsSingleInstanceLock: app.hasSingleInstanceLock(),
    windows: [...windows].map((w) => ({
      id: w.id,
      url: w.webContents.getURL(),
      title: w.getTitle(),
      visible: w.isVisible(),
      focused: w.isFocused(),
      minimized: w.isMinimized(),
    })),
    notifications: notifications.map((n) => ({ id: n.id, title: n.title, body: n.body, shown: n.shown, closed: n.closed, failed: n.failure })),
    tray: trays.size === 0 ? undefined : { tooltip: trayNow().tooltip, menu: trayNow().menu?.describe() ?? [] },
    badgeCount: recorded.badgeCount,
    applicationMenu: recorded.applicationMenu?.describe(),
    errorBoxes: recorded.errorBoxes,
    openedExternal: recorded.openedExternal,
  };
}

export const dialog = {
  /** Safe before ready, as in Electron; the stand-in prints it too, like the Linux fallback. */
  showErrorBox(title: string, content: string): void {
    recorded.errorBoxes.push({ title, content });
    process.stderr.write(`[dialog] ${title}: ${content}\n`);
  },
};

export const shell = {
  async openExternal(url: string): Promise<void> {
    recorded.openedExternal.push(url);
  },
  async openPath(_path: string): Promise<string> {
    return '';
  },
};

// ---- safeStorage ----------------------------------------------------------------------------

/**
 * STANDIN_KEYCHAIN picks what the OS offers: a keychain (default, as the Secret Service), none, or
 * Linux's 'basic_text' fallback. The keychain's secret lives in $XDG_CONFIG_HOME, so it outlasts
 * the process as a real keychain does; what it wraps is AES-256-GCM.
 */
const keychain = process.env.STANDIN_KEYCHAIN ?? 'gnome_libsecret';
function keychainKey(): Buffer {
  const file = join(appData, 'standin-keychain');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return createHash('sha256').update(readFileSync(file, 'utf8')).digest();
}

export const safeStorage = {
  isEncryptionAvailable(): boolean {
    // On Linux it answers only once the app is ready.
    return ready && keychain !== 'none';
  },
  getSelectedStorageBackend(): string {
    requireReady('safeStorage.getSelectedStorageBackend()');
    return keychain === 'none' ? 'unknown' : keychain;
  },
  encryptString(text: string): Buffer {
    if (!this.isEncryptionAvailable()) throw new Error('Encryption is not available.');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keychainKey(), iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from('v10'), iv, cipher.getAuthTag(), body]);
  },
  decryptString(data: Buffer): string {
    if (!this.isEncryptionAvailable()) throw new Error('Decryption is not available.');
    const decipher = createDecipheriv('aes-256-gcm', keychainKey(), data.subarray(3, 15));
    decipher.setAuthTag(data.subarray(15, 31));
    return Buffer.concat([decipher.update(data.subarray(31)), decipher.final()]).toString('utf8');
  },
};

// ---- native images, screen ------------------------------------------------------------------

class NativeImage {
  private readonly data: Buffer | undefined;
  constructor(data: Buffer | undefined) {
    this.data = data;
  }
  isEmpty(): boolean {
    return this.data === undefined || this.data.length === 0;
  }
  toPNG(): Buffer {
    return this.data ?? Buffer.alloc(0);
  }
  getSize(): { width: number; height: number } {
    // PNG: width and height are the first two fields of IHDR.
    return this.isEmpty() ? { width: 0, height: 0 } : { width: this.data!.readUInt32BE(16), height: this.data!.readUInt32BE(20) };
  }
}

export const nativeImage = {
  createFromPath: (path: string) => new NativeImage(existsSync(path) ? readFileSync(path) : undefined),
  createFromBuffer: (buffer: Buffer, _options?: unknown) => new NativeImage(buffer),
  createEmpty: () => new NativeImage(undefined),
};

const DISPLAY = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 }, bounds: { x: 0, y: 0, width: 1920, height: 1080 }, scaleFactor: 1 };
export const screen = {
  getAllDisplays() {
    requireReady("The 'screen' module");
    return [DISPLAY];
  },
  getPrimaryDisplay() {
    requireReady("The 'screen' module");
    return DISPLAY;
  },
};

// ---- protocol -------------------------------------------------------------------------------

interface CustomScheme {
  scheme: string;
  privileges?: { standard?: boolean; secure?: boolean };
}
const privilegedSchemes = new Map<string, CustomScheme>();
const protocolHandlers = new Map<string, (request: Request) => Response | Promise<Response>>();

export const protocol = {
  registerSchemesAsPrivileged(schemes: CustomScheme[]): void {
    requireNotReady('protocol.registerSchemesAsPrivileged()');
    for (const scheme of schemes) privilegedSchemes.set(scheme.scheme, scheme);
  },
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    requireReady('protocol.handle()');
    if (protocolHandlers.has(scheme)) throw new Error(`The scheme "${scheme}" is already handled`);
    protocolHandlers.set(scheme, handler);
  },
  unhandle(scheme: string): void {
    protocolHandlers.delete(scheme);
  },
  isProtocolHandled(scheme: string): boolean {
    return protocolHandlers.has(scheme);
  },
};

/** The handler for a standard scheme, the only kind a stand-in window can load (see chromium.ts). */
export function schemeHandler(scheme: string): ((request: Request) => Response | Promise<Response>) | undefined {
  if (privilegedSchemes.get(scheme)?.privileges?.standard !== true) return undefined;
  return protocolHandlers.get(scheme);
}

// ---- IPC ------------------------------------------------------------------------------------

type InvokeHandler = (event: unknown, ...args: unknown[]) => unknown;

class IpcMain extends EventEmitter {
  private readonly handlers = new Map<string, InvokeHandler>();
  handle(channel: string, handler: InvokeHandler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** An `invoke` from a page: the handler's value (or its error, as Electron reports it) goes back. */
  async invoke(contents: WebContents, frameUrl: string, channel: string, args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const event = { sender: contents, senderFrame: { url: frameUrl }, processId: 1, frameId: 1 };
    try {
      return await handler(event, ...args);
    } catch (error) {
      throw new Error(`Error invoking remote method '${channel}': ${String(error)}`);
    }
  }
}
export const ipcMain = new IpcMain();

// ---- windows --------------------------------------------------------------------------------

interface WindowOptions {
  width?: number;
  height?: number;
  x?: number;
  y?: number;
  show?: boolean;
  title?: string;
  webPreferences?: { preload?: string; sandbox?: boolean; contextIsolation?: boolean; nodeIntegration?: boolean };
}

const windows = new Set<BrowserWindow>();
let nextWindowId = 1;

class Session {
  permissionRequest: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
  permissionCheck: ((contents: unknown, permission: string) => boolean) | undefined;
  setPermissionRequestHandler(handler: Session['permissionRequest']): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: Session['permissionCheck']): void {
    this.permissionCheck = handler;
  }
}
const defaultSession = new Session();

export class WebContents extends EventEmitter {
  readonly session = defaultSession;
  private destroyed = false;
  private url = '';
  windowOpenHandler: ((details: { url: string }) => { action: 'allow' | 'deny' }) | undefined;
  readonly id: number;
  readonly page: Promise<PageHandle>;

  constructor(id: number, page: Promise<PageHandle>) {
    super();
    this.id = id;
    this.page = page;
  }
  getURL(): string {
    return this.url;
  }
  setURL(url: string): void {
    this.url = url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
  setWindowOpenHandler(handler: WebContents['windowOpenHandler']): void {
    this.windowOpenHandler = handler;
  }
  /** To the page's ipcRenderer listeners; arguments are structured-cloned, as Electron does. */
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    const cloned = structuredClone(args);
    void this.page.then((page) => page.deliver(channel, cloned));
  }
}

export class BrowserWindow extends EventEmitter {
  static getAllWindows(): BrowserWindow[] {
    return [...windows];
  }

  readonly id = nextWindowId++;
  readonly webContents: WebContents;
  private visible = false;
  private focused = false;
  private minimized = false;
  private maximized = false;
  private destroyed = false;
  private title: string;
  private bounds: { x: number; y: number; width: number; height: number };
  /** Settles when the window's page is gone. */
  closing: Promise<void> = Promise.resolve();

  constructor(options: WindowOptions = {}) {
    super();
    requireReady('BrowserWindow');
    const preload = options.webPreferences?.preload;
    if (preload !== undefined && !isAbsolute(preload)) throw new Error('preload must be an absolute path');
    const sandbox = sandboxed || options.webPreferences?.sandbox === true;
    if (preload !== undefined && !sandbox) throw new Error('The stand-in runs preloads only as sandboxed preloads, as the app asks for');
    this.title = options.title ?? app.name;
    this.bounds = { x: options.x ?? 0, y: options.y ?? 0, width: options.width ?? 800, height: options.height ?? 600 };
    const page = openPage({
      preload,
      size: this.bounds,
      invoke: (frameUrl, channel, args) => ipcMain.invoke(this.webContents, frameUrl, channel, args),
    });
    this.webContents = new WebContents(this.id, page);
    windows.add(this);
    app.emit('web-contents-created', new ElectronEvent(), this.webContents);
    app.emit('browser-window-created', new ElectronEvent(), this);
    if (options.show !== false) this.show();
  }

  /** Navigations go through the guards the app installed, as in Electron. */
  async loadURL(url: string): Promise<void> {
    const page = await this.webContents.page;
    await page.load(url);
    this.webContents.setURL(url);
    this.webContents.emit('did-finish-load');
    this.emit('ready-to-show');
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isFocused(): boolean {
    return this.focused;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  show(): void {
    this.visible = true;
    this.minimized = false;
    this.emit('show');
    this.focus();
  }
  hide(): void {
    this.visible = false;
    this.blur();
    this.emit('hide');
  }
  focus(): void {
    if (!this.visible || this.focused) return;
    this.focused = true;
    this.emit('focus');
  }
  blur(): void {
    if (!this.focused) return;
    this.focused = false;
    this.emit('blur');
  }
  minimize(): void {
    this.minimized = true;
    this.blur();
    this.emit('minimize');
  }
  restore(): void {
    this.minimized = false;
    this.emit('restore');
  }
  maximize(): void {
    this.maximized = true;
    this.emit('maximize');
  }
  unmaximize(): void {
    this.maximized = false;
  }
  getTitle(): string {
    return this.title;
  }
  setTitle(title: string): void {
    this.title = title;
  }
  getBounds(): WindowOptions & { x: number; y: number; width: number; height: number } {
    return { ...this.bounds };
  }
  getNormalBounds(): { x: number; y: number; width: number; height: number } {
    return { ...this.bounds };
  }
  setBounds(bounds: Partial<BrowserWindow['bounds']>): void {
    this.bounds = { ...this.bounds, ...bounds };
  }

  /** The close button: 'close' may be prevented (hide to tray); then 'closed', and maybe window-all-closed. */
  close(): void {
    if (this.destroyed) return;
    if (emitPreventable(this, 'close')) return;
    this.destroy();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = this.focused = false;
    windows.delete(this);
    this.webContents.destroy();
    this.closing = this.webContents.page.then((page) => page.close());
    this.emit('closed');
    // Windows closed by app.quit() do not raise window-all-closed; with no listener Electron quits.
    if (windows.size === 0 && !quitting) {
      if (app.listenerCount('window-all-closed') > 0) app.emit('window-all-closed');
      else app.quit();
    }
  }
}

export function windowById(id: number): BrowserWindow {
  const win = [...windows].find((w) => w.id === id);
  if (!win) throw new Error(`No window ${id}`);
  return win;
}

// ---- menus and the tray ---------------------------------------------------------------------

interface MenuItemOptions {
  label?: string;
  role?: string;
  type?: string;
  checked?: boolean;
  click?: (item: MenuItem, window: BrowserWindow | undefined, event: unknown) => void;
  submenu?: MenuItemOptions[];
}

class MenuItem {
  label: string;
  role: string | undefined;
  type: string;
  checked: boolean;
  private readonly onClick: MenuItemOptions['click'];
  constructor(options: MenuItemOptions) {
    this.label = options.label ?? '';
    this.role = options.role;
    this.type = options.type ?? 'normal';
    this.checked = options.checked === true;
    this.onClick = options.click;
  }
  /** As Electron: a checkbox flips before its click handler runs. */
  click(): void {
    if (this.type === 'checkbox') this.checked = !this.checked;
    this.onClick?.(this, undefined, {});
  }
}

export class Menu {
  static buildFromTemplate(template: MenuItemOptions[]): Menu {
    return new Menu(template.map((options) => new MenuItem(options)));
  }
  static setApplicationMenu(menu: Menu | null): void {
    recorded.applicationMenu = menu ?? undefined;
  }
  static getApplicationMenu(): Menu | null {
    return recorded.applicationMenu ?? null;
  }
  readonly items: MenuItem[];
  constructor(items: MenuItem[] = []) {
    this.items = items;
  }
  describe(): MenuItemState[] {
    return this.items.map((i) => ({ label: i.label, role: i.role, type: i.type, checked: i.type === 'checkbox' ? i.checked : undefined }));
  }
}

const trays = new Set<Tray>();

export class Tray extends EventEmitter {
  tooltip = '';
  menu: Menu | undefined;
  constructor(_image: NativeImage | string) {
    super();
    requireReady('Tray');
    trays.add(this);
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setContextMenu(menu: Menu | null): void {
    this.menu = menu ?? undefined;
  }
  setImage(_image: NativeImage | string): void {}
  destroy(): void {
    trays.delete(this);
  }
}

/** The app makes one tray icon; the newest alive is the one on screen. */
export function trayNow(): Tray {
  const tray = [...trays].at(-1);
  if (!tray) throw new Error('There is no tray icon');
  return tray;
}

// ---- notifications --------------------------------------------------------------------------

const notifications: Notification[] = [];
let nextNotificationId = 1;

export class Notification extends EventEmitter {
  /** STANDIN_NOTIFICATIONS=fail stands for an OS that refuses them (an unsigned app on macOS). */
  static isSupported(): boolean {
    return true;
  }
  readonly id = nextNotificationId++;
  readonly title: string;
  readonly body: string;
  shown = false;
  closed = false;
  failure: string | undefined;
  constructor(options: { title?: string; body?: string; icon?: unknown } = {}) {
    super();
    requireReady('Notification');
    this.title = options.title ?? '';
    this.body = options.body ?? '';
    notifications.push(this);
  }
  show(): void {
    if (process.env.STANDIN_NOTIFICATIONS === 'fail') {
      this.failure = 'Notifications are not allowed for this application';
      // Electron emits 'failed' asynchronously, after show() has returned.
      setImmediate(() => this.emit('failed', new ElectronEvent(), this.failure));
      return;
    }
    this.shown = true;
    this.emit('show', new ElectronEvent());
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', new ElectronEvent());
  }
  /** The user clicks it: it goes away and the app hears 'click'. */
  userClick(): void {
    this.closed = true;
    this.emit('click', new ElectronEvent());
  }
}

export function notificationById(id: number): Notification {
  const found = notifications.find((n) => n.id === id);
  if (!found) throw new Error(`No notification ${id}`);
  return found;
}

const electron = { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, protocol, safeStorage, screen, shell, Tray };
export default electron;
