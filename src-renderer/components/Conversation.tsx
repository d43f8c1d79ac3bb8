// The open chat: header, messages (kept current from the host's events), composer.

import { useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { ChatMessage } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import type { Channel } from '../state/channels.ts';
import { useChat } from '../state/chat-context.ts';
import { useMessages } from '../state/use-messages.ts';
import { Avatar } from './Avatar.tsx';
import { Composer } from './Composer.tsx';
import { MessageBubble } from './MessageBubble.tsx';
import { PeerStateDot } from './PeerStateDot.tsx';

interface ConversationProps {
  channel: Channel;
  /** Open connections a PUB here would reach. */
  reach: number;
  epoch: number;
  composerRef: RefObject<HTMLTextAreaElement | null>;
}

export function Conversation({ channel, reach, epoch, composerRef }: ConversationProps) {
  const t = useStrings();
  const chat = useChat();
  const { messages, put } = useMessages(chat, channel.id, epoch);
  const [retryError, setRetryError] = useState<string>();
  const title = channel.kind === 'broadcast' ? t.broadcastTitle : channel.title;

  const send = async (text: string) => {
    put(channel.kind === 'dm' ? await chat.sendDirect(channel.title, text) : await chat.publish(channel.id, text));
  };
  const retry = (message: ChatMessage) => {
    setRetryError(undefined);
    chat.retry(message.msgId).then(
      (fresh) => put(fresh, message.msgId),
      (error: Error) => setRetryError(error.message),
    );
  };

  return (
    <section aria-label={title} className="flex min-w-0 flex-1 flex-col bg-zinc-100/60 dark:bg-zinc-950">
      <header className="flex items-center gap-3 border-b border-zinc-200 bg-white px-5 py-3 dark:border-zinc-800 dark:bg-zinc-900">
        <Avatar title={channel.title} kind={channel.kind} />
        <div className="min-w-0">
          <h1 className="truncate text-base font-semibold" data-testid="conversation-title">
            {title}
            {channel.kind === 'broadcast' && <span className="ml-1.5 font-normal text-zinc-500">*</span>}
          </h1>
          <p className="text-xs text-zinc-500 dark:text-zinc-400">
            {channel.kind === 'dm' ? (
              <PeerStateDot state={channel.peer?.state ?? 'offline'} />
            ) : channel.kind === 'namespace' ? (
              t.namespaceSubtitle(reach)
            ) : (
              t.broadcastSubtitle(reach)
            )}
          </p>
        </div>
      </header>
      <MessageList messages={messages} onRetry={retry} />
      {retryError && (
        <p role="alert" className="bg-red-50 px-5 py-1.5 text-xs text-red-700 dark:bg-red-950/50 dark:text-red-300">
          {retryError}
        </p>
      )}
      <Composer
        composerRef={composerRef}
        onSend={send}
        placeholder={channel.kind === 'dm' ? t.composerPlaceholderDm(channel.title) : t.composerPlaceholderChannel(channel.kind === 'broadcast' ? '*' : channel.title)}
      />
    </section>
  );
}

function MessageList({ messages, onRetry }: { messages: ChatMessage[]; onRetry: (m: ChatMessage) => void }) {
  const t = useStrings();
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);

  // Follow new messages while the user is at the bottom; leave them alone while reading back.
  useLayoutEffect(() => {
    const box = scroller.current;
    if (box && pinned.current) box.scrollTop = box.scrollHeight;
  }, [messages]);

  return (
    <div
      ref={scroller}
      onScroll={(e) => {
        const box = e.currentTarget;
        pinned.current = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      }}
      className="flex-1 overflow-y-auto px-5 pt-2 pb-4"
    >
      {messages.length === 0 ? (
        <p className="mt-16 text-center text-sm text-zinc-500 dark:text-zinc-400">{t.emptyConversation}</p>
      ) : (
        <ol role="list" aria-label={t.messages} aria-live="polite" className="flex flex-col">
          {messages.map((m, i) => (
            <MessageBubble key={m.msgId} message={m} continued={i > 0 && messages[i - 1]!.from === m.from && m.at - messages[i - 1]!.at < 5 * 60_000} onRetry={onRetry} />
          ))}
        </ol>
      )}
    </div>
  );
}
