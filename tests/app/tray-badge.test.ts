// What the user sees of unread messages outside the window (dock badge, taskbar overlay, tray
// tooltip) and what the tray menu does.
import type { KeyboardEvent, Menu as ElectronMenu, MenuItem, MenuItemConstructorOptions, NativeImage } from 'electron';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { showUnreadCount } from '../../src-main/app/badge.ts';
import { installQuitSequence } from '../../src-main/app/quit.ts';
import { createTray } from '../../src-main/app/tray.ts';
import { showWindow } from '../../src-main/app/window.ts';
import { FakeLog, FakeService, FakeWindow, fakeEvent } from './fakes.ts';

const overlay = { name: 'red dot' } as unknown as NativeImage;

describe('showUnreadCount', () => {
  function badge(platform: NodeJS.Platform, count: number, window = new FakeWindow()) {
    const app = { badge: 0, setBadgeCount: (n?: number) => ((app.badge = n ?? 0), true) };
    showUnreadCount(count, { platform, app, window, overlay });
    return { badge: app.badge, overlays: window.overlays };
  }

  it('puts the count on the dock or launcher icon on macOS and Linux', () => {
    expect(badge('darwin', 3)).toEqual({ badge: 3, overlays: [] });
    expect(badge('linux', 7)).toEqual({ badge: 7, overlays: [] });
    expect(badge('darwin', 0).badge).toBe(0);
  });

  it('puts a red overlay on the Windows taskbar button, and removes it at zero', () => {
    expect(badge('win32', 3)).toEqual({ badge: 0, overlays: [{ image: overlay, description: '3 unread' }] });
    expect(badge('win32', 0).overlays).toEqual([{ image: null, description: '' }]);
  });

  it('does nothing on Windows once the window is gone', () => {
    const closed = new FakeWindow();
    closed.close();
    expect(badge('win32', 2, closed).overlays).toEqual([]);
  });
});

describe('createTray', () => {
  function setup() {
    const trays: FakeTray[] = [];
    class FakeTray extends EventEmitter {
      tooltip = '';
      menu: MenuItemConstructorOptions[] = [];
      destroyed = false;
      constructor() {
        super();
        trays.push(this);
      }
      setToolTip(text: string) {
        this.tooltip = text;
      }
      setContextMenu(menu: unknown) {
        this.menu = menu as MenuItemConstructorOptions[];
      }
      destroy() {
        this.destroyed = true;
      }
    }
    // The fake Menu keeps the template, so the test can read and click its items.
    const Menu = { buildFromTemplate: (template: unknown) => template as ElectronMenu };
    const service = new FakeService();
    const window = new FakeWindow();
    window.hide();
    const app = Object.assign(new EventEmitter(), {
      exited: false,
      quit() {
        const event = fakeEvent();
        app.emit('before-quit', event);
        if (!event.defaultPrevented) app.exited = true;
      },
    });
    let stops = 0;
    const sequence = installQuitSequence(app, async () => void stops++, new FakeLog());
    const tray = createTray({ Tray: FakeTray, Menu, icon: 'tray.png', service, open: () => showWindow(window), quit: sequence.quit });
    const item = (label: string) => trays[0]!.menu.find((i) => i.label === label)!;
    const click = (label: string, checked?: boolean) => item(label).click!({ checked } as MenuItem, undefined, {} as KeyboardEvent);
    return { tray, fake: trays[0]!, service, window, app, item, click, stopped: () => stops };
  }

  it('shows the unread count in the tooltip', () => {
    const { tray, fake } = setup();
    expect(fake.tooltip).toBe('ChatP2P');
    tray.setUnread(1);
    expect(fake.tooltip).toBe('ChatP2P: 1 unread message');
    tray.setUnread(12);
    expect(fake.tooltip).toBe('ChatP2P: 12 unread messages');
    tray.setUnread(0);
    expect(fake.tooltip).toBe('ChatP2P');
  });

  it('opens the window from the menu and from a click on the icon', () => {
    const { fake, window, click } = setup();
    click('Open ChatP2P');
    expect(window).toMatchObject({ visible: true, focused: true });
    window.hide();
    fake.emit('click');
    expect(window).toMatchObject({ visible: true, focused: true });
  });

  it('mutes and unmutes notifications, and the checkbox follows changes made in the window', () => {
    const { service, item, click } = setup();
    expect(item('Mute notifications')).toMatchObject({ type: 'checkbox', checked: false });
    click('Mute notifications', true);
    expect(service.settings.notifications).toBe(false);
    expect(item('Mute notifications').checked).toBe(true);
    service.updateSettings({ notifications: true });
    expect(item('Mute notifications').checked).toBe(false);
  });

  it('quits through the quit sequence: the service stops before the app exits', async () => {
    const { app, click, stopped } = setup();
    click('Quit ChatP2P');
    expect(app.exited).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped()).toBe(1);
    expect(app.exited).toBe(true);
  });

  it('stops following settings once destroyed', () => {
    const { tray, fake, service } = setup();
    tray.destroy();
    const menu = fake.menu;
    service.updateSettings({ notifications: false });
    expect(fake).toMatchObject({ destroyed: true, menu });
  });
});
