// The chat list: message search box, filter box, then Direct chats, Namespaces and Broadcast.
// While the search box has text, its results take the list's place.

import { useId, useRef, type RefObject } from 'react';
import { LIMITS, type ConversationId } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import type { Channel, ChannelSections } from '../state/channels.ts';
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
  /** Marks every chat read; undefined while nothing is unread. */
  onMarkAllRead: (() => void) | undefined;
}

export function Sidebar({ sections, filter, onFilter, filterRef, searchText, onSearchText, searchRef, search, onOpenAt, activeId, ownPeerId, now, onOpen, onSettings, settingsOpen, onMarkAllRead }: SidebarProps) {
  const t = useStrings();
  const results = useRef<HTMLUListElement>(null);
  const searching = searchText !== '';
  const groups: { key: keyof ChannelSections; label: string; empty?: string }[] = [
    { key: 'direct', label: t.directChats, empty: filter ? undefined : t.noDirectChats },
    { key: 'namespaces', label: t.namespaces },
    { key: 'broadcast', label: t.broadcast },
  ];
  const nothing = filter && groups.every((g) => sections[g.key].length === 0);
  return (
    <nav aria-label={t.chats} className="flex w-72 shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900/60">
      <div className="flex items-center gap-2 px-3 pt-3 pb-2">
        <div className="min-w-0 flex-1">
          <div className="text-base font-semibold">{t.appName}</div>
          {ownPeerId && <div className="truncate text-xs text-zinc-500 dark:text-zinc-400" data-testid="own-peer-id">{t.youAre(ownPeerId)}</div>}
        </div>
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
      <div className="space-y-2 px-3 pb-2">
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
        {!searching && <SidebarBox inputRef={filterRef} icon="users" value={filter} onValue={onFilter} placeholder={t.filterPlaceholder} label={t.filterLabel} />}
      </div>
      <div className="flex-1 overflow-y-auto px-2 pb-3">
        {searching ? (
          <SearchResults text={searchText} search={search} ownPeerId={ownPeerId} now={now} onOpenAt={onOpenAt} listRef={results} />
        ) : (
          <>
            {nothing && <p className="px-3 py-4 text-sm text-zinc-500">{t.noMatches}</p>}
            {groups.map(({ key, label, empty }) => (
              <ChannelGroup key={key} label={label} empty={empty} channels={sections[key]} activeId={activeId} ownPeerId={ownPeerId} now={now} onOpen={onOpen} />
            ))}
          </>
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
      <span className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-zinc-400">
        <Icon name={icon} className="size-4" />
      </span>
      <input
        ref={inputRef}
        type="search"
        value={value}
        maxLength={maxLength}
        onChange={(e) => onValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onValue('');
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
  ownPeerId: string | undefined;
  now: number;
  onOpen: (id: ConversationId) => void;
}

function ChannelGroup({ label, empty, channels, activeId, ownPeerId, now, onOpen }: ChannelGroupProps) {
  const id = useId();
  if (channels.length === 0 && !empty) return null;
  return (
    <section aria-labelledby={id} className="mt-2">
      <h2 id={id} className="px-2.5 pb-1 text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {label}
      </h2>
      {channels.length === 0 ? (
        <p className="px-2.5 py-1 text-xs text-zinc-500">{empty}</p>
      ) : (
        <ul role="list" className="space-y-0.5">
          {channels.map((c) => (
            <ChannelItem key={c.id} channel={c} active={c.id === activeId} ownPeerId={ownPeerId} now={now} onOpen={onOpen} />
          ))}
        </ul>
      )}
    </section>
  );
}
