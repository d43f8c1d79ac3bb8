// The open conversation's messages: its history, then every 'message' and 'delivery' event for
// it, merged by msgId so an event that overtakes the history reply is not lost. One hook per
// conversation: the component using it is keyed by the conversation's id.

import { useCallback, useEffect, useState } from 'react';
import type { ChatApi, ChatMessage, ConversationId } from '../../src-shared/chat-api.ts';

function upsert(list: ChatMessage[], message: ChatMessage): ChatMessage[] {
  const index = list.findIndex((m) => m.msgId === message.msgId);
  if (index === -1) return [...list, message];
  return list.map((m, i) => (i === index ? message : m));
}

export function useMessages(chat: ChatApi, conversationId: ConversationId, epoch: number) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  useEffect(() => {
    let alive = true;
    const onMessage = (message: ChatMessage) => {
      if (message.conversationId === conversationId) setMessages((list) => upsert(list, message));
    };
    const offs = [chat.on('message', onMessage), chat.on('delivery', onMessage)];
    // Events that arrived before the reply are older than the history it carries.
    chat.history(conversationId).then(
      (history) => {
        if (!alive) return;
        const seen = new Set(history.map((m) => m.msgId));
        setMessages((list) => [...history, ...list.filter((m) => !seen.has(m.msgId))].sort((a, b) => a.at - b.at));
      },
      () => undefined,
    );
    return () => {
      alive = false;
      for (const off of offs) off();
    };
  }, [chat, conversationId, epoch]);

  /**
   * Our own send's result, or a retried message standing in for the failed one. Its events may
   * have overtaken the reply: what they brought is newer, so an existing copy is kept.
   */
  const put = useCallback((message: ChatMessage, replaces?: string) => {
    setMessages((list) => {
      const kept = list.filter((m) => m.msgId !== replaces);
      return kept.some((m) => m.msgId === message.msgId) ? kept : [...kept, message];
    });
  }, []);

  return { messages, put };
}
