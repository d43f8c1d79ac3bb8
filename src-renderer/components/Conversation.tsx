// The open chat: header with its actions, messages (paged from the history, kept current from the
// host's events), composer.

import { useState, type RefObject } from 'react';
import type { ChatMessage } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import type { Channel } from '../state/channels.ts';
import { useChat } from '../state/chat-context.ts';
import { useFileDrop } from '../state/use-file-drop.ts';
import { useHistory, type Jump } from '../state/use-history.ts';
import { Avatar } from './Avatar.tsx';
import { Composer } from './Composer.tsx';
import { FileTransfers } from './FileTransfers.tsx';
import { ConversationMenu } from './ConversationMenu.tsx';
import { MessageList } from './MessageList.tsx';
import { PeerStateDot } from './PeerStateDot.tsx';

interface ConversationProps {
  channel: Channel;
  /** Open connections a PUB here would reach. */
  reach: number;
  epoch: number;
  /** Open at this message (a search hit) instead of the latest. */
  jump: Jump | undefined;
  composerRef: RefObject<HTMLTextAreaElement | null>;
  onDeleted: () => void;
}

export function Conversation({ channel, reach, epoch, jump, composerRef, onDeleted }: ConversationProps) {
  const t = useStrings();
  const chat = useChat();
  const history = useHistory(chat, channel.id, epoch, jump);
  const [actionError, setActionError] = useState<string>();
  const title = channel.kind === 'broadcast' ? t.broadcastTitle : channel.title;
  const drop = useFileDrop(chat, channel.kind === 'dm' ? channel.title : undefined);

  const send = async (text: string) => {
    history.put(channel.kind === 'dm' ? await chat.sendDirect(channel.title, text) : await chat.publish(channel.id, text));
    // Whoever just wrote wants to see it, wherever they had scrolled to.
    history.revealLatest();
  };
  const act = (command: (msgId: string) => Promise<ChatMessage>) => (message: ChatMessage) => {
    setActionError(undefined);
    command(message.msgId).then(history.put, (error: Error) => setActionError(error.message));
  };

  return (
    <section aria-label={title} {...drop.handlers} className={`flex min-w-0 flex-1 flex-col bg-zinc-100/60 dark:bg-zinc-950 ${drop.dragging ? 'ring-2 ring-sky-500 ring-inset' : ''}`}>
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
        <ConversationMenu conversationId={channel.id} title={title} onDeleted={onDeleted} onError={setActionError} />
      </header>
      <MessageList
        history={history.view}
        onOlder={history.loadOlder}
        onNewer={history.loadNewer}
        onLatest={history.revealLatest}
        onRetryLoad={history.retryLoad}
        onTryNow={act((msgId) => chat.retry(msgId))}
        onCancel={act((msgId) => chat.cancel(msgId))}
      />
      {actionError && (
        <p role="alert" className="bg-red-50 px-5 py-1.5 text-xs text-red-700 dark:bg-red-950/50 dark:text-red-300">
          {actionError}
        </p>
      )}
      {channel.kind === 'dm' && <FileTransfers peerId={channel.title} peerState={channel.peer?.state ?? 'offline'} drop={drop} />}
      <Composer
        composerRef={composerRef}
        onSend={send}
        placeholder={channel.kind === 'dm' ? t.composerPlaceholderDm(channel.title) : t.composerPlaceholderChannel(channel.kind === 'broadcast' ? '*' : channel.title)}
      />
    </section>
  );
}
