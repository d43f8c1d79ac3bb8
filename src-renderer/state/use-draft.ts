// The composer's text as a draft of its conversation: it starts from the draft the host kept, and
// every change is saved shortly after typing pauses, and at once when the chat closes (a switch,
// Alt+Up/Down), so nothing typed is lost to a switch, a reload or a restart.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChatApi, ConversationId } from '../../src-shared/chat-api.ts';

/** Long enough not to write the profile on every key, short enough that a crash loses a word at most. */
const SAVE_AFTER_MS = 400;

export function useDraft(chat: ChatApi, conversationId: ConversationId, initial: string | undefined) {
  const [text, setText] = useState(initial ?? '');
  const saved = useRef(initial ?? '');
  const pending = useRef<{ text: string; timer: ReturnType<typeof setTimeout> }>(undefined);

  const flush = useCallback(() => {
    const due = pending.current;
    if (!due) return;
    clearTimeout(due.timer);
    pending.current = undefined;
    if (due.text === saved.current) return;
    saved.current = due.text;
    // Best effort: a host that is gone keeps the previous draft, and the text is still on screen.
    chat.setDraft(conversationId, due.text).catch(() => undefined);
  }, [chat, conversationId]);

  const change = useCallback(
    (next: string) => {
      setText(next);
      if (pending.current) clearTimeout(pending.current.timer);
      pending.current = { text: next, timer: setTimeout(flush, SAVE_AFTER_MS) };
    },
    [flush],
  );

  useEffect(() => {
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [flush]);
  return [text, change] as const;
}
