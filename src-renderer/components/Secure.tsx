// chatp2p-secure in the UI (docs/SECURE.md): the lock or "not encrypted" of a peer, the banner
// for a changed key with its accept action, and the safety-number dialog.

import { useEffect, useId, useState } from 'react';
import type { ChatPeer, PeerKeyView } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { useChat } from '../state/chat-context.ts';
import { ModalDialog } from './ModalDialog.tsx';

function LockIcon({ open }: { open: boolean }) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" className="size-3.5 shrink-0" aria-hidden="true">
      <path d={open ? 'M6 11h12v9H6zM8 11V7a4 4 0 0 1 7.5-2' : 'M6 11h12v9H6zM8 11V7a4 4 0 0 1 8 0v4'} />
    </svg>
  );
}

/** The pinned key of one peer, kept current from the host's `keys` events. */
export function usePeerKey(peerId: string | undefined): PeerKeyView | undefined {
  const chat = useChat();
  const [key, setKey] = useState<PeerKeyView>();
  useEffect(() => {
    setKey(undefined);
    if (peerId === undefined) return undefined;
    let live = true;
    chat.keys(peerId).then(
      (list) => live && setKey(list.keys[0]),
      () => undefined,
    );
    const off = chat.on('keys', (view) => {
      if (view.peerId === peerId) setKey(view);
    });
    return () => {
      live = false;
      off();
    };
  }, [chat, peerId]);
  return key;
}

/** A lock for a sealed connection; "not encrypted" in words otherwise (colour is never the only cue). */
export function SecurityBadge({ peer }: { peer: ChatPeer | undefined }) {
  const t = useStrings();
  const security = peer?.state === 'open' ? peer.security : undefined;
  if (security === undefined) return null;
  const tone = security === 'encrypted' ? 'text-emerald-700 dark:text-emerald-400' : security === 'plain' ? 'text-zinc-600 dark:text-zinc-400' : 'text-red-700 dark:text-red-400';
  return (
    <span data-testid="security" data-security={security} className={`inline-flex items-center gap-1 ${tone}`}>
      <LockIcon open={security !== 'encrypted'} />
      {t.secure.badge[security]}
    </span>
  );
}

/** Says a pinned peer's key changed; our DMs to it wait until the user accepts the new key. */
export function KeyChangeBanner({ peerKey }: { peerKey: PeerKeyView | undefined }) {
  const t = useStrings();
  const chat = useChat();
  const [error, setError] = useState<string>();
  if (!peerKey?.keyChanged) return null;
  return (
    <div role="alert" data-testid="key-change-banner" className="flex items-center gap-3 bg-red-50 px-5 py-2 text-sm text-red-800 dark:bg-red-950/50 dark:text-red-200">
      <span className="flex-1">{error ?? t.secure.keyChanged(peerKey.peerId)}</span>
      <button
        type="button"
        onClick={() => chat.acceptKey(peerKey.peerId).then(() => setError(undefined), (e: Error) => setError(e.message))}
        className="rounded-lg border border-red-300 px-3 py-1 font-medium hover:bg-red-100 dark:border-red-800 dark:hover:bg-red-900"
      >
        {t.secure.acceptKey}
      </button>
    </div>
  );
}

/** The button that opens the safety number of a pinned peer. */
export function SafetyNumberButton({ peerKey }: { peerKey: PeerKeyView | undefined }) {
  const t = useStrings();
  const [open, setOpen] = useState(false);
  if (peerKey === undefined) return null;
  return (
    <>
      <button
        type="button"
        onClick={() => setOpen(true)}
        className="ml-auto rounded-lg px-2 py-1 text-xs font-medium text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      >
        {peerKey.verified ? t.secure.verifiedButton : t.secure.safetyNumberButton}
      </button>
      {open && <SafetyNumberDialog peerKey={peerKey} onClose={() => setOpen(false)} />}
    </>
  );
}

/** A modal <dialog>: the safety number in groups, and the verify action. */
function SafetyNumberDialog({ peerKey, onClose }: { peerKey: PeerKeyView; onClose: () => void }) {
  const t = useStrings();
  const chat = useChat();
  const headingId = useId();
  const [error, setError] = useState<string>();
  const groups = peerKey.safetyNumber.split(' ');
  return (
    <ModalDialog headingId={headingId} onClose={onClose}>
      <h2 id={headingId} className="text-base font-semibold">
        {t.secure.safetyNumberTitle(peerKey.peerId)}
      </h2>
      <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">{t.secure.safetyNumberHelp(peerKey.peerId)}</p>
      <p data-testid="safety-number" aria-label={peerKey.safetyNumber} className="mt-4 grid grid-cols-4 gap-x-4 gap-y-1 font-mono text-lg tracking-wider">
        {groups.map((g, i) => (
          <span key={i}>{g}</span>
        ))}
      </p>
      <p className="mt-3 text-xs text-zinc-600 dark:text-zinc-400">{peerKey.verified ? t.secure.isVerified : t.secure.notVerified}</p>
      {error && (
        <p role="alert" className="mt-3 text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      <div className="mt-5 flex justify-end gap-2">
        <button type="button" autoFocus onClick={onClose} className="rounded-lg border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800">
          {t.secure.close}
        </button>
        <button
          type="button"
          onClick={() => chat.verifyKey(peerKey.peerId, !peerKey.verified).then(() => setError(undefined), (e: Error) => setError(e.message))}
          className="rounded-lg bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700"
        >
          {peerKey.verified ? t.secure.unmarkVerified : t.secure.markVerified}
        </button>
      </div>
    </ModalDialog>
  );
}
