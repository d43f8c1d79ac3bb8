// A message's own menu ("⋯" beside its bubble, reachable with Tab): copy its text, reply with a
// quote, send a cancelled DM again, delete it from this computer's history. Arrow keys move in
// the menu, Escape closes it and gives the focus back to its button.

import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { ChatMessage } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { Icon, type IconName } from './Icons.tsx';

export interface MessageActionHandlers {
  onReply: (message: ChatMessage) => void;
  onResend: (message: ChatMessage) => void;
  onDelete: (message: ChatMessage) => void;
}

export function MessageActions({ message, handlers }: { message: ChatMessage; handlers: MessageActionHandlers }) {
  const t = useStrings();
  const menuId = useId();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState<string>();
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  useEffect(() => {
    if (note === undefined) return;
    const timer = setTimeout(() => setNote(undefined), 2000);
    return () => clearTimeout(timer);
  }, [note]);

  const run = (action: () => void) => () => {
    setOpen(false);
    button.current?.focus();
    action();
  };
  const copy = () =>
    navigator.clipboard.writeText(message.text).then(
      () => setNote(t.copied),
      () => setNote(t.copyFailed),
    );

  const items: [IconName, string, () => void][] = [
    ['copy', t.copyText, copy],
    ['reply', t.reply, () => handlers.onReply(message)],
    ...(message.kind === 'dm' && message.delivery === 'cancelled' ? [['refresh', t.resend, () => handlers.onResend(message)] as [IconName, string, () => void]] : []),
    ['trash', t.deleteMessage, () => handlers.onDelete(message)],
  ];

  const onMenuKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const list = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = list.indexOf(document.activeElement as HTMLElement);
    const step = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[e.key];
    if (step !== undefined) {
      e.preventDefault();
      list[(step + list.length) % list.length]?.focus();
    } else if (e.key === 'Escape') {
      // The menu is the topmost layer: Escape closes it and nothing under it.
      e.preventDefault();
      e.stopPropagation();
      run(() => undefined)();
    } else if (e.key === 'Tab') setOpen(false);
  };

  const own = message.direction === 'out';
  return (
    <div className={`relative self-center ${own ? 'order-first' : ''}`}>
      <button
        ref={button}
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-label={t.messageActions}
        title={t.messageActions}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        data-testid="message-actions"
        className={`rounded-full p-1 text-zinc-500 opacity-0 group-hover:opacity-100 hover:bg-zinc-200 focus:opacity-100 dark:text-zinc-400 dark:hover:bg-zinc-800 ${open ? 'opacity-100' : ''}`}
      >
        <Icon name="more" className="size-4" />
      </button>
      {note && (
        <span role="status" className={`absolute top-full mt-1 rounded bg-zinc-800 px-2 py-0.5 text-xs whitespace-nowrap text-white ${own ? 'right-0' : 'left-0'}`}>
          {note}
        </span>
      )}
      {open && (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          aria-label={t.messageActions}
          onKeyDown={onMenuKeyDown}
          className={`absolute top-full z-20 mt-1 w-52 rounded-xl border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900 ${own ? 'right-0' : 'left-0'}`}
        >
          {items.map(([icon, label, action]) => (
            <button
              key={label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={run(action)}
              className="flex w-full items-center gap-2.5 px-3 py-2 text-left text-sm text-zinc-800 hover:bg-zinc-100 focus:bg-zinc-100 focus:outline-none dark:text-zinc-200 dark:hover:bg-zinc-800 dark:focus:bg-zinc-800"
            >
              <Icon name={icon} className="size-4" />
              {label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
