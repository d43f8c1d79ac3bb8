// Message search results in the sidebar, newest first: the conversation, who wrote it, when, and
// the text around the match with the words found marked. The host's snippet parts are rendered as
// text, never as HTML.

import type { KeyboardEvent, RefObject } from 'react';
import { LIMITS, conversationKind, type ConversationId, type SearchResult } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { shownTitle, titleOf } from '../state/channels.ts';
import { shortWhen } from '../state/format.ts';
import { MIN_SEARCH_CHARS, type SearchState } from '../state/use-search.ts';
import { Avatar } from './Avatar.tsx';

interface SearchResultsProps {
  text: string;
  search: SearchState;
  ownPeerId: string | undefined;
  now: number;
  onOpenAt: (conversationId: ConversationId, seq: number) => void;
  /** For the search box's Down key, which moves into the results. */
  listRef: RefObject<HTMLUListElement | null>;
}

const note = 'px-3 py-4 text-sm text-zinc-600 dark:text-zinc-400';

export function SearchResults({ text, search, ownPeerId, now, onOpenAt, listRef }: SearchResultsProps) {
  const t = useStrings();
  if ([...text.trim()].length < MIN_SEARCH_CHARS) {
    return (
      <div className={note}>
        <p>{t.searchTooShort(MIN_SEARCH_CHARS)}</p>
        <p className="mt-1 text-xs">{t.searchHint}</p>
      </div>
    );
  }
  if (search.error) {
    return (
      <div role="alert" className="px-3 py-4 text-sm text-red-700 dark:text-red-400">
        <ErrorText error={search.error} />
      </div>
    );
  }
  const results = search.results;
  if (results === undefined || (results.length === 0 && search.pending)) {
    return (
      <p role="status" className={note}>
        {t.searching}
      </p>
    );
  }
  if (results.length === 0) {
    return (
      <p role="status" className={note}>
        {t.noResults(search.query)}
      </p>
    );
  }

  // Up and Down move between results, as in the chat list's Alt+Up/Down.
  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('button')];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    e.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)))]?.focus();
  };

  return (
    <section aria-label={t.searchResults} aria-busy={search.pending} className="mt-1">
      <p role="status" className="px-2.5 pb-1 text-[11px] font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">
        {results.length >= LIMITS.searchResults ? t.resultsCapped(results.length) : t.resultCount(results.length)}
      </p>
      <ul ref={listRef} role="list" onKeyDown={onKeyDown} className="space-y-0.5">
        {results.map((result) => (
          <ResultItem key={result.message.seq} result={result} ownPeerId={ownPeerId} now={now} onOpenAt={onOpenAt} />
        ))}
      </ul>
    </section>
  );
}

function ResultItem({ result, ownPeerId, now, onOpenAt }: { result: SearchResult } & Pick<SearchResultsProps, 'ownPeerId' | 'now' | 'onOpenAt'>) {
  const t = useStrings();
  const locale = useLocale();
  const { conversationId, message } = result;
  const kind = conversationKind(conversationId);
  const title = shownTitle(kind, titleOf(conversationId), t);
  const sender = message.direction === 'out' || message.from === ownPeerId ? t.you : message.from;
  return (
    <li>
      <button
        type="button"
        data-testid="search-result"
        onClick={() => onOpenAt(conversationId, message.seq)}
        className="flex w-full items-start gap-2.5 rounded-xl px-2.5 py-2 text-left hover:bg-zinc-100 focus-visible:bg-zinc-100 dark:hover:bg-zinc-800/60 dark:focus-visible:bg-zinc-800/60"
      >
        <Avatar title={titleOf(conversationId)} kind={kind} size="size-8" />
        <span className="min-w-0 flex-1">
          <span className="flex items-baseline justify-between gap-2">
            <span className="truncate text-sm font-medium">{title}</span>
            <time dateTime={new Date(message.at).toISOString()} className="shrink-0 text-[11px] text-zinc-600 dark:text-zinc-400">
              {shortWhen(locale, message.at, now)}
            </time>
          </span>
          <span className="block truncate text-xs font-medium text-zinc-600 dark:text-zinc-300">{sender}</span>
          <span className="line-clamp-2 text-xs break-words text-zinc-600 dark:text-zinc-400">
            {result.parts.map((part, i) =>
              part.match ? (
                <mark key={i} className="rounded-sm bg-amber-200 px-0.5 text-zinc-900 dark:bg-amber-500/40 dark:text-amber-50">
                  {part.text}
                </mark>
              ) : (
                <span key={i}>{part.text}</span>
              ),
            )}
          </span>
        </span>
      </button>
    </li>
  );
}
