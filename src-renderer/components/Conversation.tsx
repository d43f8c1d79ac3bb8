// The open chat: header with its actions, messages (paged from the history, kept current from the
// host's events), composer.

import { useRef, useState, type RefObject } from 'react';
import { asChatError, type ChatError, type ChatMessage, type Settings } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { shownTitle, type Channel } from '../state/channels.ts';
import { useChat } from '../state/chat-context.ts';
import { useDraft } from '../state/use-draft.ts';
import { useFileDrop } from '../state/use-file-drop.ts';
import { useHistory, type Jump } from '../state/use-history.ts';
import { usePeerTyping } from '../state/use-typing.ts';
import { quoteLine } from '../state/quote.ts';
import { Avatar } from './Avatar.tsx';
import { Composer } from './Composer.tsx';
import { Icon } from './Icons.tsx';
import { FileTransfers } from './FileTransfers.tsx';
import { ConversationMenu } from './ConversationMenu.tsx';
import { MessageList } from './MessageList.tsx';
import { MuteMenu } from './MuteMenu.tsx';
import { PeerStateDot } from './PeerStateDot.tsx';
import { KeyChangeBanner, SafetyNumberButton, SecurityBadge, usePeerKey } from './Secure.tsx';

interface ConversationProps {
  channel: Channel;
  /** Open connections a PUB here would reach. */
  reach: number;
  epoch: number;
  /** Open at this message (a search hit) instead of the latest. */
  jump: Jump | undefined;
  composerRef: RefObject<HTMLTextAreaElement | null>;
  onDeleted: () => void;
  /** On screen in a visible window: what it shows may count as read. */
  visible: boolean;
  muted: Settings['muted'];
  now: number;
}

export function Conversation({ channel, reach, epoch, jump, composerRef, onDeleted, visible, muted, now }: ConversationProps) {
  const t = useStrings();
  const chat = useChat();
  // Where the unread started when the chat was opened: the "New messages" line stays there while it is open.
  const [unreadFrom] = useState(channel.firstUnread);
  const history = useHistory(chat, channel.id, epoch, jump, unreadFrom);
  const [draft, setDraft] = useDraft(chat, channel.id, channel.draft);
  const [replyTo, setReplyTo] = useState<ChatMessage>();
  const [actionError, setActionError] = useState<ChatError>();
  const title = shownTitle(channel.kind, channel.title, t);
  // The unverified chat is read-only: nothing is ever sent to a connection that could not prove the key.
  const canSend = channel.kind !== 'unverified';
  const peerKey = usePeerKey(channel.kind === 'dm' ? channel.title : undefined);
  const drop = useFileDrop(chat, channel.kind === 'dm' ? channel.title : undefined);
  const peerTyping = usePeerTyping(chat, channel.id);

  const send = async (text: string) => {
    history.put(channel.kind === 'dm' ? await chat.sendDirect(channel.title, text, replyTo?.msgId) : await chat.publish(channel.id, text));
    setReplyTo(undefined);
    // Whoever just wrote wants to see it, wherever they had scrolled to.
    history.revealLatest();
  };
  const failed = (error: unknown) => setActionError(asChatError(error));
  const act = (command: (msgId: string) => Promise<ChatMessage>) => (message: ChatMessage) => {
    setActionError(undefined);
    command(message.msgId).then(history.put, failed);
  };

  // Read up to the newest incoming message that was on screen, each position told once.
  const readUpTo = useRef(0);
  const seen = (seq: number) => {
    if (!visible || seq <= readUpTo.current || channel.unread === 0) return;
    readUpTo.current = seq;
    chat.markRead(channel.id, seq).catch(() => undefined);
  };
  const actions = {
    onReply: canSend
      ? (message: ChatMessage) => {
          setReplyTo(message);
          composerRef.current?.focus();
        }
      : undefined,
    onResend: act((msgId) => chat.resend(msgId)),
    onDelete: (message: ChatMessage) => {
      setActionError(undefined);
      chat.deleteMessage(channel.id, message.seq).catch(failed);
    },
  };

  return (
    <main aria-label={title} {...drop.handlers} className={`flex min-w-0 flex-1 flex-col bg-zinc-100/60 dark:bg-zinc-950 ${drop.dragging ? 'ring-2 ring-sky-500 ring-inset' : ''}`}>
      {/* Wraps rather than cut the title: the unread actions come and go, and take room when they do. */}
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-200 bg-white px-5 py-3 dark:border-zinc-800 dark:bg-zinc-900">
        <Avatar title={channel.title} kind={channel.kind} />
        <div className="min-w-0">
          <h1 className="truncate text-base font-semibold" data-testid="conversation-title">
            {title}
            {channel.kind === 'broadcast' && <span className="ml-1.5 font-normal text-zinc-600 dark:text-zinc-400">*</span>}
          </h1>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            {channel.kind === 'dm' ? (
              <span className="inline-flex items-center gap-3">
                <PeerStateDot state={channel.peer?.state ?? 'offline'} />
                <SecurityBadge peer={channel.peer} />
                {/* Always in the page, so that a screen reader hears it start (and end). */}
                <span aria-live="polite" data-testid="typing" className="font-medium text-sky-700 dark:text-sky-300">
                  {peerTyping && (
                    <>
                      <span className="sr-only">{t.isTyping(channel.title)}</span>
                      <span aria-hidden="true">{t.typing}</span>
                    </>
                  )}
                </span>
              </span>
            ) : channel.kind === 'unverified' ? (
              t.secure.unverifiedSubtitle
            ) : channel.kind === 'namespace' ? (
              t.namespaceSubtitle(reach)
            ) : (
              t.broadcastSubtitle(reach)
            )}
          </p>
        </div>
        <div className="ml-auto flex items-center gap-1">
          {channel.unread > 0 && (
            <button
              type="button"
              onClick={() => chat.markRead(channel.id).catch(failed)}
              className="rounded-lg px-2 py-1 text-xs font-medium text-sky-700 hover:bg-sky-50 dark:text-sky-300 dark:hover:bg-zinc-800"
            >
              {t.markRead}
            </button>
          )}
          <SafetyNumberButton peerKey={peerKey} />
          <MuteMenu conversationId={channel.id} muted={muted} now={now} onError={setActionError} />
          <ConversationMenu conversationId={channel.id} title={title} onDeleted={onDeleted} onError={setActionError} />
        </div>
      </header>
      <KeyChangeBanner peerKey={peerKey} />
      {channel.kind === 'unverified' && (
        <p role="note" data-testid="unverified-explanation" className="bg-red-50 px-5 py-2 text-sm text-red-800 dark:bg-red-950/50 dark:text-red-200">
          {t.secure.unverifiedExplanation(channel.title)}
        </p>
      )}
      <MessageList
        history={history.view}
        onOlder={history.loadOlder}
        onNewer={history.loadNewer}
        onLatest={history.revealLatest}
        onRetryLoad={history.retryLoad}
        onTryNow={act((msgId) => chat.retry(msgId))}
        onCancel={act((msgId) => chat.cancel(msgId))}
        actions={actions}
        unreadFrom={unreadFrom}
        onRevealUnread={history.reveal}
        onSeen={seen}
      />
      {actionError && (
        <div role="alert" className="bg-red-50 px-5 py-1.5 text-xs text-red-700 dark:bg-red-950/50 dark:text-red-300">
          <ErrorText error={actionError} />
        </div>
      )}
      {replyTo && <ReplyBar message={replyTo} onCancel={() => setReplyTo(undefined)} />}
      {channel.kind === 'dm' && <FileTransfers peerId={channel.title} peerState={channel.peer?.state ?? 'offline'} drop={drop} />}
      {canSend ? (
        <Composer
          composerRef={composerRef}
          text={draft}
          onText={(text) => {
            setDraft(text);
            // The host sends "typing…" to a ChatP2P peer at most every 3 s.
            if (text !== '' && channel.kind === 'dm') chat.typing(channel.id).catch(() => undefined);
          }}
          prefix={replyTo ? quoteLine(replyTo) : ''}
          onSend={send}
          placeholder={channel.kind === 'dm' ? t.composerPlaceholderDm(channel.title) : t.composerPlaceholderChannel(channel.kind === 'broadcast' ? '*' : channel.title)}
        />
      ) : (
        <p data-testid="no-composer" className="border-t border-zinc-200 bg-white px-5 py-3 text-sm text-zinc-700 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300">
          {t.secure.unverifiedNoReply(channel.title)}
        </p>
      )}
    </main>
  );
}

/** Above the composer while replying: who and what is quoted, and a way out. */
function ReplyBar({ message, onCancel }: { message: ChatMessage; onCancel: () => void }) {
  const t = useStrings();
  return (
    <div data-testid="reply-bar" className="flex items-center gap-2 border-t border-zinc-200 bg-white px-5 pt-2 text-xs dark:border-zinc-800 dark:bg-zinc-950">
      <span className="h-8 w-1 shrink-0 rounded bg-sky-500" />
      <span className="min-w-0 flex-1">
        <span className="block font-medium text-sky-700 dark:text-sky-300">{t.replyingTo(message.from)}</span>
        <span className="block truncate text-zinc-600 dark:text-zinc-400">{message.text}</span>
      </span>
      <button type="button" onClick={onCancel} aria-label={t.cancelReply} title={t.cancelReply} className="rounded-lg p-1 text-zinc-500 hover:bg-zinc-100 dark:hover:bg-zinc-800">
        <Icon name="close" className="size-4" />
      </button>
    </div>
  );
}
