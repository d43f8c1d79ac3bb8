// The preload's ChatApi over a fake ipcRenderer: commands unwrap replies, events are filtered and
// can be unsubscribed.
import type { IpcRendererEvent } from 'electron';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createChatBridge, type BridgeIpc } from '../../src-preload/chat-bridge.ts';
import { COMMANDS, EVENT_CHANNEL, type AppStatus, type ChatMessage } from '../../src-shared/chat-api.ts';

class FakeIpcRenderer extends EventEmitter {
  readonly invoked: unknown[][] = [];
  reply: unknown = { ok: true, value: undefined };
  async invoke(channel: string, ...args: unknown[]) {
    this.invoked.push([channel, ...args]);
    return this.reply;
  }
  /** What main's webContents.send delivers. */
  deliver(envelope: unknown) {
    this.emit(EVENT_CHANNEL, {} as IpcRendererEvent, envelope);
  }
}

function setup() {
  const ipc = new FakeIpcRenderer();
  return { ipc, chat: createChatBridge(ipc as unknown as BridgeIpc) };
}

const message = { conversationId: 'dm:bob@CIC', seq: 1, msgId: 'm1', direction: 'in', kind: 'dm', from: 'bob@CIC', to: 'me@CIC', text: 'oi', at: 1 } satisfies ChatMessage;

describe('createChatBridge commands', () => {
  it('has exactly one method per command, plus on', () => {
    expect(Object.keys(setup().chat).sort()).toEqual([...COMMANDS, 'on'].sort());
  });

  it('invokes the command channel with the arguments and resolves the value', async () => {
    const { ipc, chat } = setup();
    ipc.reply = { ok: true, value: message };
    await expect(chat.sendDirect('bob@CIC', 'oi')).resolves.toEqual(message);
    ipc.reply = { ok: true };
    await expect(chat.discover()).resolves.toBeUndefined();
    expect(ipc.invoked).toEqual([['chat:sendDirect', 'bob@CIC', 'oi'], ['chat:discover']]);
  });

  it("rejects with the service's ChatError, code and details whole", async () => {
    const { ipc, chat } = setup();
    const error = { code: 'port-in-use', port: 19512, detail: 'port 19512 is already in use on 127.0.0.1' };
    ipc.reply = { ok: false, error };
    await expect(chat.sendDirect('bob@CIC', 'oi')).rejects.toEqual(error);
  });

  it('rejects malformed replies', async () => {
    const { ipc, chat } = setup();
    for (const reply of [undefined, null, 'ok', { value: 1 }, { ok: 'yes' }]) {
      ipc.reply = reply;
      await expect(chat.getSnapshot()).rejects.toEqual({ code: 'unexpected', detail: 'the app sent a malformed reply' });
    }
    for (const error of [{ code: 1 }, 'bob@CIC is not connected', { code: 'no-such-code' }]) {
      ipc.reply = { ok: false, error };
      await expect(chat.getSnapshot()).rejects.toEqual({ code: 'unexpected', detail: 'the command failed' });
    }
  });
});

describe('createChatBridge events', () => {
  it('delivers only the subscribed event, and ignores malformed envelopes', () => {
    const { ipc, chat } = setup();
    const messages: ChatMessage[] = [];
    chat.on('message', (m) => messages.push(m));
    ipc.deliver({ event: 'status', payload: {} as AppStatus });
    ipc.deliver({ event: 'message', payload: message });
    for (const bad of [undefined, null, 'message', { event: 'message' }, { payload: message }, { event: 7, payload: message }]) {
      expect(() => ipc.deliver(bad)).not.toThrow();
    }
    expect(messages).toEqual([message]);
  });

  it('stops delivering after unsubscribe, and leaves no IPC listener behind', () => {
    const { ipc, chat } = setup();
    const seen: string[] = [];
    const listener = (m: ChatMessage) => seen.push(m.text);
    const offFirst = chat.on('message', listener);
    const offSecond = chat.on('message', listener);
    const offPeer = chat.on('peer-removed', ({ peerId }) => seen.push(peerId));
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(1);
    ipc.deliver({ event: 'message', payload: message });
    offFirst();
    offFirst();
    ipc.deliver({ event: 'message', payload: message });
    offSecond();
    ipc.deliver({ event: 'message', payload: message });
    ipc.deliver({ event: 'peer-removed', payload: { peerId: 'bob@CIC' } });
    offPeer();
    expect(seen).toEqual(['oi', 'oi', 'oi', 'bob@CIC']);
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(0);
    chat.on('message', listener);
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(1);
  });
});
