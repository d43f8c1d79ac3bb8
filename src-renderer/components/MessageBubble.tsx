// One message: sender, text, time, and for our own messages how far it got. A DM waiting in the
// outbox says why and offers Try now and Cancel.

import { useState } from 'react';
import { type ChatError, type ChatMessage } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings } from '../i18n.ts';
import { Details, ErrorText } from './ErrorText.tsx';
import { clockTime, fullTime } from '../state/format.ts';
import { Icon } from './Icons.tsx';
import { MessageActions, type MessageActionHandlers } from './MessageActions.tsx';
import { MessageText } from './MessageText.tsx';

export type { MessageActionHandlers };

interface MessageBubbleProps {
  message: ChatMessage;
  /** Hide the sender line when the previous bubble came from the same peer. */
  continued: boolean;
  /** The search hit the conversation was opened at, for a moment. */
  highlighted: boolean;
  onTryNow: (message: ChatMessage) => void;
  onCancel: (message: ChatMessage) => void;
  actions: MessageActionHandlers;
}

export function MessageBubble({ message, continued, highlighted, onTryNow, onCancel, actions }: MessageBubbleProps) {
  const t = useStrings();
  const locale = useLocale();
  const [linkError, setLinkError] = useState<ChatError>();
  const own = message.direction === 'out';
  const waiting = own && message.kind === 'dm' && message.delivery === 'queued';
  return (
    <div
      data-testid="message"
      data-msg-id={message.msgId}
      data-seq={message.seq}
      data-direction={message.direction}
      data-delivery={message.delivery}
      data-highlighted={highlighted || undefined}
      className={`flex flex-col ${own ? 'items-end' : 'items-start'} ${continued ? 'pt-0.5' : 'pt-3'}`}
    >
      {!continued && (
        <span className="mx-3 mb-0.5 text-xs font-medium text-zinc-600 dark:text-zinc-400">
          {own ? t.you : message.from}
          {message.claimedSrc && <span className="ml-1 text-amber-700 dark:text-amber-400">({t.spoofed(message.claimedSrc)})</span>}
          {message.unverified && <span data-testid="unverified" className="ml-1 text-red-700 dark:text-red-400">({t.secure.unverifiedMessage})</span>}
        </span>
      )}
      <div className={`group flex w-full items-start gap-1 ${own ? 'justify-end' : ''}`}>
      <div
        className={`max-w-[min(36rem,80%)] rounded-2xl px-3.5 py-2 text-[15px] leading-snug shadow-xs transition-shadow duration-700 ${
          own ? 'rounded-br-md bg-sky-700 text-white dark:bg-sky-700' : 'rounded-bl-md bg-white text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100'
        } ${highlighted ? 'ring-4 ring-amber-400 dark:ring-amber-500' : own ? '' : 'ring-1 ring-zinc-200 dark:ring-zinc-700'} ${
          message.delivery === 'cancelled' ? 'line-through decoration-1' : waiting ? 'outline-2 outline-offset-1 outline-amber-500 outline-dashed' : ''
        }`}
      >
        <Reply message={message} onLinkError={setLinkError} />
        <div className={`mt-1 flex items-center justify-end gap-1.5 text-[11px] ${own ? 'text-white' : 'text-zinc-600 dark:text-zinc-300'}`}>
          <time dateTime={new Date(message.at).toISOString()} title={fullTime(locale, message.at)}>
            {clockTime(locale, message.at)}
          </time>
          {own && <DeliveryNote message={message} />}
        </div>
      </div>
      <MessageActions message={message} handlers={actions} />
      </div>
      {waiting && (
        <div className="mx-1 mt-1 flex max-w-[min(36rem,80%)] flex-wrap items-center justify-end gap-x-2 gap-y-1 text-xs text-amber-700 dark:text-amber-400">
          <div className="min-w-0" data-testid="waiting-reason">
            {t.waiting}
            {message.error && <Details text={message.error} />}
          </div>
          <span className="flex shrink-0 gap-1.5">
            <button
              type="button"
              onClick={() => onTryNow(message)}
              title={t.tryNowHint}
              className="rounded-md border border-amber-300 px-2 py-0.5 font-medium hover:bg-amber-50 dark:border-amber-800 dark:hover:bg-amber-950"
            >
              {t.tryNow}
            </button>
            <button
              type="button"
              onClick={() => onCancel(message)}
              title={t.cancelHint}
              className="rounded-md border border-zinc-300 px-2 py-0.5 font-medium text-zinc-700 hover:bg-zinc-100 dark:border-zinc-700 dark:text-zinc-300 dark:hover:bg-zinc-800"
            >
              {t.cancel}
            </button>
          </span>
        </div>
      )}
      {linkError && (
        <div role="alert" className="mx-3 mt-1 text-xs text-red-700 dark:text-red-400">
          <ErrorText error={linkError} />
        </div>
      )}
    </div>
  );
}

/**
 * The text; a reply between ChatP2P peers (`replyTo`) shows its quoted line as the message it
 * answers. Any other text starting with `>` is shown as it came.
 */
function Reply({ message, onLinkError }: { message: ChatMessage; onLinkError: (error: ChatError) => void }) {
  const t = useStrings();
  const newline = message.text.indexOf('\n');
  const quoted = message.replyTo !== undefined && message.text.startsWith('> ') && newline > 2;
  const text = quoted ? message.text.slice(newline + 1) : message.text;
  const quote = message.text.slice(2, newline);
  const colon = quote.indexOf(': ');
  const own = message.direction === 'out';
  return (
    <>
      {quoted && (
        <blockquote data-testid="reply-quote" className={`mb-1 border-l-2 pl-2 text-[13px] ${own ? 'border-white/70' : 'border-sky-600 text-zinc-700 dark:border-sky-400 dark:text-zinc-300'}`}>
          <span className="sr-only">{t.inReplyTo} </span>
          {colon > 0 ? (
            <>
              <span className="font-medium">{quote.slice(0, colon)}</span>
              <span className="block truncate">{quote.slice(colon + 2)}</span>
            </>
          ) : (
            <span className="block truncate">{quote}</span>
          )}
        </blockquote>
      )}
      <p className="break-words whitespace-pre-wrap">
        <MessageText text={text} onLinkError={onLinkError} />
      </p>
    </>
  );
}

function DeliveryNote({ message }: { message: ChatMessage }) {
  const t = useStrings();
  if (message.kind === 'pub') return <span data-testid="delivery">· {t.sentTo(message.recipients ?? 0)}</span>;
  const [icon, text] = (
    {
      queued: ['clock', t.queued],
      sent: ['check', t.sent],
      delivered: ['checks', t.delivered],
      read: ['checks', t.read],
      cancelled: ['close', t.cancelled],
    } as const
  )[message.delivery ?? 'queued'];
  return (
    <span data-testid="delivery" className="inline-flex items-center gap-0.5">
      <Icon name={icon} className="size-3.5" />
      {text}
    </span>
  );
}
