// The app once a profile exists: chat list, the open chat or Settings, peers, logs, status.

import { useEffect, useMemo, useRef, useState } from 'react';
import { BROADCAST, type ConversationId, type Snapshot } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { channelById, channelOrder, channelSections, ownPeerId } from '../state/channels.ts';
import { useChat } from '../state/chat-context.ts';
import { useMediaQuery, usePageVisible } from '../state/use-environment.ts';
import type { Jump } from '../state/use-history.ts';
import { useMessageAlerts } from '../state/use-alerts.ts';
import { useLogs } from '../state/use-logs.ts';
import { useNow } from '../state/use-now.ts';
import { useMessageSearch } from '../state/use-search.ts';
import { useShortcuts } from '../state/use-shortcuts.ts';
import { Conversation } from './Conversation.tsx';
import { InAppNotifications } from './InAppNotifications.tsx';
import { LogView } from './LogView.tsx';
import { PeerPanel } from './PeerPanel.tsx';
import { ReachBanner } from './Reach.tsx';
import { ShortcutsSheet } from './ShortcutsSheet.tsx';
import { SettingsView } from './SettingsView.tsx';
import { Sidebar } from './Sidebar.tsx';
import { StatusBar } from './StatusBar.tsx';

interface MessengerProps {
  snapshot: Snapshot;
  epoch: number;
  onSnapshot: (snapshot: Snapshot) => void;
}

/** What Escape closes, the last opened first (menus and dialogs close themselves). */
const LAYERS = ['search', 'sidebar', 'peers', 'logs', 'settings'] as const;
type Layer = (typeof LAYERS)[number];

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
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  // Below 1100 px the peer panel is a drawer over the chat, closed until asked for; below 800 px
  // the chat list shows avatars only, and opens over the chat to search or filter. Crossing back
  // over either width gives the wide layout again.
  const compact = useMediaQuery('(max-width: 1099px)');
  const narrow = useMediaQuery('(max-width: 799px)');
  const [peersOpen, setPeersOpen] = useState(!compact);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  useEffect(() => setPeersOpen(!compact), [compact]);
  useEffect(() => setSidebarOpen(false), [narrow]);
  const drawer = compact && peersOpen;
  const sidebarOverlay = narrow && sidebarOpen;
  // The open layers, oldest first: Escape closes the last one opened.
  const layers = useRef<Layer[]>([]);
  const isOpen: Record<Layer, boolean> = { search: searchText !== '', sidebar: sidebarOverlay, peers: drawer, logs: logsOpen, settings: view !== 'chat' };
  for (const layer of LAYERS) {
    const listed = layers.current.includes(layer);
    if (isOpen[layer] && !listed) layers.current.push(layer);
    if (!isOpen[layer] && listed) layers.current = layers.current.filter((l) => l !== layer);
  }
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

  // A chat chosen from a drawer or an overlay list: it closes, the chat gets the room.
  const showChat = () => {
    setView('chat');
    if (compact) setPeersOpen(false);
    setSidebarOpen(false);
  };
  const open = (id: ConversationId) => {
    setActiveId(id);
    setJump(undefined);
    showChat();
  };
  const openAt = (conversationId: ConversationId, seq: number) => {
    setActiveId(conversationId);
    setJump((j) => ({ conversationId, seq, token: (j?.token ?? 0) + 1 }));
    showChat();
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

  // For screen readers: a message in the chat on screen is read out; one elsewhere, with its unread count.
  const [announcement, setAnnouncement] = useState('');
  const latest = useRef({ visibleId, conversations: snapshot.conversations });
  latest.current = { visibleId, conversations: snapshot.conversations };
  useEffect(
    () =>
      chat.on('message', (m) => {
        if (m.direction !== 'in') return;
        const { visibleId: onScreen, conversations } = latest.current;
        const unread = (conversations.find((c) => c.id === m.conversationId)?.unread ?? 0) + 1;
        setAnnouncement(m.conversationId === onScreen ? t.announceMessage(m.from, m.text.slice(0, 300)) : t.announceElsewhere(m.from, t.unreadBadge(unread)));
      }),
    [chat, t],
  );

  useMessageAlerts(chat, snapshot, visibleId, open);
  useEffect(() => quietly(chat.setActiveConversation(visibleId)), [chat, visibleId, epoch]);
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) ${t.appName}` : t.appName;
  }, [unreadTotal, t]);

  useShortcuts({
    // At once when the target is on screen, so the next keys typed land in it; else once it is.
    focusFilter: () => {
      // The filter box hides while search results show: leave the search first.
      if (filterRef.current) return filterRef.current.select();
      setSearchText('');
      setSidebarOpen(true);
      requestAnimationFrame(() => filterRef.current?.select());
    },
    focusSearch: () => {
      if (searchRef.current) return searchRef.current.select();
      setSidebarOpen(true);
      requestAnimationFrame(() => searchRef.current?.select());
    },
    focusComposer: () => {
      if (view === 'chat' && composerRef.current) return composerRef.current.focus();
      setView('chat');
      requestAnimationFrame(() => composerRef.current?.focus());
    },
    step: (delta) => {
      const order = channelOrder(sections);
      if (order.length === 0) return;
      const index = order.findIndex((c) => c.id === activeId);
      const next = index === -1 ? (delta === 1 ? 0 : order.length - 1) : (index + delta + order.length) % order.length;
      // The next chat's composer replaces this one's: typing goes on there, not into the page.
      const typing = document.activeElement === composerRef.current;
      open(order[next]!.id);
      if (typing) requestAnimationFrame(() => composerRef.current?.focus());
    },
    showShortcuts: () => setShortcutsOpen(true),
    escape: () => {
      const top = layers.current.at(-1);
      if (top === 'search') setSearchText('');
      else if (top === 'sidebar') setSidebarOpen(false);
      else if (top === 'peers') setPeersOpen(false);
      else if (top === 'logs') setLogsOpen(false);
      else if (top === 'settings') setView('chat');
      else return false;
      // The layer that had the focus is gone: it goes where the user most likely types next.
      requestAnimationFrame(() => (composerRef.current ?? searchRef.current)?.focus());
      return true;
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
      <div className="relative flex min-h-0 flex-1">
        {sidebarOverlay && <div aria-hidden="true" className="w-16 shrink-0" />}
        <Sidebar
          collapsed={narrow && !sidebarOpen}
          overlay={sidebarOverlay}
          onExpand={(focus) => {
            setSidebarOpen(true);
            requestAnimationFrame(() => (focus === 'search' ? searchRef : filterRef).current?.focus());
          }}
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
          <main className="grid flex-1 place-items-center bg-zinc-100/60 p-8 text-center text-sm text-zinc-600 dark:bg-zinc-950 dark:text-zinc-400">
            <p className="max-w-xs">{t.pickChat}</p>
          </main>
        )}
        {peersOpen && <PeerPanel peers={snapshot.peers} status={snapshot.status} queued={queued} now={now} onOpen={open} drawer={compact} onClose={() => setPeersOpen(false)} />}
      </div>
      {shortcutsOpen && <ShortcutsSheet onClose={() => setShortcutsOpen(false)} />}
      <p aria-live="polite" data-testid="announcer" className="sr-only">
        {announcement}
      </p>
      {logsOpen && <LogView logs={logs} level={snapshot.status.logLevel} onClose={() => setLogsOpen(false)} />}
      <InAppNotifications activeId={visibleId} onOpen={open} />
      <StatusBar status={snapshot.status} now={now} logsOpen={logsOpen} onToggleLogs={() => setLogsOpen((o) => !o)} peersOpen={peersOpen} onTogglePeers={() => setPeersOpen((o) => !o)} />
    </div>
  );
}
