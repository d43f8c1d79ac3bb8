// IPC: every command has a handler, only the app's own page is answered, and service events reach
// the window until it is gone.
import type { IpcMainInvokeEvent } from 'electron';
import { describe, expect, it } from 'vitest';
import { REFUSED_SENDER, forwardEvents, registerCommandHandlers } from '../../src-main/app/ipc.ts';
import { COMMANDS, EVENT_CHANNEL, commandChannel, type ChatMessage } from '../../src-shared/chat-api.ts';
import { FakeLog, FakeService } from './fakes.ts';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;

function setup() {
  const handlers = new Map<string, Handler>();
  const ipcMain = { handle: (channel: string, handler: Handler) => void handlers.set(channel, handler) };
  const service = new FakeService();
  const log = new FakeLog();
  registerCommandHandlers(ipcMain, service, log);
  const invoke = (channel: string, senderUrl: string | null, ...args: unknown[]) => {
    const event = { senderFrame: senderUrl === null ? null : { url: senderUrl } } as IpcMainInvokeEvent;
    return handlers.get(channel)!(event, ...args);
  };
  return { handlers, service, log, invoke };
}

describe('registerCommandHandlers', () => {
  it('registers one channel per command, and no others', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(COMMANDS.map(commandChannel).sort());
  });

  it("passes the app page's arguments to the service and returns its reply", async () => {
    const { service, invoke } = setup();
    const reply = await invoke('chat:sendDirect', 'app://chatp2p/index.html', 'bob@CIC', 'oi');
    expect(reply).toEqual({ ok: true, value: 'sendDirect done' });
    expect(service.dispatched).toEqual([{ command: 'sendDirect', args: ['bob@CIC', 'oi'] }]);
  });

  it('refuses any other sender with an error reply and a log line', async () => {
    const { service, log, invoke } = setup();
    for (const url of ['https://evil.example/', 'file:///tmp/index.html', 'app://other/index.html', 'devtools://devtools/x', '', null]) {
      expect(await invoke('chat:getSnapshot', url)).toEqual({ ok: false, error: REFUSED_SENDER });
    }
    expect(service.dispatched).toEqual([]);
    expect(log.lines).toHaveLength(6);
    expect(log.lines[0]).toBe('Refused getSnapshot from https://evil.example/');
  });
});

describe('forwardEvents', () => {
  const message: ChatMessage = {
    conversationId: 'dm:alice@CIC', seq: 1, msgId: 'm1', direction: 'in', kind: 'dm', from: 'alice@CIC', to: 'me@CIC', text: 'oi', at: 1,
  };

  it('sends each service event to the window as an envelope, and stops once the window is destroyed', () => {
    const service = new FakeService();
    const sent: unknown[][] = [];
    const contents = { destroyed: false, send: (...args: unknown[]) => void sent.push(args), isDestroyed: () => contents.destroyed };
    forwardEvents(service, () => contents);
    service.emit('message', message);
    service.emit('open-conversation', { conversationId: 'dm:alice@CIC' });
    expect(sent).toEqual([
      [EVENT_CHANNEL, { event: 'message', payload: message }],
      [EVENT_CHANNEL, { event: 'open-conversation', payload: { conversationId: 'dm:alice@CIC' } }],
    ]);
    contents.destroyed = true;
    service.emit('message', message);
    expect(sent).toHaveLength(2);
  });

  it('sends nothing without a window, or after unsubscribing', () => {
    const service = new FakeService();
    const sent: unknown[] = [];
    const windows: Array<{ send: (...args: unknown[]) => void; isDestroyed: () => boolean }> = [];
    const off = forwardEvents(service, () => windows[0]);
    service.emit('peer-removed', { peerId: 'bob@CIC' });
    windows.push({ send: (...args) => void sent.push(args), isDestroyed: () => false });
    off();
    service.emit('peer-removed', { peerId: 'bob@CIC' });
    expect(sent).toEqual([]);
  });
});
