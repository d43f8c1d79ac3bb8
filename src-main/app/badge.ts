// The unread total where each desktop shows it: the dock or launcher badge on macOS and Linux, an
// overlay on the taskbar button on Windows (which has no badge count).
import type { App, BrowserWindow, NativeImage } from 'electron';

export interface BadgeDeps {
  platform: NodeJS.Platform;
  app: Pick<App, 'setBadgeCount'>;
  window: Pick<BrowserWindow, 'setOverlayIcon' | 'isDestroyed'> | undefined;
  overlay: NativeImage;
}

export function showUnreadCount(count: number, { platform, app, window, overlay }: BadgeDeps): void {
  if (platform !== 'win32') {
    app.setBadgeCount(count);
    return;
  }
  if (window === undefined || window.isDestroyed()) return;
  if (count > 0) window.setOverlayIcon(overlay, `${count} unread`);
  else window.setOverlayIcon(null, '');
}
