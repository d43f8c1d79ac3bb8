// Message search as the user types: asks the host once typing pauses, and shows only the answer
// to the latest text (an older reply that comes late is dropped).

import { useEffect, useState } from 'react';
import { asChatError, type ChatApi, type ChatError, type SearchResult } from '../../src-shared/chat-api.ts';

/** Shorter queries would match most of the history by word start and say little. */
export const MIN_SEARCH_CHARS = 2;
const DEBOUNCE_MS = 250;

export interface SearchState {
  /** The text the results are for. */
  query: string;
  results: SearchResult[] | undefined;
  /** A newer text is on its way; the results on screen are for an older one. */
  pending: boolean;
  error: ChatError | undefined;
}

const IDLE: SearchState = { query: '', results: undefined, pending: false, error: undefined };

export function useMessageSearch(chat: ChatApi, text: string, epoch: number): SearchState {
  const query = text.trim();
  const [state, setState] = useState<SearchState>(IDLE);
  useEffect(() => {
    if ([...query].length < MIN_SEARCH_CHARS) {
      setState(IDLE);
      return;
    }
    let current = true;
    setState((s) => ({ ...s, pending: true }));
    const timer = setTimeout(() => {
      chat.search(query).then(
        (results) => current && setState({ query, results, pending: false, error: undefined }),
        (error: unknown) => current && setState({ query, results: undefined, pending: false, error: asChatError(error) }),
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [chat, query, epoch]);
  return state;
}
