// A modal <dialog>, opened as it mounts: the browser keeps the focus in it, and Escape (the
// dialog's cancel) calls onClose instead of closing it behind React's back.

import { useEffect, useRef, type ReactNode } from 'react';

export function ModalDialog({ headingId, onClose, children }: { headingId: string; onClose: () => void; children: ReactNode }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog
      ref={dialog}
      aria-labelledby={headingId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className="m-auto w-full max-w-md rounded-2xl border border-zinc-200 bg-white p-6 text-zinc-900 shadow-xl backdrop:bg-black/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      {children}
    </dialog>
  );
}
