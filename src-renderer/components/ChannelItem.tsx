import type { ConversationId } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings } from '../i18n.ts';
import { shownTitle, type Channel } from '../state/channels.ts';
import { shortWhen } from '../state/format.ts';
import { Avatar } from './Avatar.tsx';
import { PeerStateDot } from './PeerStateDot.tsx';
import { QueuedBadge } from './QueuedBadge.tsx';

interface ChannelItemProps {
  channel: Channel;
  active: boolean;
  /** The chat list's one Tab stop. */
  tabStop: boolean;
  /** Avatar only (a narrow window): the name and the counts are the button's label. */
  collapsed: boolean;
  ownPeerId: string | undefined;
  now: number;
  onOpen: (id: ConversationId) => void;
}

/** One chat in the sidebar: avatar, title, last message, unread and queued badges. */
export function ChannelItem({ channel, active, tabStop, collapsed, ownPeerId, now, onOpen }: ChannelItemProps) {
  const t = useStrings();
  const locale = useLocale();
  const { last, unread } = channel;
  const title = shownTitle(channel.kind, channel.title, t);
  // In a DM the sender is obvious unless it was us; in a channel it always matters.
  const who = last?.from === ownPeerId ? t.you : channel.kind === 'dm' || channel.kind === 'unverified' ? undefined : last?.from;
  const preview = last ? (who ? `${who}: ${last.text}` : last.text) : '\u00a0';
  const label = [title, channel.peer && t.peerState[channel.peer.state], unread > 0 && t.unreadBadge(unread), channel.queued > 0 && t.queuedBadge(channel.queued)].filter(Boolean).join(', ');
  // The open chat shows its draft in the composer; the others say it is there (as Signal does).
  const draft = !active && channel.draft?.trim() ? channel.draft : undefined;
  return (
    <li>
      <button
        type="button"
        onClick={() => onOpen(channel.id)}
        aria-current={active ? 'page' : undefined}
        data-roving
        tabIndex={tabStop ? 0 : -1}
        title={collapsed ? label : undefined}
        data-testid={`channel-${channel.id}`}
        className={`flex w-full items-center gap-3 rounded-xl py-2 text-left transition ${collapsed ? 'justify-center px-1' : 'px-2.5'} ${active ? 'bg-sky-100 dark:bg-sky-900/40' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800/60'}`}
      >
        <span className="relative">
          <Avatar title={channel.title} kind={channel.kind} />
          {channel.peer && (
            <span className="absolute -right-0.5 -bottom-0.5 rounded-full bg-white p-0.5 dark:bg-zinc-900">
              <PeerStateDot state={channel.peer.state} dotOnly />
            </span>
          )}
          {collapsed && unread > 0 && (
            <span aria-hidden="true" className="absolute -top-1 -right-1 grid h-4 min-w-4 place-items-center rounded-full bg-sky-700 px-1 text-[10px] font-semibold text-white">
              {unread}
            </span>
          )}
        </span>
        {/* Named by text, not aria-label: the avatar's letters and the unread digits show beside it, and
            a label that does not contain what is seen confuses speech input (WCAG 2.5.3). */}
        {collapsed && <span className="sr-only">{label}</span>}
        <span className={collapsed ? 'hidden' : 'min-w-0 flex-1'}>
          <span className="flex items-baseline justify-between gap-2">
            <span className={`truncate text-sm ${unread > 0 ? 'font-semibold' : 'font-medium'}`}>
              {title}
              {/* Read after the name, where the dot is only seen. */}
              {channel.peer && <span className="sr-only">, {t.peerState[channel.peer.state]}</span>}
            </span>
            {last && <span className="shrink-0 text-[11px] text-zinc-600 dark:text-zinc-400">{shortWhen(locale, last.at, now)}</span>}
          </span>
          <span className="flex items-center justify-between gap-2">
            {draft ? (
              <span data-testid="draft-preview" className="truncate text-xs text-zinc-600 dark:text-zinc-400">
                <span className="font-medium text-red-700 dark:text-red-400">{t.draftLabel}</span> {draft}
              </span>
            ) : (
              <span className="truncate text-xs text-zinc-600 dark:text-zinc-400">{preview}</span>
            )}
            <QueuedBadge count={channel.queued} />
            {unread > 0 && (
              <span data-testid="unread-badge" aria-label={t.unreadBadge(unread)} className="grid h-5 min-w-5 shrink-0 place-items-center rounded-full bg-sky-700 px-1.5 text-[11px] font-semibold text-white">
                {unread}
              </span>
            )}
          </span>
        </span>
      </button>
    </li>
  );
}
