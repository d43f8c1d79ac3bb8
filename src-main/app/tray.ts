// The tray icon: unread count in the tooltip; Open, a "Mute notifications" checkbox bound to
// settings.notifications, and Quit. The menu is rebuilt when settings change from anywhere.
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { ChatService } from '../service/chat-service.ts';

export interface TrayConstructor {
  new (image: NativeImage | string): Pick<Tray, 'setToolTip' | 'setContextMenu' | 'destroy'> & {
    on(event: 'click', listener: () => void): unknown;
  };
}

export interface TrayDeps {
  Tray: TrayConstructor;
  Menu: Pick<typeof Menu, 'buildFromTemplate'>;
  icon: NativeImage | string;
  service: Pick<ChatService, 'settings' | 'updateSettings' | 'on'>;
  open: () => void;
  quit: () => void;
}

export interface AppTray {
  setUnread(count: number): void;
  destroy(): void;
}

export function trayTooltip(unread: number): string {
  if (unread <= 0) return 'ChatP2P';
  return `ChatP2P: ${unread} unread ${unread === 1 ? 'message' : 'messages'}`;
}

export function trayMenuTemplate({ service, open, quit }: Pick<TrayDeps, 'service' | 'open' | 'quit'>): MenuItemConstructorOptions[] {
  return [
    { label: 'Open ChatP2P', click: open },
    {
      label: 'Mute notifications',
      type: 'checkbox',
      checked: !service.settings.notifications,
      // Electron has already flipped `checked` when click runs.
      click: (item) => service.updateSettings({ notifications: !item.checked }),
    },
    { type: 'separator' },
    { label: 'Quit ChatP2P', click: quit },
  ];
}

export function createTray(deps: TrayDeps): AppTray {
  const tray = new deps.Tray(deps.icon);
  const rebuildMenu = () => tray.setContextMenu(deps.Menu.buildFromTemplate(trayMenuTemplate(deps)));
  rebuildMenu();
  tray.setToolTip(trayTooltip(0));
  tray.on('click', deps.open);
  const off = deps.service.on('settings', rebuildMenu);
  return {
    setUnread: (count) => tray.setToolTip(trayTooltip(count)),
    destroy: () => {
      off();
      tray.destroy();
    },
  };
}
