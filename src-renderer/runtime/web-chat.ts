// The ChatApi for a browser tab, where no preload exists: commands and events travel over the
// browser host's WebSocket (src-main/web) as WireRequest / WireReply / EventEnvelope frames.

import {
  COMMANDS,
  isChatError,
  type ChatApi,
  type ChatError,
  type CommandName,
  type EventName,
  type WireMessage,
  type WireRequest,
} from '../../src-shared/chat-api.ts';

export type ConnectionState = 'connecting' | 'open' | 'disconnected';

/** The link to the host, for the "disconnected" banner and to reload everything after a reconnect. */
export interface HostConnection {
  state(): ConnectionState;
  /** Called on every state change; returns the function that unsubscribes. */
  subscribe(listener: (state: ConnectionState) => void): () => void;
}

const DISCONNECTED: ChatError = { code: 'host-disconnected' };
const MAX_BACKOFF_MS = 10_000;

type Pending = { resolve: (value: unknown) => void; reject: (error: ChatError) => void };

export function createWebChat(url: string): { chat: ChatApi; connection: HostConnection } {
  const pending = new Map<number, Pending>();
  // Requests made before the first connection wait for it; after a drop they fail at once.
  const queued: (() => void)[] = [];
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let everOpen = false;
  let socket: WebSocket;
  let nextId = 1;
  let backoffMs = 500;

  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of stateListeners) listener(next);
  };

  const onMessage = (event: MessageEvent) => {
    let message: WireMessage;
    try {
      message = JSON.parse(String(event.data)) as WireMessage;
    } catch {
      return;
    }
    if ('event' in message) {
      for (const listener of listeners.get(message.event) ?? []) (listener as (p: unknown) => void)(message.payload);
      return;
    }
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    if (message.ok) request.resolve(message.value);
    else request.reject(isChatError(message.error) ? message.error : { code: 'unexpected', detail: 'the host sent a malformed reply' });
  };

  const connect = () => {
    socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      everOpen = true;
      backoffMs = 500;
      for (const send of queued.splice(0)) send();
      setState('open');
    });
    socket.addEventListener('message', onMessage);
    socket.addEventListener('close', () => {
      for (const request of pending.values()) request.reject(DISCONNECTED);
      pending.clear();
      setState('disconnected');
      setTimeout(connect, backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    });
  };

  const request = (command: CommandName, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const send = () => {
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, command, args } satisfies WireRequest));
      };
      if (socket.readyState === WebSocket.OPEN) send();
      else if (!everOpen) queued.push(send);
      else reject(DISCONNECTED);
    });

  // Every command is the same request; the contract's types say what each one resolves to.
  const commands = Object.fromEntries(COMMANDS.map((command) => [command, (...args: unknown[]) => request(command, args)])) as Omit<ChatApi, 'on'>;
  const chat: ChatApi = {
    ...commands,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => void set.delete(listener);
    },
  };

  connect();
  return {
    chat,
    connection: {
      state: () => state,
      subscribe(listener) {
        stateListeners.add(listener);
        return () => void stateListeners.delete(listener);
      },
    },
  };
}

/** `ws://host/api?token=...`, the token taken from this page's own `?token=`. */
export function hostSocketUrl(location: Location): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`;
}
