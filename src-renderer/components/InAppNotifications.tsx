// Messages the system would not show as desktop notifications (it refused them: an unsigned app
// on macOS, notifications turned off for the app): the newest few as banners over the window,
// each opening its chat. Opening a chat any other way clears its banners.

import { useEffect, useState } from 'react';
import { conversationKind, type ChatMessage, type ConversationId } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { useChat } from '../state/chat-context.ts';
import { Icon } from './Icons.tsx';

const MAX_BANNERS = 3;

export function InAppNotifications({ activeId, onOpen }: { activeId: ConversationId | undefined; onOpen: (id: ConversationId) => void }) {
  const t = useStrings();
  const chat = useChat();
  const [banners, setBanners] = useState<ChatMessage[]>([]);
  useEffect(() => chat.on('in-app-notification', (message) => setBanners((b) => [...b, message].slice(-MAX_BANNERS))), [chat]);
  const clear = (id: ConversationId | undefined) => setBanners((b) => (b.some((m) => m.conversationId === id) ? b.filter((m) => m.conversationId !== id) : b));
  useEffect(() => clear(activeId), [activeId]);
  if (banners.length === 0) return null;
  const dismiss = (message: ChatMessage) => setBanners((b) => b.filter((m) => m !== message));
  const open = (id: ConversationId) => {
    clear(id);
    onOpen(id);
  };
  return (
    <section aria-label={t.inAppNotifications} className="pointer-events-none fixed top-3 right-3 z-40 flex w-80 max-w-[calc(100vw-1.5rem)] flex-col gap-2">
      {banners.map((message) => (
        <div key={`${message.conversationId} ${message.seq}`} role="status" data-testid="in-app-notification" className="pointer-events-auto flex items-start gap-2 rounded-lg border border-zinc-200 bg-white p-3 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-900">
          <button type="button" className="min-w-0 flex-1 text-left" onClick={() => open(message.conversationId)}>
            <span className="block truncate font-semibold text-zinc-900 dark:text-zinc-100">{conversationKind(message.conversationId) === 'unverified' ? t.inAppFromUnverified(message.from) : t.inAppFrom(message.from)}</span>
            <span className="line-clamp-2 break-words text-zinc-700 dark:text-zinc-300">{message.text}</span>
          </button>
          <button type="button" aria-label={t.dismiss} className="rounded p-0.5 text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800" onClick={() => dismiss(message)}>
            <Icon name="close" className="size-4" />
          </button>
        </div>
      ))}
    </section>
  );
}
