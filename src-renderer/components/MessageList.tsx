// The conversation's messages, virtualized: only the rows on screen (plus a few) are in the DOM,
// each measured, so a conversation of any length scrolls smoothly. Older pages load near the top
// without moving what the user is reading (the list is anchored to its end), newer ones near the
// bottom after a jump; live messages follow only a user who is at the bottom.

import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ChatMessage } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { sameDay } from '../state/format.ts';
import type { HistoryView } from '../state/use-history.ts';
import { useNow } from '../state/use-now.ts';
import { Icon } from './Icons.tsx';
import { MessageBubble, type MessageActionHandlers } from './MessageBubble.tsx';
import { DaySeparator, UnreadSeparator } from './Separators.tsx';

interface MessageListProps {
  history: HistoryView;
  onOlder: () => void;
  onNewer: () => void;
  onLatest: () => void;
  onRetryLoad: () => void;
  onTryNow: (message: ChatMessage) => void;
  onCancel: (message: ChatMessage) => void;
  actions: MessageActionHandlers;
  /** The first unread message when the chat was opened: the "New messages" line goes above it. */
  unreadFrom: number | undefined;
  onRevealUnread: (seq: number) => void;
  /** The newest incoming message that stayed on screen a moment: it and those before it are read. */
  onSeen: (seq: number) => void;
}

/** How close to an edge of what is loaded the next page is asked for (a few screens of rows). */
const PAGE_EDGE_PX = 1200;
/** How close to the bottom still counts as "at the bottom". */
const AT_END_PX = 48;
const HIGHLIGHT_MS = 4000;
/** Same sender within this long: one group, one name line. */
const GROUP_MS = 5 * 60_000;
/** How long a message must stay on screen to count as read: a row flown past while scrolling is not. */
const SEEN_AFTER_MS = 300;

export function MessageList({ history, onOlder, onNewer, onLatest, onRetryLoad, onTryNow, onCancel, actions, unreadFrom, onRevealUnread, onSeen }: MessageListProps) {
  const t = useStrings();
  const now = useNow(60_000);
  const { messages } = history;
  const scroller = useRef<HTMLDivElement>(null);
  const [atEnd, setAtEnd] = useState(true);
  const [unreadAbove, setUnreadAbove] = useState(false);
  const [unseen, setUnseen] = useState(0);
  const [highlighted, setHighlighted] = useState<number>();

  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 60,
    getItemKey: (index) => messages[index]!.seq,
    anchorTo: 'end',
    // A page arriving at the bottom after a jump is scrolled into, not jumped over.
    followOnAppend: history.change === 'live',
    scrollEndThreshold: AT_END_PX,
    overscan: 8,
    paddingStart: 8,
    paddingEnd: 16,
  });

  // The hook asks for a place (the bottom, or a search hit); each request is carried out once.
  const done = useRef<number>(undefined);
  useLayoutEffect(() => {
    const request = history.scrollTo;
    if (!request || request.token === done.current) return;
    done.current = request.token;
    if (request.target === 'end') {
      virtualizer.scrollToEnd();
      return;
    }
    const index = messages.findIndex((m) => m.seq === request.target);
    if (index === -1) return;
    if (request.kind === 'unread') {
      virtualizer.scrollToIndex(index, { align: 'start' });
      return;
    }
    virtualizer.scrollToIndex(index, { align: 'center' });
    setHighlighted(request.target);
  }, [history.scrollTo, messages, virtualizer]);

  // What is on screen once the list has been still for a moment: the read position, and whether
  // the first unread is above (the "First unread" button). Rows only flown past do not count.
  const seenTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const look = () => {
    clearTimeout(seenTimer.current);
    seenTimer.current = setTimeout(() => {
      const box = scroller.current;
      if (!box) return;
      const top = box.scrollTop;
      const bottom = top + box.clientHeight;
      let seen: number | undefined;
      let firstShown = Infinity;
      for (const item of virtualizer.getVirtualItems()) {
        const message = messages[item.index];
        if (!message || item.end <= top) continue;
        firstShown = Math.min(firstShown, item.index);
        if (message.direction === 'in' && item.end <= bottom + 1) seen = Math.max(seen ?? 0, message.seq);
      }
      const unreadIndex = unreadFrom === undefined ? -1 : messages.findIndex((m) => m.seq === unreadFrom);
      // Above what is shown, whether loaded or still in an older page.
      setUnreadAbove(unreadFrom !== undefined && (unreadIndex === -1 ? unreadFrom < (messages[0]?.seq ?? 0) : unreadIndex < firstShown && firstShown !== Infinity));
      if (seen !== undefined) onSeen(seen);
    }, SEEN_AFTER_MS);
  };
  useEffect(() => {
    look();
    return () => clearTimeout(seenTimer.current);
  });

  useEffect(() => {
    if (highlighted === undefined) return;
    const timer = setTimeout(() => setHighlighted(undefined), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted]);

  // Someone else's message arriving while the user reads back: counted for the "new messages" button.
  const lastSeq = messages.at(-1)?.seq;
  const seenLast = useRef(lastSeq);
  useEffect(() => {
    const last = messages.at(-1);
    if (history.change === 'live' && last && last.seq !== seenLast.current && last.direction === 'in' && !atEnd) setUnseen((n) => n + 1);
    seenLast.current = lastSeq;
    // Only a new last message counts, not a re-render.
  }, [lastSeq]);

  const onScroll = () => {
    const box = scroller.current;
    if (!box) return;
    look();
    const fromEnd = box.scrollHeight - box.scrollTop - box.clientHeight;
    const end = fromEnd < AT_END_PX;
    setAtEnd(end);
    if (end) setUnseen(0);
    if (box.scrollTop < PAGE_EDGE_PX) onOlder();
    if (fromEnd < PAGE_EDGE_PX) onNewer();
  };

  const busy = history.loading !== undefined;
  const missed = unseen + history.missed;
  return (
    <div className="relative flex min-h-0 flex-1 flex-col">
      {/* Focusable, so the history scrolls with the keyboard too (arrows, Page Up/Down). */}
      <div
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        role="region"
        aria-label={t.messages}
        data-testid="message-scroller"
        className="flex-1 overflow-y-auto px-5 [overflow-anchor:none] focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-500"
      >
        {messages.length === 0 ? (
          !history.error && (
            <p role="status" className="mt-16 text-center text-sm text-zinc-600 dark:text-zinc-400">
              {busy ? t.loadingMessages : t.emptyConversation}
            </p>
          )
        ) : (
          <ol role="list" aria-label={t.messages} aria-busy={busy} className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((item) => {
              const message = messages[item.index]!;
              const previous = messages[item.index - 1];
              const newDay = previous === undefined || !sameDay(previous.at, message.at);
              const firstUnread = message.seq === unreadFrom;
              const continued = !newDay && !firstUnread && previous.from === message.from && message.at - previous.at < GROUP_MS;
              return (
                <li key={item.key} ref={virtualizer.measureElement} data-index={item.index} className="absolute top-0 left-0 w-full has-[[aria-expanded=true]]:z-10" style={{ transform: `translateY(${item.start}px)` }}>
                  {newDay && <DaySeparator at={message.at} now={now} />}
                  {firstUnread && <UnreadSeparator />}
                  <MessageBubble message={message} continued={continued} highlighted={message.seq === highlighted} onTryNow={onTryNow} onCancel={onCancel} actions={actions} />
                </li>
              );
            })}
          </ol>
        )}
      </div>
      {(history.loading === 'older' || history.loading === 'newer') && (
        <p
          role="status"
          className={`pointer-events-none absolute left-1/2 -translate-x-1/2 rounded-full bg-white/90 px-3 py-1 text-xs text-zinc-600 shadow ring-1 ring-zinc-200 dark:bg-zinc-800/90 dark:text-zinc-300 dark:ring-zinc-700 ${history.loading === 'older' ? 'top-2' : 'bottom-2'}`}
        >
          {history.loading === 'older' ? t.loadingOlder : t.loadingNewer}
        </p>
      )}
      {history.error && (
        <p role="alert" className="absolute inset-x-5 top-2 flex items-center justify-center gap-2 rounded-md bg-red-50 px-3 py-1.5 text-xs text-red-700 dark:bg-red-950/50 dark:text-red-300">
          <span>
            {t.historyFailed} <ErrorText error={history.error} />
          </span>
          {/* Past the first page, scrolling asks again by itself. */}
          {messages.length === 0 && (
            <button type="button" onClick={onRetryLoad} className="rounded-md border border-red-300 px-2 py-0.5 font-medium hover:bg-red-100 dark:border-red-800 dark:hover:bg-red-900">
              {t.tryAgain}
            </button>
          )}
        </p>
      )}
      {unreadAbove && unreadFrom !== undefined && (
        <button
          type="button"
          onClick={() => onRevealUnread(unreadFrom)}
          title={t.jumpToFirstUnreadHint}
          className="absolute top-3 left-1/2 flex -translate-x-1/2 items-center gap-1.5 rounded-full bg-white px-3 py-1.5 text-xs font-medium text-sky-700 shadow-md ring-1 ring-zinc-200 hover:bg-sky-50 dark:bg-zinc-800 dark:text-sky-300 dark:ring-zinc-700 dark:hover:bg-zinc-700"
        >
          <Icon name="arrowDown" className="size-4 rotate-180" />
          {t.jumpToFirstUnread}
        </button>
      )}
      {messages.length > 0 && (!atEnd || history.hasNewer) && (
        <button
          type="button"
          onClick={onLatest}
          className="absolute right-5 bottom-3 flex items-center gap-1.5 rounded-full bg-white px-3 py-1.5 text-xs font-medium text-sky-700 shadow-md ring-1 ring-zinc-200 hover:bg-sky-50 dark:bg-zinc-800 dark:text-sky-300 dark:ring-zinc-700 dark:hover:bg-zinc-700"
        >
          <Icon name="arrowDown" className="size-4" />
          {missed > 0 ? t.newMessages : t.jumpToLatest}
        </button>
      )}
    </div>
  );
}
