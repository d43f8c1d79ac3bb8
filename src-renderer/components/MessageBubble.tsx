// One message: sender, text, time, and for our own messages how far it got.

import { useState } from 'react';
import type { ChatMessage } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings } from '../i18n.ts';
import { clockTime, fullTime } from '../state/format.ts';
import { Icon } from './Icons.tsx';
import { MessageText } from './MessageText.tsx';

interface MessageBubbleProps {
  message: ChatMessage;
  /** Hide the sender line when the previous bubble came from the same peer. */
  continued: boolean;
  onRetry: (message: ChatMessage) => void;
}

export function MessageBubble({ message, continued, onRetry }: MessageBubbleProps) {
  const t = useStrings();
  const locale = useLocale();
  const [linkError, setLinkError] = useState<string>();
  const own = message.direction === 'out';
  return (
    <li
      data-testid="message"
      data-msg-id={message.msgId}
      data-direction={message.direction}
      data-delivery={message.delivery}
      className={`flex flex-col ${own ? 'items-end' : 'items-start'} ${continued ? 'mt-0.5' : 'mt-3'}`}
    >
      {!continued && (
        <span className="mx-3 mb-0.5 text-xs font-medium text-zinc-500 dark:text-zinc-400">
          {own ? t.you : message.from}
          {message.claimedSrc && <span className="ml-1 text-amber-600 dark:text-amber-400">({t.spoofed(message.claimedSrc)})</span>}
        </span>
      )}
      <div
        className={`max-w-[min(36rem,80%)] rounded-2xl px-3.5 py-2 text-[15px] leading-snug shadow-xs ${
          own ? 'rounded-br-md bg-sky-600 text-white dark:bg-sky-700' : 'rounded-bl-md bg-white text-zinc-900 ring-1 ring-zinc-200 dark:bg-zinc-800 dark:text-zinc-100 dark:ring-zinc-700'
        } ${message.delivery === 'failed' ? 'opacity-80' : ''}`}
      >
        <p className="break-words whitespace-pre-wrap">
          <MessageText text={message.text} onLinkError={setLinkError} />
        </p>
        <div className={`mt-1 flex items-center justify-end gap-1.5 text-[11px] ${own ? 'text-sky-100' : 'text-zinc-500 dark:text-zinc-400'}`}>
          <time dateTime={new Date(message.at).toISOString()} title={fullTime(locale, message.at)}>
            {clockTime(locale, message.at)}
          </time>
          {own && <DeliveryNote message={message} />}
        </div>
      </div>
      {message.delivery === 'failed' && (
        <div role="alert" className="mx-1 mt-1 flex max-w-[min(36rem,80%)] items-center gap-2 text-xs text-red-600 dark:text-red-400">
          <Icon name="alert" className="size-4 shrink-0" />
          <span className="min-w-0">{message.error ? `${t.failed}: ${message.error}` : t.failed}</span>
          <button type="button" onClick={() => onRetry(message)} className="shrink-0 rounded-md border border-red-300 px-2 py-0.5 font-medium hover:bg-red-50 dark:border-red-800 dark:hover:bg-red-950">
            {t.retry}
          </button>
        </div>
      )}
      {linkError && (
        <p role="alert" className="mx-3 mt-1 text-xs text-red-600 dark:text-red-400">
          {linkError}
        </p>
      )}
    </li>
  );
}

function DeliveryNote({ message }: { message: ChatMessage }) {
  const t = useStrings();
  if (message.kind === 'pub') return <span data-testid="delivery">· {t.sentTo(message.recipients ?? 0)}</span>;
  switch (message.delivery) {
    case 'delivered':
      return (
        <span data-testid="delivery" className="inline-flex items-center gap-0.5">
          <Icon name="check" className="size-3.5" />
          {t.delivered}
        </span>
      );
    case 'failed':
      return <span data-testid="delivery">{t.failed}</span>;
    default:
      return (
        <span data-testid="delivery" className="inline-flex items-center gap-0.5">
          <Icon name="clock" className="size-3.5" />
          {t.sending}
        </span>
      );
  }
}
