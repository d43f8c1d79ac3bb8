// The conversation header's "⋮" menu: export as text or JSON (a download, no new window) and
// delete, which asks first.

import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { asChatError, type ChatError, type ConversationId, type ExportedConversation, type ExportFormat } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { useChat } from '../state/chat-context.ts';
import { Icon, type IconName } from './Icons.tsx';

interface ConversationMenuProps {
  conversationId: ConversationId;
  title: string;
  onDeleted: () => void;
  onError: (error: ChatError) => void;
}

/** Hands the file to the browser's download: Electron's session and Chromium save it where the user says. */
function download(file: ExportedConversation): void {
  const url = URL.createObjectURL(new Blob([file.content], { type: file.mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.fileName;
  link.click();
  // The download has its own copy once it started; a minute is far more than it needs.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function ConversationMenu({ conversationId, title, onDeleted, onError }: ConversationMenuProps) {
  const t = useStrings();
  const chat = useChat();
  const menuId = useId();
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  // A click anywhere else closes the menu.
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  const exportAs = (format: ExportFormat) => {
    close();
    chat.exportConversation(conversationId, format).then(download, (e: unknown) => onError(asChatError(e)));
  };

  // Arrow keys move between items, Escape and Tab leave the menu (WAI-ARIA menu button).
  const onMenuKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const move = (index: number) => {
      e.preventDefault();
      items[(index + items.length) % items.length]?.focus();
    };
    if (e.key === 'ArrowDown') move(at + 1);
    else if (e.key === 'ArrowUp') move(at - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(items.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'Tab') setOpen(false);
  };

  const items: [IconName, string, () => void][] = [
    ['download', t.exportText, () => exportAs('text')],
    ['download', t.exportJson, () => exportAs('json')],
    [
      'trash',
      t.deleteConversation,
      () => {
        setOpen(false);
        setConfirming(true);
      },
    ],
  ];

  return (
    <div className="relative ml-auto">
      <button
        ref={button}
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-label={t.conversationActions}
        title={t.conversationActions}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        className="rounded-lg p-2 text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      >
        <Icon name="more" />
      </button>
      {open && (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          aria-label={t.conversationActions}
          onKeyDown={onMenuKeyDown}
          className="absolute top-full right-0 z-20 mt-1 w-56 rounded-xl border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
        >
          {items.map(([icon, label, run], i) => (
            <button
              key={label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={run}
              className={`flex w-full items-center gap-2.5 px-3 py-2 text-left text-sm hover:bg-zinc-100 focus:bg-zinc-100 focus:outline-none dark:hover:bg-zinc-800 dark:focus:bg-zinc-800 ${
                i === items.length - 1 ? 'text-red-700 dark:text-red-400' : ''
              }`}
            >
              <Icon name={icon} className="size-4" />
              {label}
            </button>
          ))}
        </div>
      )}
      {confirming && (
        <DeleteDialog
          title={title}
          onCancel={() => {
            setConfirming(false);
            button.current?.focus();
          }}
          onConfirm={() => chat.deleteConversation(conversationId).then(onDeleted)}
        />
      )}
    </div>
  );
}

interface DeleteDialogProps {
  title: string;
  onCancel: () => void;
  /** Rejects with the host's reason, shown in the dialog. */
  onConfirm: () => Promise<void>;
}

/** A modal <dialog>: the browser traps focus in it and Escape cancels it. */
function DeleteDialog({ title, onCancel, onConfirm }: DeleteDialogProps) {
  const t = useStrings();
  const dialog = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const bodyId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ChatError>();

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const confirm = () => {
    setBusy(true);
    setError(undefined);
    onConfirm().catch((e: Error) => {
      setBusy(false);
      setError(asChatError(e));
    });
  };

  return (
    <dialog
      ref={dialog}
      role="alertdialog"
      aria-labelledby={headingId}
      aria-describedby={bodyId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
      className="m-auto w-full max-w-md rounded-2xl border border-zinc-200 bg-white p-6 text-zinc-900 shadow-xl backdrop:bg-black/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <h2 id={headingId} className="text-base font-semibold">
        {t.deleteTitle}
      </h2>
      <p id={bodyId} className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
        {t.deleteBody(title)}
      </p>
      {error && (
        <div role="alert" className="mt-3 text-sm text-red-700 dark:text-red-400">
          <ErrorText error={error} />
        </div>
      )}
      <div className="mt-5 flex justify-end gap-2">
        {/* The safe choice has the focus: Enter alone deletes nothing. */}
        <button type="button" autoFocus onClick={onCancel} className="rounded-lg border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800">
          {t.cancel}
        </button>
        <button type="button" onClick={confirm} disabled={busy} className="rounded-lg bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-700 disabled:opacity-50">
          {t.deleteConfirm}
        </button>
      </div>
    </dialog>
  );
}
