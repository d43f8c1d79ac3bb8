// "typing…" from the peer of a DM (chatp2p-receipts): on from the host's `typing` event until its
// end, which the host sends when their message comes, they leave, or a few seconds pass.

import { useEffect, useState } from 'react';
import type { ChatApi, ConversationId } from '../../src-shared/chat-api.ts';

export function usePeerTyping(chat: ChatApi, conversationId: ConversationId): boolean {
  const [typing, setTyping] = useState(false);
  useEffect(() => {
    setTyping(false);
    return chat.on('typing', (t) => t.conversationId === conversationId && setTyping(t.typing));
  }, [chat, conversationId]);
  return typing;
}
