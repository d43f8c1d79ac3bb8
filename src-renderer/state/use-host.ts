// The snapshot the whole UI is drawn from, kept current by the host's events, and reloaded in
// full after the browser host's WebSocket comes back (the host may have restarted meanwhile).

import { useEffect, useState, useSyncExternalStore } from 'react';
import { asChatError, type ChatApi, type ChatError, type ChatPeer, type Snapshot } from '../../src-shared/chat-api.ts';
import type { ConnectionState, HostConnection } from '../runtime/web-chat.ts';

const alwaysOpen = (): ConnectionState => 'open';
const noSubscription = () => () => undefined;

export function useConnectionState(connection: HostConnection | undefined): ConnectionState {
  return useSyncExternalStore(connection?.subscribe ?? noSubscription, connection?.state ?? alwaysOpen);
}

/** Counts reconnections: everything keyed on it reloads from the host. */
export function useHostEpoch(connection: HostConnection | undefined): number {
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    if (!connection) return;
    let dropped = false;
    return connection.subscribe((state) => {
      if (state === 'disconnected') dropped = true;
      if (state === 'open' && dropped) {
        dropped = false;
        setEpoch((e) => e + 1);
      }
    });
  }, [connection]);
  return epoch;
}

const upsertPeer = (peers: ChatPeer[], peer: ChatPeer) =>
  peers.some((p) => p.peerId === peer.peerId) ? peers.map((p) => (p.peerId === peer.peerId ? peer : p)) : [...peers, peer];

export function useSnapshot(chat: ChatApi, epoch: number) {
  const [snapshot, setSnapshot] = useState<Snapshot>();
  const [error, setError] = useState<ChatError>();
  useEffect(() => {
    let alive = true;
    const update = (change: (s: Snapshot) => Snapshot) => setSnapshot((s) => s && change(s));
    const offs = [
      chat.on('status', (status) => update((s) => ({ ...s, status }))),
      chat.on('peer', (peer) => update((s) => ({ ...s, peers: upsertPeer(s.peers, peer) }))),
      chat.on('peer-removed', ({ peerId }) => update((s) => ({ ...s, peers: s.peers.filter((p) => p.peerId !== peerId) }))),
      chat.on('conversations', (conversations) => update((s) => ({ ...s, conversations }))),
      chat.on('settings', (settings) => update((s) => ({ ...s, settings }))),
    ];
    chat.getSnapshot().then(
      (s) => alive && (setSnapshot(s), setError(undefined)),
      (e: unknown) => alive && setError(asChatError(e)),
    );
    return () => {
      alive = false;
      for (const off of offs) off();
    };
  }, [chat, epoch]);
  return { snapshot, error, setSnapshot };
}
