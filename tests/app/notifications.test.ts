// Which incoming messages raise a desktop notification, what it says, and what clicking it does.
import type { NotificationConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src-main/service/settings.ts';
import { createNotifier, notificationContent, shouldNotify, type NotifyContext } from '../../src-main/app/notifications.ts';
import type { ChatMessage, ConversationId } from '../../src-shared/chat-api.ts';
import { FakeLog, FakeService, FakeWindow } from './fakes.ts';

function incoming(conversationId: ConversationId, text = 'oi', from = 'alice@CIC'): ChatMessage {
  const dm = conversationId.startsWith('dm:');
  return { conversationId, seq: 1, msgId: 'm1', direction: 'in', kind: dm ? 'dm' : 'pub', from, to: dm ? 'me@CIC' : conversationId, text, at: 1 };
}

const context = (overrides: Partial<NotifyContext> = {}, settings: Partial<NotifyContext['settings']> = {}): NotifyContext => ({
  focused: false,
  activeConversation: undefined,
  ...overrides,
  settings: { ...defaultSettings(), ...settings },
});

describe('shouldNotify', () => {
  const dm = incoming('dm:alice@CIC');

  it('notifies a direct message while the window is unfocused, even with its chat open', () => {
    expect(shouldNotify(dm, context())).toBe(true);
    expect(shouldNotify(dm, context({ activeConversation: 'dm:alice@CIC' }))).toBe(true);
  });

  it('notifies a direct message when the focused window shows another chat, not the same one', () => {
    expect(shouldNotify(dm, context({ focused: true, activeConversation: 'dm:bob@CIC' }))).toBe(true);
    expect(shouldNotify(dm, context({ focused: true, activeConversation: undefined }))).toBe(true);
    expect(shouldNotify(dm, context({ focused: true, activeConversation: 'dm:alice@CIC' }))).toBe(false);
  });

  it('never notifies our own messages', () => {
    expect(shouldNotify({ ...dm, direction: 'out', from: 'me@CIC' }, context())).toBe(false);
  });

  it('notifies namespace and broadcast messages only for channels the user opted into', () => {
    expect(shouldNotify(incoming('#CIC'), context())).toBe(false);
    expect(shouldNotify(incoming('*'), context())).toBe(false);
    expect(shouldNotify(incoming('#CIC'), context({}, { notifyChannels: ['#CIC'] }))).toBe(true);
    expect(shouldNotify(incoming('*'), context({}, { notifyChannels: ['#CIC', '*'] }))).toBe(true);
    expect(shouldNotify(incoming('#LAB'), context({}, { notifyChannels: ['#CIC', '*'] }))).toBe(false);
  });

  it('says nothing at all while notifications are muted', () => {
    const muted = { notifications: false, notifyChannels: ['#CIC'] };
    expect(shouldNotify(dm, context({}, muted))).toBe(false);
    expect(shouldNotify(incoming('#CIC'), context({}, muted))).toBe(false);
  });
});

describe('notificationContent', () => {
  const text = '<b>5 < 6</b> & "ok"';

  it('escapes markup on Linux, whose notification servers parse the body', () => {
    expect(notificationContent(incoming('dm:alice@CIC', text), 'linux')).toEqual({
      title: 'alice@CIC',
      body: '&lt;b&gt;5 &lt; 6&lt;/b&gt; &amp; "ok"',
    });
  });

  it('leaves the text as it is on Windows and macOS', () => {
    for (const platform of ['win32', 'darwin'] as const) {
      expect(notificationContent(incoming('dm:alice@CIC', text), platform)).toEqual({ title: 'alice@CIC', body: text });
    }
  });

  it('names the channel after the sender for namespace and broadcast messages', () => {
    expect(notificationContent(incoming('#CIC', 'hi all'), 'win32').title).toBe('alice@CIC -> #CIC');
    expect(notificationContent(incoming('*', 'hi all', 'bob@LAB'), 'linux').title).toBe('bob@LAB -> *');
  });

  it('says a DM from a connection that could not prove the pinned key is unverified, and lets it notify as a DM', () => {
    const impostor = incoming('dm-unverified:alice@CIC', 'sou a alice');
    expect(notificationContent(impostor, 'linux').title).toBe('alice@CIC, unverified');
    expect(shouldNotify(impostor, context())).toBe(true);
  });
});

describe('createNotifier', () => {
  function setup({ supported = true } = {}) {
    const shown: FakeNotification[] = [];
    class FakeNotification {
      static isSupported = () => supported;
      readonly handlers = new Map<string, (event: unknown, error: string) => void>();
      readonly options: NotificationConstructorOptions;
      constructor(options: NotificationConstructorOptions) {
        this.options = options;
      }
      on(event: string, listener: (event: unknown, error: string) => void) {
        this.handlers.set(event, listener);
        return this;
      }
      show() {
        shown.push(this);
      }
      click() {
        this.handlers.get('click')?.({}, '');
      }
      fail(error: string) {
        this.handlers.get('failed')?.({}, error);
      }
    }
    const service = new FakeService();
    const window = new FakeWindow();
    const opened: string[] = [];
    service.on('open-conversation', ({ conversationId }) => opened.push(conversationId));
    const inApp: ChatMessage[] = [];
    service.on('in-app-notification', (message) => inApp.push(message));
    const log = new FakeLog();
    const notify = createNotifier({ Notification: FakeNotification, platform: 'linux', service, window: () => window, icon: '/app/icon.png', log });
    return { notify, shown, service, window, opened, inApp, log };
  }

  it('shows the sender and the escaped text while the window is in the background', () => {
    const { notify, shown } = setup();
    notify(incoming('dm:alice@CIC', 'tom & jerry'));
    expect(shown.map((n) => n.options)).toEqual([{ title: 'alice@CIC', body: 'tom &amp; jerry', icon: '/app/icon.png' }]);
  });

  it('brings the window back and opens the chat when the notification is clicked', () => {
    const { notify, shown, window, opened } = setup();
    window.hide();
    window.minimized = true;
    notify(incoming('dm:alice@CIC'));
    shown[0]!.click();
    expect(window).toMatchObject({ visible: true, focused: true, minimized: false });
    expect(opened).toEqual(['dm:alice@CIC']);
  });

  it('stays quiet for the chat on screen in the focused window, but not once the window is minimized', () => {
    const { notify, shown, service, window } = setup();
    window.focus();
    service.activeConversation = 'dm:alice@CIC';
    notify(incoming('dm:alice@CIC'));
    expect(shown).toHaveLength(0);
    window.minimized = true;
    notify(incoming('dm:alice@CIC'));
    expect(shown).toHaveLength(1);
  });

  it('follows the current settings and shows nothing where notifications are unsupported', () => {
    const { notify, shown, service } = setup();
    service.updateSettings({ notifications: false });
    notify(incoming('dm:alice@CIC'));
    expect(shown).toHaveLength(0);
    const unsupported = setup({ supported: false });
    unsupported.notify(incoming('dm:alice@CIC'));
    expect(unsupported.shown).toHaveLength(0);
  });

  it('shows a message the system refused to notify as a banner in the window, and logs it once', () => {
    const { notify, shown, inApp, log } = setup();
    const first = incoming('dm:alice@CIC', 'first');
    const second = incoming('dm:alice@CIC', 'second');
    notify(first);
    notify(second);
    shown[0]!.fail('Notifications are not allowed');
    shown[1]!.fail('Notifications are not allowed');
    expect(inApp).toEqual([first, second]);
    expect(log.lines).toEqual(['The system refused a desktop notification (Notifications are not allowed); new messages show in the window instead']);
  });
});

describe('mute and do-not-disturb', () => {
  const message = incoming('dm:bob@CIC');
  const base = { notifications: true, notifyChannels: [] };
  const notified = (settings: Parameters<typeof shouldNotify>[1]['settings'], now = 1_000) => shouldNotify(message, { focused: false, activeConversation: undefined, settings, now });

  it('a chat muted until later is silent until then; always is silent; do-not-disturb silences all', () => {
    expect(notified({ ...base, muted: { 'dm:bob@CIC': 2_000 } })).toBe(false);
    expect(notified({ ...base, muted: { 'dm:bob@CIC': 2_000 } }, 2_000)).toBe(true);
    expect(notified({ ...base, muted: { 'dm:bob@CIC': 'always' } }, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(notified({ ...base, muted: { 'dm:carol@CIC': 'always' } })).toBe(true);
    expect(notified({ ...base, doNotDisturb: true })).toBe(false);
    expect(notified(base)).toBe(true);
  });
});
