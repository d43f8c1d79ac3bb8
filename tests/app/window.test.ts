// The window: where it comes back, its security flags, closing into the tray, the app menu, and
// the electron-store keys it lives under.
import { describe, expect, it } from 'vitest';
import { appMenuTemplate } from '../../src-main/app/menu.ts';
import { appPaths } from '../../src-main/app/paths.ts';
import { SETTINGS_KEY, WINDOW_STATE_KEY, settingsStore, windowStateStore } from '../../src-main/app/stores.ts';
import {
  DEFAULT_SIZE,
  closeToTray,
  rememberWindowState,
  restoreWindowState,
  showWindow,
  windowOptions,
  type WindowState,
} from '../../src-main/app/window.ts';
import { defaultSettings } from '../../src-main/service/settings.ts';
import { FakeWindow } from './fakes.ts';

const laptop = { workArea: { x: 0, y: 0, width: 1920, height: 1050 } };
/** A second monitor to the left of the laptop. */
const leftMonitor = { workArea: { x: -2560, y: 0, width: 2560, height: 1400 } };
const screenOf = (...displays: Array<typeof laptop>) => ({ getAllDisplays: () => displays, getPrimaryDisplay: () => displays[0]! });

describe('restoreWindowState', () => {
  it('uses the default size, centred by Electron, the first time or when the saved state is garbage', () => {
    const fresh = { ...DEFAULT_SIZE, maximized: false };
    for (const saved of [undefined, null, 'big', { x: 1, y: 2 }, { x: 1.5, y: 2, width: 800, height: 600 }, { x: 0, y: 0, width: -5, height: 600 }]) {
      expect(restoreWindowState(saved, screenOf(laptop))).toEqual(fresh);
    }
  });

  it('puts the window back where it was, on whichever monitor it was', () => {
    expect(restoreWindowState({ x: 200, y: 100, width: 900, height: 700, maximized: false }, screenOf(laptop))).toEqual({
      x: 200, y: 100, width: 900, height: 700, maximized: false,
    });
    expect(restoreWindowState({ x: -2000, y: 50, width: 1200, height: 800, maximized: true }, screenOf(laptop, leftMonitor))).toEqual({
      x: -2000, y: 50, width: 1200, height: 800, maximized: true,
    });
  });

  it('brings a window from an unplugged monitor onto the primary display', () => {
    expect(restoreWindowState({ x: -2000, y: 50, width: 1200, height: 800 }, screenOf(laptop))).toEqual({
      x: 0, y: 50, width: 1200, height: 800, maximized: false,
    });
  });

  it('pulls a half off-screen window inside, and shrinks one larger than the display', () => {
    expect(restoreWindowState({ x: 1500, y: 900, width: 800, height: 600 }, screenOf(laptop))).toMatchObject({ x: 1120, y: 450 });
    expect(restoreWindowState({ x: 10, y: 10, width: 4000, height: 3000 }, screenOf(laptop))).toMatchObject({
      x: 0, y: 0, width: 1920, height: 1050,
    });
  });
});

describe('windowOptions', () => {
  const paths = appPaths('/opt/ChatP2P/resources/app.asar');

  it('turns on every isolation flag and loads the bundled preload', () => {
    const options = windowOptions({ ...DEFAULT_SIZE, maximized: false }, paths);
    expect(options.webPreferences).toEqual({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: '/opt/ChatP2P/resources/app.asar/dist/preload/preload.cjs',
    });
    expect(options).not.toHaveProperty('x');
  });

  it('opens at the restored bounds', () => {
    expect(windowOptions({ x: 5, y: 6, width: 800, height: 600, maximized: true }, paths)).toMatchObject({ x: 5, y: 6, width: 800, height: 600 });
  });
});

describe('rememberWindowState', () => {
  it('shows the window once ready, maximized if it was, and saves where it is on close', () => {
    const win = new FakeWindow();
    win.hide();
    const saved: WindowState[] = [];
    rememberWindowState(win, { x: 1, y: 2, width: 800, height: 600, maximized: true }, (state) => saved.push(state));
    win.emit('ready-to-show');
    expect(win).toMatchObject({ visible: true, maximized: true });
    win.bounds = { x: 30, y: 40, width: 900, height: 650 };
    win.close();
    expect(saved).toEqual([{ x: 30, y: 40, width: 900, height: 650, maximized: true }]);
  });
});

describe('closing the window', () => {
  it('hides it in the tray while that is wanted, and closes it otherwise', () => {
    const win = new FakeWindow();
    let keep = true;
    closeToTray(win, () => keep);
    win.close();
    expect(win).toMatchObject({ visible: false, destroyed: false });
    showWindow(win);
    keep = false;
    win.close();
    expect(win.destroyed).toBe(true);
  });

  it('showWindow restores a minimized window and focuses it, and ignores a closed one', () => {
    const win = new FakeWindow();
    win.minimized = true;
    showWindow(win);
    expect(win).toMatchObject({ minimized: false, visible: true, focused: true });
    win.close();
    expect(() => showWindow(win)).not.toThrow();
    expect(() => showWindow(undefined)).not.toThrow();
  });
});

describe('appMenuTemplate', () => {
  it('has the usual menus, with the app menu first on macOS only', () => {
    expect(appMenuTemplate('darwin').map((m) => m.role)).toEqual(['appMenu', 'fileMenu', 'editMenu', 'viewMenu', 'windowMenu']);
    expect(appMenuTemplate('win32').map((m) => m.role)).toEqual(['fileMenu', 'editMenu', 'viewMenu', 'windowMenu']);
    expect(appMenuTemplate('linux')).toEqual(appMenuTemplate('win32'));
  });
});

describe('stores', () => {
  it('keeps settings and the window state under separate keys', () => {
    const data = new Map<string, unknown>();
    const store = { get: (key: string) => data.get(key), set: (key: string, value: unknown) => void data.set(key, value) };
    const settings = settingsStore(store);
    const window = windowStateStore(store);
    expect(settings.read()).toBeUndefined();
    settings.write(defaultSettings());
    window.write({ x: 1, y: 2, width: 800, height: 600, maximized: false });
    expect(settings.read()).toEqual(defaultSettings());
    expect(window.read()).toEqual({ x: 1, y: 2, width: 800, height: 600, maximized: false });
    expect([...data.keys()].sort()).toEqual([SETTINGS_KEY, WINDOW_STATE_KEY].sort());
  });
});
