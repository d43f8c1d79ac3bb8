// The app once a profile exists: chat list, the open chat or Settings, peers, logs, status.

import { useEffect, useMemo, useRef, useState } from 'react';
import { BROADCAST, type ConversationId, type Snapshot } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { channelById, channelOrder, channelSections, ownPeerId } from '../state/channels.ts';
import { useChat } from '../state/chat-context.ts';
import { usePageVisible } from '../state/use-environment.ts';
import type { Jump } from '../state/use-history.ts';
import { useMessageAlerts } from '../state/use-alerts.ts';
import { useLogs } from '../state/use-logs.ts';
import { useNow } from '../state/use-now.ts';
import { useMessageSearch } from '../state/use-search.ts';
import { useShortcuts } from '../state/use-shortcuts.ts';
import { Conversation } from './Conversation.tsx';
import { LogView } from './LogView.tsx';
import { PeerPanel } from './PeerPanel.tsx';
import { ReachBanner } from './Reach.tsx';
import { SettingsView } from './SettingsView.tsx';
import { Sidebar } from './Sidebar.tsx';
import { StatusBar } from './StatusBar.tsx';

interface MessengerProps {
  snapshot: Snapshot;
  epoch: number;
  onSnapshot: (snapshot: Snapshot) => void;
}

// Telling the host what is on screen is best effort: a failure (host gone) changes nothing here.
const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);

export function Messenger({ snapshot, epoch, onSnapshot }: MessengerProps) {
  const t = useStrings();
  const chat = useChat();
  const now = useNow();
  const logs = useLogs(chat, epoch);
  const [filter, setFilter] = useState('');
  const [activeId, setActiveId] = useState<ConversationId>();
  // The search hit the open conversation was opened at, if it was.
  const [jump, setJump] = useState<Jump & { conversationId: ConversationId }>();
  const [searchText, setSearchText] = useState('');
  const search = useMessageSearch(chat, searchText, epoch);
  // 'profile': Settings opened at the profile form ("Change server").
  const [view, setView] = useState<'chat' | 'settings' | 'profile'>('chat');
  const [logsOpen, setLogsOpen] = useState(false);
  // The peer panel starts closed where it would squeeze the chat.
  const [peersOpen, setPeersOpen] = useState(() => window.matchMedia('(min-width: 1024px)').matches);
  const filterRef = useRef<HTMLInputElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);

  const sections = useMemo(() => channelSections(snapshot, filter), [snapshot, filter]);
  const everything = useMemo(() => channelSections(snapshot, ''), [snapshot]);
  const active = activeId === undefined ? undefined : channelById(everything, activeId);
  const pageVisible = usePageVisible();
  // What the user is looking at: its messages arrive read.
  const visibleId = view === 'chat' && pageVisible ? activeId : undefined;
  const unreadTotal = snapshot.conversations.reduce((sum, c) => sum + c.unread, 0);

  const open = (id: ConversationId) => {
    setActiveId(id);
    setJump(undefined);
    setView('chat');
  };
  const openAt = (conversationId: ConversationId, seq: number) => {
    setActiveId(conversationId);
    setJump((j) => ({ conversationId, seq, token: (j?.token ?? 0) + 1 }));
    setView('chat');
  };
  const close = () => {
    setActiveId(undefined);
    setJump(undefined);
  };

  // A conversation that leaves the list was deleted (here or by another window): it closes.
  const listed = useMemo(() => new Set(snapshot.conversations.map((c) => c.id)), [snapshot.conversations]);
  const wasListed = useRef(listed);
  useEffect(() => {
    if (activeId !== undefined && wasListed.current.has(activeId) && !listed.has(activeId)) close();
    wasListed.current = listed;
  }, [listed, activeId]);
  const queued = useMemo(() => new Map(snapshot.conversations.filter((c) => c.kind === 'dm').map((c) => [c.title, c.queued])), [snapshot.conversations]);

  useEffect(() => chat.on('open-conversation', ({ conversationId }) => open(conversationId)), [chat]);
  useMessageAlerts(chat, snapshot, visibleId, open);
  useEffect(() => quietly(chat.setActiveConversation(visibleId)), [chat, visibleId, epoch]);
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) ${t.appName}` : t.appName;
  }, [unreadTotal, t]);

  useShortcuts({
    focusFilter: () => {
      // The filter box hides while search results show: leave the search first.
      setSearchText('');
      requestAnimationFrame(() => filterRef.current?.select());
    },
    focusSearch: () => searchRef.current?.select(),
    focusComposer: () => {
      setView('chat');
      requestAnimationFrame(() => composerRef.current?.focus());
    },
    step: (delta) => {
      const order = channelOrder(sections);
      if (order.length === 0) return;
      const index = order.findIndex((c) => c.id === activeId);
      const next = index === -1 ? (delta === 1 ? 0 : order.length - 1) : (index + delta + order.length) % order.length;
      open(order[next]!.id);
    },
  });

  // Registration failed: ask again now (a DISCOVER registers first); not running: start again.
  const retry = () => {
    const profile = snapshot.settings.profile;
    if (snapshot.status.running || !profile) quietly(chat.discover());
    else chat.startProfile(profile).then(onSnapshot, () => undefined);
  };

  const reach = (id: ConversationId) =>
    snapshot.peers.filter((p) => p.state === 'open' && (id === BROADCAST || `#${p.namespace}` === id)).length;

  return (
    <div className="flex h-full flex-col">
      <ReachBanner status={snapshot.status} now={now} onRetry={retry} onChangeServer={() => setView('profile')} />
      <div className="flex min-h-0 flex-1">
        <Sidebar
          sections={sections}
          filter={filter}
          onFilter={setFilter}
          filterRef={filterRef}
          searchText={searchText}
          onSearchText={setSearchText}
          searchRef={searchRef}
          search={search}
          onOpenAt={openAt}
          activeId={visibleId}
          ownPeerId={ownPeerId(snapshot)}
          now={now}
          onOpen={open}
          onSettings={() => setView((v) => (v === 'chat' ? 'settings' : 'chat'))}
          onMarkAllRead={unreadTotal > 0 ? () => quietly(chat.markAllRead()) : undefined}
          settingsOpen={view !== 'chat'}
        />
        {view !== 'chat' ? (
          <SettingsView
            key={view}
            editProfile={view === 'profile'}
            snapshot={snapshot}
            channels={channelOrder(everything).filter((c) => c.kind !== 'dm').map((c) => c.id)}
            onSnapshot={onSnapshot}
            onClose={() => setView('chat')}
          />
        ) : active ? (
          <Conversation
            key={active.id}
            channel={active}
            reach={reach(active.id)}
            epoch={epoch}
            jump={jump?.conversationId === active.id ? jump : undefined}
            composerRef={composerRef}
            onDeleted={close}
            visible={visibleId === active.id}
            muted={snapshot.settings.muted}
            now={now}
          />
        ) : (
          <main className="grid flex-1 place-items-center bg-zinc-100/60 p-8 text-center text-sm text-zinc-500 dark:bg-zinc-950 dark:text-zinc-400">
            <p className="max-w-xs">{t.pickChat}</p>
          </main>
        )}
        {peersOpen && <PeerPanel peers={snapshot.peers} status={snapshot.status} queued={queued} now={now} onOpen={open} />}
      </div>
      {logsOpen && <LogView logs={logs} level={snapshot.status.logLevel} onClose={() => setLogsOpen(false)} />}
      <StatusBar status={snapshot.status} now={now} logsOpen={logsOpen} onToggleLogs={() => setLogsOpen((o) => !o)} peersOpen={peersOpen} onTogglePeers={() => setPeersOpen((o) => !o)} />
    </div>
  );
}
