import { createContext, useContext } from 'react';
import type { ChatApi } from '../../src-shared/chat-api.ts';

/** The one way components reach the host. */
export const ChatContext = createContext<ChatApi | undefined>(undefined);

export function useChat(): ChatApi {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error('useChat outside ChatContext');
  return chat;
}
