// The conversation header's "⋮" menu (a PopupMenu): export as text or JSON (a download, no new
// window) and delete, which asks first.

import { useEffect, useId, useRef, useState } from 'react';
import { asChatError, type ChatError, type ConversationId, type ExportedConversation, type ExportFormat } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { useChat } from '../state/chat-context.ts';
import { Icon } from './Icons.tsx';
import { PopupMenu, type MenuItem } from './PopupMenu.tsx';

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
  const [confirming, setConfirming] = useState(false);
  const button = useRef<HTMLButtonElement>(null);

  const exportAs = (format: ExportFormat) => chat.exportConversation(conversationId, format).then(download, (e: unknown) => onError(asChatError(e)));
  const items: MenuItem[] = [
    { icon: 'download', label: t.exportText, run: () => void exportAs('text') },
    { icon: 'download', label: t.exportJson, run: () => void exportAs('json') },
    { icon: 'trash', label: t.deleteConversation, run: () => setConfirming(true), danger: true },
  ];

  return (
    <div className="relative ml-auto">
      <PopupMenu
        label={t.conversationActions}
        button={<Icon name="more" />}
        buttonClassName="rounded-lg p-2 text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
        items={items}
        align="right"
        buttonRef={button}
        menuWidth="w-56"
      />
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
