// The main window: options with the security flags, size and position remembered across runs
// (kept on a visible display), showing it from anywhere, and closing it into the tray.
import type { BrowserWindowConstructorOptions, Display, Rectangle } from 'electron';
import type { AppPaths } from './paths.ts';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1100, height: 720 };
export const MIN_SIZE = { width: 640, height: 480 };

export interface DisplaySource {
  getAllDisplays(): Array<Pick<Display, 'workArea'>>;
  getPrimaryDisplay(): Pick<Display, 'workArea'>;
}

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function overlapArea(a: Rectangle, b: Rectangle): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

const clamp = (value: number, min: number, max: number): number => Math.max(min, Math.min(value, max));

/**
 * The saved state if it is sane, moved and shrunk to fit inside the display it overlaps most, or
 * the primary display when it overlaps none (a monitor was unplugged). Without one: default size,
 * no position, so Electron centres the window.
 */
export function restoreWindowState(saved: unknown, screen: DisplaySource): WindowState {
  const fresh: WindowState = { ...DEFAULT_SIZE, maximized: false };
  if (typeof saved !== 'object' || saved === null) return fresh;
  const { x, y, width, height, maximized } = saved as Record<string, unknown>;
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height) || width <= 0 || height <= 0) return fresh;
  const bounds = { x, y, width, height };
  let best = screen.getPrimaryDisplay().workArea;
  let bestOverlap = 0;
  for (const { workArea } of screen.getAllDisplays()) {
    const overlap = overlapArea(bounds, workArea);
    if (overlap > bestOverlap) [best, bestOverlap] = [workArea, overlap];
  }
  const w = Math.min(Math.max(width, MIN_SIZE.width), best.width);
  const h = Math.min(Math.max(height, MIN_SIZE.height), best.height);
  return {
    x: clamp(x, best.x, best.x + best.width - w),
    y: clamp(y, best.y, best.y + best.height - h),
    width: w,
    height: h,
    maximized: maximized === true,
  };
}

export function windowOptions(state: WindowState, paths: Pick<AppPaths, 'preload' | 'icon'>): BrowserWindowConstructorOptions {
  const { maximized: _maximized, ...bounds } = state;
  return {
    ...bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'ChatP2P',
    icon: paths.icon,
    // Shown on ready-to-show, so the user never sees an empty white frame.
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: paths.preload,
    },
  };
}

/** The parts of BrowserWindow these functions use; `on` is one overload per event, as in Electron. */
export interface AppWindow {
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  once(event: 'ready-to-show', listener: () => void): unknown;
  getNormalBounds(): Rectangle;
  isMaximized(): boolean;
  maximize(): void;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  hide(): void;
  focus(): void;
  isDestroyed(): boolean;
}

/** Shows the window when its page is ready, maximized if it was, and saves its state when it closes. */
export function rememberWindowState(win: AppWindow, state: WindowState, save: (state: WindowState) => void): void {
  win.once('ready-to-show', () => {
    if (state.maximized) win.maximize();
    win.show();
  });
  // The normal bounds, so a maximized window comes back maximized over the size it had before.
  win.on('close', () => save({ ...win.getNormalBounds(), maximized: win.isMaximized() }));
}

/** Second launch, tray "Open", a notification click: bring the window to the front. */
export function showWindow(win: AppWindow | undefined): void {
  if (win === undefined || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

/** Closing hides the window instead while `keepInTray()` says so; otherwise it closes. */
export function closeToTray(win: AppWindow, keepInTray: () => boolean): void {
  win.on('close', (event) => {
    if (!keepInTray()) return;
    event.preventDefault();
    win.hide();
  });
}
