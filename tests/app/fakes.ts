// Stand-ins for what cannot run here (Electron's objects) and for the service, recording what a
// user would see: whether the window is shown and focused, what a notification says, and so on.
import { EventEmitter } from 'node:events';
import type { Rectangle } from 'electron';
import type { ChatEvents, ChatMessage, CommandReply, ConversationId, EventEnvelope, EventName, Settings, SettingsPatch } from '../../src-shared/chat-api.ts';
import { applyPatch, defaultSettings } from '../../src-main/service/settings.ts';

export class FakeService {
  current: Settings = defaultSettings();
  activeConversation: ConversationId | undefined;
  unread = 0;
  readonly dispatched: Array<{ command: unknown; args: unknown }> = [];
  private readonly events = new EventEmitter();

  get settings(): Settings {
    return structuredClone(this.current);
  }
  totalUnread(): number {
    return this.unread;
  }
  updateSettings(patch: SettingsPatch): Settings {
    this.current = applyPatch(this.current, patch);
    this.emit('settings', this.settings);
    return this.settings;
  }
  openConversation(conversationId: ConversationId): void {
    this.emit('open-conversation', { conversationId });
  }
  notifyInApp(message: ChatMessage): void {
    this.emit('in-app-notification', message);
  }
  async dispatch(command: unknown, args: unknown): Promise<CommandReply> {
    this.dispatched.push({ command, args });
    return { ok: true, value: `${String(command)} done` };
  }
  on<K extends EventName>(event: K, listener: (payload: ChatEvents[K]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }
  onEvent(listener: (envelope: EventEnvelope) => void): () => void {
    this.events.on('*', listener);
    return () => this.events.off('*', listener);
  }
  emit<K extends EventName>(event: K, payload: ChatEvents[K]): void {
    this.events.emit(event, payload);
    this.events.emit('*', { event, payload });
  }
}

export class FakeLog {
  readonly lines: string[] = [];
  debug = (m: string | (() => string)) => this.lines.push(typeof m === 'function' ? m() : m);
  info = (m: string) => this.lines.push(m);
  warn = (m: string) => this.lines.push(m);
  error = (m: string) => this.lines.push(m);
}

/** An Electron-style event: listeners may call preventDefault. */
export function fakeEvent<T extends object>(fields: T = {} as T): T & { preventDefault(): void; defaultPrevented: boolean } {
  const event = {
    ...fields,
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

/** A BrowserWindow as the user sees it: visible or not, focused or not, minimized, closed. */
export class FakeWindow extends EventEmitter {
  visible = true;
  focused = false;
  minimized = false;
  maximized = false;
  destroyed = false;
  bounds: Rectangle = { x: 100, y: 80, width: 1000, height: 700 };
  readonly overlays: Array<{ image: unknown; description: string }> = [];

  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
    this.focused = false;
  }
  focus(): void {
    this.focused = true;
  }
  restore(): void {
    this.minimized = false;
  }
  maximize(): void {
    this.maximized = true;
  }
  isVisible = () => this.visible;
  isFocused = () => this.focused;
  isMinimized = () => this.minimized;
  isMaximized = () => this.maximized;
  isDestroyed = () => this.destroyed;
  getNormalBounds = () => this.bounds;
  setOverlayIcon(image: unknown, description: string): void {
    this.overlays.push({ image, description });
  }
  /** What clicking the close button does: 'close' listeners may prevent it. */
  close(): void {
    const event = fakeEvent();
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
  }
}
