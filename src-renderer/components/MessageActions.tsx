// A message's own menu ("⋯" beside its bubble, reachable with Tab): copy its text, reply with a
// quote, send a cancelled DM again, delete it from this computer's history.

import { useEffect, useState } from 'react';
import type { ChatMessage } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { Icon } from './Icons.tsx';
import { PopupMenu, type MenuItem } from './PopupMenu.tsx';

export interface MessageActionHandlers {
  /** Absent where nothing can be sent (the unverified chat). */
  onReply?: (message: ChatMessage) => void;
  onResend: (message: ChatMessage) => void;
  onDelete: (message: ChatMessage) => void;
}

export function MessageActions({ message, handlers }: { message: ChatMessage; handlers: MessageActionHandlers }) {
  const t = useStrings();
  const [note, setNote] = useState<string>();

  useEffect(() => {
    if (note === undefined) return;
    const timer = setTimeout(() => setNote(undefined), 2000);
    return () => clearTimeout(timer);
  }, [note]);

  const copy = () =>
    navigator.clipboard.writeText(message.text).then(
      () => setNote(t.copied),
      () => setNote(t.copyFailed),
    );
  const items: MenuItem[] = [
    { icon: 'copy', label: t.copyText, run: () => void copy() },
    ...(handlers.onReply ? [{ icon: 'reply', label: t.reply, run: () => handlers.onReply?.(message) } as const] : []),
    ...(message.kind === 'dm' && message.delivery === 'cancelled' ? [{ icon: 'refresh', label: t.resend, run: () => handlers.onResend(message) } as const] : []),
    { icon: 'trash', label: t.deleteMessage, run: () => handlers.onDelete(message) },
  ];

  const own = message.direction === 'out';
  return (
    <div className={`relative self-center ${own ? 'order-first' : ''}`}>
      <PopupMenu
        label={t.messageActions}
        button={<Icon name="more" className="size-4" />}
        buttonClassName="rounded-full p-1 text-zinc-500 opacity-0 group-hover:opacity-100 hover:bg-zinc-200 focus:opacity-100 aria-expanded:opacity-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
        items={items}
        align={own ? 'right' : 'left'}
        testId="message-actions"
      />
      {note && (
        <span role="status" className={`absolute top-full mt-1 rounded bg-zinc-800 px-2 py-0.5 text-xs whitespace-nowrap text-white ${own ? 'right-0' : 'left-0'}`}>
          {note}
        </span>
      )}
    </div>
  );
}
