// The open conversation's messages: its latest page (or the page around a search hit), older and
// newer pages on demand, and every 'message' and 'delivery' event that falls inside what is
// loaded. One hook per conversation: the component using it is keyed by the conversation's id.

import { useCallback, useEffect, useRef, useState } from 'react';
import { asChatError, type ChatApi, type ChatError, type ChatMessage, type ConversationId, type HistoryPage, type HistoryQuery } from '../../src-shared/chat-api.ts';
import { NOTHING_LOADED, appendPage, covers, insertIfAbsent, prependPage, upsert } from './history.ts';

type Loading = 'latest' | 'around' | 'older' | 'newer';

/** Where the list should scroll next; a new token asks again for the same place. */
export interface ScrollRequest {
  target: 'end' | number;
  /** A search hit is centred and marked for a moment; the first unread goes to the top, unmarked. */
  kind: 'hit' | 'unread';
  token: number;
}

export interface HistoryView extends HistoryPage {
  /** What changed last: the list follows a 'live' arrival to the bottom, never a page. */
  change: 'reset' | 'older' | 'newer' | 'live';
  loading: Loading | undefined;
  error: ChatError | undefined;
  /** Messages that arrived past the loaded part while the user reads further back. */
  missed: number;
  scrollTo: ScrollRequest | undefined;
}

/** A search hit to open the conversation at; a new token opens it again. */
export interface Jump {
  seq: number;
  token: number;
}

const START: HistoryView = { ...NOTHING_LOADED, change: 'reset', loading: undefined, error: undefined, missed: 0, scrollTo: undefined };

let scrollTokens = 0;
const scrollRequest = (target: ScrollRequest['target'], kind: ScrollRequest['kind'] = 'hit'): ScrollRequest => ({ target, kind, token: ++scrollTokens });

/**
 * `unreadFrom`: the first unread message when the chat was opened; without a search hit the chat
 * opens there, with it at the top.
 */
export function useHistory(chat: ChatApi, conversationId: ConversationId, epoch: number, jump: Jump | undefined, unreadFrom: number | undefined) {
  const [view, setView] = useState<HistoryView>(START);
  // Event handlers and replies read and change the latest view here, outside React's updaters.
  const current = useRef(view);
  // Events that came while a page reaching the live end was on its way; merged with its reply.
  const parked = useRef<ChatMessage[]>([]);
  // Bumped whenever the loaded part starts over: replies to older requests are then dropped.
  const generation = useRef(0);

  const commit = useCallback((next: HistoryView) => {
    current.current = next;
    setView(next);
  }, []);

  const request = useCallback(
    (loading: Loading, query: HistoryQuery | undefined, kind: ScrollRequest['kind'] = 'hit') => {
      const asked = generation.current;
      commit({ ...current.current, loading, error: undefined });
      chat.history(conversationId, query).then(
        (page) => {
          if (asked !== generation.current) return;
          const now = current.current;
          let loaded = loading === 'older' ? prependPage(now, page) : loading === 'newer' ? appendPage(now, page) : page;
          if (loading !== 'older') for (const m of parked.current.splice(0)) if (covers(loaded, m.seq)) loaded = insertIfAbsent(loaded, m);
          commit({
            ...loaded,
            change: loading === 'older' || loading === 'newer' ? loading : 'reset',
            loading: undefined,
            error: undefined,
            missed: loaded.hasNewer ? now.missed : 0,
            scrollTo: loading === 'latest' ? scrollRequest('end') : loading === 'around' ? scrollRequest(query!.around!, kind) : now.scrollTo,
          });
        },
        (error: unknown) => {
          if (asked === generation.current) commit({ ...current.current, loading: undefined, error: asChatError(error) });
        },
      );
    },
    [chat, conversationId, commit],
  );

  const start = useCallback(
    (around: number | undefined, kind: ScrollRequest['kind'] = 'hit') => {
      generation.current++;
      parked.current = [];
      request(around === undefined ? 'latest' : 'around', around === undefined ? undefined : { around }, kind);
    },
    [request],
  );

  // Read once: the chat opens at the first unread it had when it was opened, not a later one.
  const openAtUnread = useRef(unreadFrom);
  const around = jump?.seq ?? openAtUnread.current;
  const aroundKind = jump ? 'hit' : 'unread';
  useEffect(() => {
    commit(START);
    const onEvent = (isNew: boolean) => (message: ChatMessage) => {
      if (message.conversationId !== conversationId) return;
      const now = current.current;
      if (now.loading === 'latest' || now.loading === 'around') {
        parked.current.push(message);
      } else if (covers(now, message.seq)) {
        const next = upsert(now, message);
        // A delivery event can be the first news of our own message: it arrives all the same.
        commit({ ...now, ...next, change: next.messages.length > now.messages.length ? 'live' : now.change });
      } else if (now.loading === 'newer') {
        parked.current.push(message);
      } else if (isNew && message.seq > (now.messages.at(-1)?.seq ?? 0)) {
        commit({ ...now, missed: now.missed + 1 });
      }
    };
    const onRemoved = ({ conversationId: id, seq }: { conversationId: ConversationId; seq: number }) => {
      const now = current.current;
      if (id !== conversationId || !now.messages.some((m) => m.seq === seq)) return;
      commit({ ...now, messages: now.messages.filter((m) => m.seq !== seq), change: 'live' });
    };
    const offs = [chat.on('message', onEvent(true)), chat.on('delivery', onEvent(false)), chat.on('message-removed', onRemoved)];
    start(around, aroundKind);
    return () => {
      generation.current++;
      for (const off of offs) off();
    };
    // A new jump token opens the conversation again at its hit, even the same one.
  }, [chat, conversationId, epoch, around, aroundKind, jump?.token, start, commit]);

  const loadOlder = useCallback(() => {
    const now = current.current;
    if (now.hasOlder && !now.loading && now.messages[0]) request('older', { before: now.messages[0].seq });
  }, [request]);

  const loadNewer = useCallback(() => {
    const now = current.current;
    const last = now.messages.at(-1);
    if (now.hasNewer && !now.loading && last) request('newer', { after: last.seq });
  }, [request]);

  /** To the bottom of the conversation: reloads its latest page when that is not loaded. */
  const revealLatest = useCallback(() => {
    const now = current.current;
    if (now.hasNewer) start(undefined);
    else commit({ ...now, scrollTo: scrollRequest('end') });
  }, [start, commit]);

  /**
   * Our own send, or the result of Try now / Cancel. Its events come first and carry what happened
   * since, so a copy already here is kept.
   */
  const put = useCallback(
    (message: ChatMessage) => {
      const now = current.current;
      const next = covers(now, message.seq) ? insertIfAbsent(now, message) : now;
      if (next !== now) commit({ ...now, ...next, change: 'live' });
    },
    [commit],
  );

  /** To one message at the top of the list (the first unread), loading the page around it if need be. */
  const reveal = useCallback(
    (seq: number) => {
      const now = current.current;
      if (now.messages.some((m) => m.seq === seq)) commit({ ...now, scrollTo: scrollRequest(seq, 'unread') });
      else start(seq, 'unread');
    },
    [start, commit],
  );

  /** After a failed first page: asks for it again. */
  const retryLoad = useCallback(() => start(around, aroundKind), [start, around, aroundKind]);

  return { view, loadOlder, loadNewer, revealLatest, reveal, put, retryLoad };
}
