// The ChatApi over Electron IPC: one method per command (invoke, then unwrap the CommandReply)
// and `on` for events. Kept apart from preload.ts so it is tested with a fake ipcRenderer.
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import {
  COMMANDS,
  EVENT_CHANNEL,
  commandChannel,
  isChatError,
  type ChatApi,
  type ChatError,
  type ChatEvents,
  type EventName,
} from '../src-shared/chat-api.ts';

export type BridgeIpc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

// A refusal rejects with the ChatError itself: a plain object crosses the context bridge whole,
// where an Error would keep only its message.
function unwrap(reply: unknown): unknown {
  if (typeof reply === 'object' && reply !== null && 'ok' in reply) {
    if (reply.ok === true) return (reply as { value?: unknown }).value;
    if (reply.ok === false) {
      const error = (reply as { error?: unknown }).error;
      throw isChatError(error) ? error : ({ code: 'unexpected', detail: 'the command failed' } satisfies ChatError);
    }
  }
  throw { code: 'unexpected', detail: 'the app sent a malformed reply' } satisfies ChatError;
}

export function createChatBridge(ipc: BridgeIpc): ChatApi {
  const commands = Object.fromEntries(
    COMMANDS.map((command) => [
      command,
      async (...args: unknown[]) => unwrap(await ipc.invoke(commandChannel(command), ...args)),
    ]),
  );

  // One IPC listener for all subscribers, attached while there is at least one: the renderer
  // may subscribe dozens of times, past EventEmitter's leak warning.
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let count = 0;
  const dispatch = (_event: IpcRendererEvent, envelope: unknown) => {
    if (typeof envelope !== 'object' || envelope === null || !('event' in envelope) || !('payload' in envelope)) return;
    if (typeof envelope.event !== 'string') return;
    for (const listener of [...(listeners.get(envelope.event) ?? [])]) listener(envelope.payload);
  };

  function on<K extends EventName>(event: K, listener: (payload: ChatEvents[K]) => void): () => void {
    // A wrapper per subscription, so the same function subscribed twice unsubscribes one at a time.
    const entry = (payload: unknown) => listener(payload as ChatEvents[K]);
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set.add(entry));
    if (count++ === 0) ipc.on(EVENT_CHANNEL, dispatch);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      set.delete(entry);
      if (--count === 0) ipc.removeListener(EVENT_CHANNEL, dispatch);
    };
  }

  // Object.fromEntries cannot carry the per-command types; COMMANDS is checked against ChatCommands.
  return { ...commands, on } as unknown as ChatApi;
}
