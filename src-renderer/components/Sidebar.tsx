// The chat list: message search box, filter box, then Direct chats, Namespaces and Broadcast.
// While the search box has text, its results take the list's place.

import { useId, useRef, type RefObject } from 'react';
import { LIMITS, type ConversationId } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { channelOrder, type Channel, type ChannelSections } from '../state/channels.ts';
import { onRovingFocus, onRovingKeyDown } from '../state/roving.ts';
import type { SearchState } from '../state/use-search.ts';
import { ChannelItem } from './ChannelItem.tsx';
import { Icon } from './Icons.tsx';
import { SearchResults } from './SearchResults.tsx';

interface SidebarProps {
  sections: ChannelSections;
  filter: string;
  onFilter: (text: string) => void;
  filterRef: RefObject<HTMLInputElement | null>;
  searchText: string;
  onSearchText: (text: string) => void;
  searchRef: RefObject<HTMLInputElement | null>;
  search: SearchState;
  onOpenAt: (conversationId: ConversationId, seq: number) => void;
  activeId: ConversationId | undefined;
  ownPeerId: string | undefined;
  now: number;
  onOpen: (id: ConversationId) => void;
  onSettings: () => void;
  settingsOpen: boolean;
  /** Narrow window: avatars only, until `onExpand` opens it over the chat. */
  collapsed: boolean;
  /** Opened over the chat in a narrow window. */
  overlay: boolean;
  onExpand: (focus: 'search' | 'filter') => void;
  /** Marks every chat read; undefined while nothing is unread. */
  onMarkAllRead: (() => void) | undefined;
}

export function Sidebar(props: SidebarProps) {
  const { sections, filter, onFilter, filterRef, searchText, onSearchText, searchRef, search, onOpenAt, activeId, ownPeerId, now, onOpen, onSettings, settingsOpen, collapsed, overlay, onExpand, onMarkAllRead } = props;
  const t = useStrings();
  const results = useRef<HTMLUListElement>(null);
  const searching = searchText !== '';
  const groups: { key: keyof ChannelSections; label: string; empty?: string }[] = [
    { key: 'direct', label: t.directChats, empty: filter ? undefined : t.noDirectChats },
    { key: 'namespaces', label: t.namespaces },
    { key: 'broadcast', label: t.broadcast },
  ];
  const nothing = filter && groups.every((g) => sections[g.key].length === 0);
  // The chat list is one Tab stop: the open chat, else the first; arrows move within it.
  const order = channelOrder(sections);
  const tabStop = order.some((c) => c.id === activeId) ? activeId : order[0]?.id;
  return (
    <nav
      aria-label={t.chats}
      data-layout={collapsed ? 'avatars' : overlay ? 'overlay' : 'full'}
      className={`flex shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 ${
        collapsed ? 'w-16 items-center' : overlay ? 'absolute inset-y-0 left-0 z-30 w-72 shadow-xl' : 'w-72'
      }`}
    >
      <div className={`flex items-center gap-2 pt-3 pb-2 ${collapsed ? 'flex-col px-2' : 'px-3'}`}>
        <div className={collapsed ? 'sr-only' : 'min-w-0 flex-1'}>
          <div className="text-base font-semibold">{t.appName}</div>
          {ownPeerId && <div className="truncate text-xs text-zinc-600 dark:text-zinc-400" data-testid="own-peer-id">{t.youAre(ownPeerId)}</div>}
        </div>
        {collapsed && (
          <button type="button" onClick={() => onExpand('search')} aria-label={t.searchLabel} title={t.searchLabel} className="rounded-lg p-2 text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800">
            <Icon name="search" />
          </button>
        )}
        {onMarkAllRead && (
          <button type="button" onClick={onMarkAllRead} aria-label={t.markAllRead} title={t.markAllRead} className="rounded-lg p-2 text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800">
            <Icon name="checks" />
          </button>
        )}
        <button
          type="button"
          onClick={onSettings}
          aria-label={t.settings}
          aria-pressed={settingsOpen}
          title={t.settings}
          className={`rounded-lg p-2 text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800 ${settingsOpen ? 'bg-zinc-200 dark:bg-zinc-800' : ''}`}
        >
          <Icon name="settings" />
        </button>
      </div>
      <div className={collapsed ? 'hidden' : 'space-y-2 px-3 pb-2'}>
        <SidebarBox
          inputRef={searchRef}
          icon="search"
          value={searchText}
          onValue={onSearchText}
          placeholder={t.searchPlaceholder}
          label={t.searchLabel}
          maxLength={LIMITS.maxSearchChars}
          onDown={() => results.current?.querySelector('button')?.focus()}
        />
        {!searching && !collapsed && <SidebarBox inputRef={filterRef} icon="users" value={filter} onValue={onFilter} placeholder={t.filterPlaceholder} label={t.filterLabel} />}
      </div>
      <div className="w-full flex-1 overflow-y-auto px-2 pb-3">
        {searching && !collapsed ? (
          <SearchResults text={searchText} search={search} ownPeerId={ownPeerId} now={now} onOpenAt={onOpenAt} listRef={results} />
        ) : (
          <div onKeyDown={onRovingKeyDown} onFocus={onRovingFocus}>
            {nothing && <p className="px-3 py-4 text-sm text-zinc-600 dark:text-zinc-400">{t.noMatches}</p>}
            {groups.map(({ key, label, empty }) => (
              <ChannelGroup key={key} label={label} empty={empty} channels={sections[key]} activeId={activeId} tabStop={tabStop} collapsed={collapsed} ownPeerId={ownPeerId} now={now} onOpen={onOpen} />
            ))}
          </div>
        )}
      </div>
    </nav>
  );
}

interface SidebarBoxProps {
  inputRef: RefObject<HTMLInputElement | null>;
  icon: 'search' | 'users';
  value: string;
  onValue: (text: string) => void;
  placeholder: string;
  label: string;
  maxLength?: number;
  /** The Down key: into what the box found. */
  onDown?: () => void;
}

/** A search field; Escape empties it. */
function SidebarBox({ inputRef, icon, value, onValue, placeholder, label, maxLength, onDown }: SidebarBoxProps) {
  return (
    <div className="relative">
      <span className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-zinc-600 dark:text-zinc-400">
        <Icon name={icon} className="size-4" />
      </span>
      <input
        ref={inputRef}
        type="search"
        value={value}
        maxLength={maxLength}
        onChange={(e) => onValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && value !== '') {
            e.preventDefault();
            onValue('');
          }
          else if (e.key === 'ArrowDown' && onDown) {
            e.preventDefault();
            onDown();
          }
        }}
        placeholder={placeholder}
        aria-label={label}
        className="w-full rounded-lg border border-transparent bg-zinc-200/70 py-1.5 pr-3 pl-8 text-sm outline-none placeholder:text-zinc-500 focus:border-sky-500 focus:bg-white dark:bg-zinc-800 dark:focus:bg-zinc-900"
      />
    </div>
  );
}

interface ChannelGroupProps {
  label: string;
  empty: string | undefined;
  channels: Channel[];
  activeId: ConversationId | undefined;
  tabStop: ConversationId | undefined;
  collapsed: boolean;
  ownPeerId: string | undefined;
  now: number;
  onOpen: (id: ConversationId) => void;
}

function ChannelGroup({ label, empty, channels, activeId, tabStop, collapsed, ownPeerId, now, onOpen }: ChannelGroupProps) {
  const id = useId();
  if (channels.length === 0 && !empty) return null;
  return (
    <section aria-labelledby={id} className="mt-2">
      <h2 id={id} className={collapsed ? 'sr-only' : 'px-2.5 pb-1 text-[11px] font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400'}>
        {label}
      </h2>
      {channels.length === 0 ? (
        <p className={collapsed ? 'sr-only' : 'px-2.5 py-1 text-xs text-zinc-600 dark:text-zinc-400'}>{empty}</p>
      ) : (
        <ul role="list" className="space-y-0.5">
          {channels.map((c) => (
            <ChannelItem key={c.id} channel={c} active={c.id === activeId} tabStop={c.id === tabStop} collapsed={collapsed} ownPeerId={ownPeerId} now={now} onOpen={onOpen} />
          ))}
        </ul>
      )}
    </section>
  );
}
