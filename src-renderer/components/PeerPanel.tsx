// Every peer the engine knows: state, direction, namespace, RTT, our DMs waiting for it, and a
// Reconnect action.

import { useState } from 'react';
import { asChatError, dmConversation, type AppStatus, type ChatError, type ChatPeer, type ConversationId } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { useChat } from '../state/chat-context.ts';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icons.tsx';
import { PeerStateDot } from './PeerStateDot.tsx';
import { SecurityBadge } from './Secure.tsx';
import { QueuedBadge } from './QueuedBadge.tsx';
import { ReachLine } from './Reach.tsx';
import { onRovingFocus, onRovingKeyDown } from '../state/roving.ts';

const ORDER: Record<ChatPeer['state'], number> = { open: 0, stale: 1, connecting: 2, failed: 3, closed: 4, offline: 5 };

interface PeerPanelProps {
  peers: ChatPeer[];
  /** The same reach line as the status bar's, so the two never disagree. */
  status: AppStatus;
  /** Our DMs waiting in the outbox, by peer_id. */
  queued: ReadonlyMap<string, number>;
  now: number;
  onOpen: (id: ConversationId) => void;
  /** Over the chat (a window under 1100 px), with its own Close. */
  drawer: boolean;
  onClose: () => void;
}

export function PeerPanel({ peers, status, queued, now, onOpen, drawer, onClose }: PeerPanelProps) {
  const t = useStrings();
  const chat = useChat();
  const [error, setError] = useState<ChatError>();
  const act = (action: Promise<void>) => {
    setError(undefined);
    action.catch((e: unknown) => setError(asChatError(e)));
  };
  const sorted = [...peers].sort((a, b) => ORDER[a.state] - ORDER[b.state] || a.peerId.localeCompare(b.peerId));
  return (
    <aside
      aria-label={t.peers}
      data-layout={drawer ? 'drawer' : 'panel'}
      className={`flex w-80 max-w-full shrink-0 flex-col border-l border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 ${drawer ? 'absolute inset-y-0 right-0 z-20 shadow-xl' : ''}`}
    >
      <div className="flex items-center justify-between px-4 pt-4 pb-2">
        <h2 className="text-sm font-semibold">
          {t.peers} <span className="font-normal text-zinc-600 dark:text-zinc-400">({peers.length})</span>
        </h2>
        <button
          type="button"
          onClick={() => act(chat.discover())}
          title={t.discoverLabel}
          className="flex items-center gap-1 rounded-lg px-2 py-1 text-xs font-medium text-sky-700 hover:bg-sky-100 dark:text-sky-300 dark:hover:bg-sky-900/40"
        >
          <Icon name="refresh" className="size-3.5" />
          {t.discover}
        </button>
        {drawer && (
          <button type="button" onClick={onClose} aria-label={t.close} title={t.close} className="ml-1 rounded-lg p-1.5 text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800">
            <Icon name="close" className="size-4" />
          </button>
        )}
      </div>
      <div className="px-4 pb-2 text-xs text-zinc-700 dark:text-zinc-300">
        <ReachLine status={status} now={now} testId="peer-panel-reach" />
      </div>
      {error && (
        <div role="alert" className="mx-4 mb-2 rounded-md bg-red-50 px-2 py-1 text-xs text-red-700 dark:bg-red-950/50 dark:text-red-300">
          <ErrorText error={error} />
        </div>
      )}
      {sorted.length === 0 ? (
        <p className="px-4 py-2 text-sm text-zinc-600 dark:text-zinc-400">{t.noPeers}</p>
      ) : (
        <ul role="list" aria-label={t.peers} onKeyDown={onRovingKeyDown} onFocus={onRovingFocus} className="flex-1 space-y-1 overflow-y-auto px-2 pb-3">
          {sorted.map((peer, i) => (
            <PeerRow key={peer.peerId} peer={peer} tabStop={i === 0} queued={queued.get(peer.peerId) ?? 0} now={now} onOpen={onOpen} onReconnect={() => act(chat.reconnect(peer.peerId))} />
          ))}
        </ul>
      )}
    </aside>
  );
}

interface PeerRowProps {
  peer: ChatPeer;
  /** The peer list's one Tab stop; arrows move between peers, Right to Reconnect. */
  tabStop: boolean;
  queued: number;
  now: number;
  onOpen: (id: ConversationId) => void;
  onReconnect: () => void;
}

function PeerRow({ peer, tabStop, queued, now, onOpen, onReconnect }: PeerRowProps) {
  const t = useStrings();
  const rtt = peer.avgRttMs ?? peer.lastRttMs;
  const retryIn = peer.nextRetryAt !== undefined && peer.nextRetryAt > now ? Math.ceil((peer.nextRetryAt - now) / 1000) : undefined;
  const details = [`#${peer.namespace}`, retryIn !== undefined && t.retryIn(retryIn)].filter(Boolean);
  // The protocol side (address, who dialed, RTT, the last error) is for the tooltip.
  const advanced = [peer.address, peer.direction && t[peer.direction], rtt !== undefined && t.rtt(rtt), peer.state !== 'open' && peer.lastError].filter(Boolean);
  return (
    <li data-testid={`peer-${peer.peerId}`} data-state={peer.state} className="group flex items-center gap-3 rounded-xl px-2 py-2 hover:bg-zinc-100 dark:hover:bg-zinc-800/60">
      <button type="button" data-roving tabIndex={tabStop ? 0 : -1} onClick={() => onOpen(dmConversation(peer.peerId))} className="flex min-w-0 flex-1 items-center gap-3 text-left" title={advanced.join('\n') || undefined}>
        <Avatar title={peer.peerId} kind="dm" size="size-9" />
        <span className="min-w-0 flex-1">
          <span className="flex items-center justify-between gap-2">
            <span className="truncate text-sm font-medium">{peer.peerId}</span>
            <QueuedBadge count={queued} />
          </span>
          <span className="flex items-center gap-3 text-xs text-zinc-600 dark:text-zinc-300">
            <PeerStateDot state={peer.state} />
            <SecurityBadge peer={peer} />
          </span>
          <span className="block truncate text-xs text-zinc-600 dark:text-zinc-400">{details.join(' · ')}</span>
        </span>
      </button>
      {peer.state !== 'offline' && (
        <button
          type="button"
          onClick={onReconnect}
          data-roving-aside
          tabIndex={-1}
          aria-label={t.reconnectLabel(peer.peerId)}
          title={t.reconnect}
          className="rounded-lg p-1.5 text-zinc-600 hover:bg-zinc-200 hover:text-zinc-800 dark:hover:bg-zinc-700 dark:hover:text-zinc-100 dark:text-zinc-400"
        >
          <Icon name="refresh" className="size-4" />
        </button>
      )}
    </li>
  );
}
