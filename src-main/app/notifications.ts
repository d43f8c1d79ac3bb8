// Desktop notifications for incoming messages: a pure policy (who notifies, when), the content
// (per platform), and the notifier that shows one and opens its chat when it is clicked.
import type { NotificationConstructorOptions } from 'electron';
import { notifies, senderTitle, type ChatMessage, type ConversationId, type Settings } from '../../src-shared/chat-api.ts';
import type { ModuleLogger } from '../engine/log.ts';
import type { ChatService } from '../service/chat-service.ts';
import { showWindow, type AppWindow } from './window.ts';

export interface NotifyContext {
  /** The window is visible, not minimized, and has the focus. */
  focused: boolean;
  activeConversation: ConversationId | undefined;
  settings: Pick<Settings, 'notifications' | 'notifyChannels'> & Partial<Pick<Settings, 'doNotDisturb' | 'muted'>>;
  now?: number;
}

/** Incoming only; DMs always, channels only when opted in; never muted or in do-not-disturb, nor for the chat the user is reading. */
export function shouldNotify(message: ChatMessage, { focused, activeConversation, settings, now = Date.now() }: NotifyContext): boolean {
  if (message.direction !== 'in') return false;
  if (focused && activeConversation === message.conversationId) return false;
  return notifies(message.conversationId, settings, now);
}

/** Linux notification servers render the body as markup, so a peer's `<b>` must stay text there. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Title: the sender's peer_id (`alice@CIC -> #CIC` for a channel, as the terminal client prints it). */
export function notificationContent(message: ChatMessage, platform: NodeJS.Platform): { title: string; body: string } {
  return {
    title: senderTitle(message),
    body: platform === 'linux' ? escapeMarkup(message.text) : message.text,
  };
}

interface ShownNotification {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  /** macOS and Windows: the system refused it (since Electron 42, an unsigned app on macOS). */
  on(event: 'failed', listener: (event: unknown, error: string) => void): unknown;
}

export interface NotificationConstructor {
  new (options: NotificationConstructorOptions): ShownNotification;
  isSupported(): boolean;
}

export type NotifierWindow = AppWindow & { isVisible(): boolean; isFocused(): boolean };

export interface NotifierDeps {
  Notification: NotificationConstructor;
  platform: NodeJS.Platform;
  service: Pick<ChatService, 'settings' | 'activeConversation' | 'openConversation' | 'notifyInApp'>;
  window: () => NotifierWindow | undefined;
  icon?: string;
  log: Pick<ModuleLogger, 'warn'>;
}

/** The listener for the service's 'message' event. */
export function createNotifier({ Notification, platform, service, window, icon, log }: NotifierDeps): (message: ChatMessage) => void {
  // Electron drops a notification's click handler once the object is garbage-collected, so each
  // one is held until it is clicked or closed.
  const live = new Set<ShownNotification>();
  let failureLogged = false;
  return (message) => {
    const win = window();
    const focused = win !== undefined && !win.isDestroyed() && win.isVisible() && !win.isMinimized() && win.isFocused();
    const context = { focused, activeConversation: service.activeConversation, settings: service.settings };
    if (!shouldNotify(message, context) || !Notification.isSupported()) return;
    const notification = new Notification({ ...notificationContent(message, platform), icon });
    live.add(notification);
    notification.on('click', () => {
      live.delete(notification);
      showWindow(window());
      service.openConversation(message.conversationId);
    });
    notification.on('close', () => live.delete(notification));
    // A refused notification still reaches the user, as a banner in the window.
    notification.on('failed', (_event, error) => {
      live.delete(notification);
      if (!failureLogged) log.warn(`The system refused a desktop notification (${error}); new messages show in the window instead`);
      failureLogged = true;
      service.notifyInApp(message);
    });
    notification.show();
  };
}
