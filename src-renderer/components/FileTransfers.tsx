// Files with the peer of a DM (chatp2p-files): each transfer as a card (offer with Accept and
// Decline, a progress bar with speed and time left, then Open and Show in folder), and the attach
// button, disabled with the reason toward a peer whose client has no file transfer.

import { useEffect, useState } from 'react';
import { asChatError, OVER_MAX_SIZE, type ChatError, type ChatPeerState, type FileSupport, type FileTransfer } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings } from '../i18n.ts';
import { useChat } from '../state/chat-context.ts';
import { ErrorText } from './ErrorText.tsx';
import type { FileDrop } from '../state/use-file-drop.ts';

interface FileTransfersProps {
  peerId: string;
  /** A change (the peer connecting) asks again whether files can go to it. */
  peerState: ChatPeerState;
  /** Files dropped on the conversation, waiting for one confirmation. */
  drop: FileDrop;
}

const ENDED = new Set(['declined', 'cancelled', 'expired', 'failed']);

export function FileTransfers({ peerId, peerState, drop }: FileTransfersProps) {
  const chat = useChat();
  const t = useStrings();
  const [transfers, setTransfers] = useState<FileTransfer[]>([]);
  const [support, setSupport] = useState<FileSupport>();
  const [error, setError] = useState<ChatError>();

  useEffect(() => {
    let live = true;
    const upsert = (x: FileTransfer) => setTransfers((list) => (list.some((y) => y.id === x.id) ? list.map((y) => (y.id === x.id ? x : y)) : [...list, x]));
    const off = chat.on('transfer', (x) => x.peerId === peerId && upsert(x));
    chat.transfers().then(
      (all) => live && all.filter((x) => x.peerId === peerId).forEach(upsert),
      () => undefined,
    );
    return () => {
      live = false;
      off();
      setTransfers([]);
    };
  }, [chat, peerId]);

  useEffect(() => {
    let live = true;
    chat.fileSupport(peerId).then(
      (s) => live && setSupport(s),
      () => live && setSupport(undefined),
    );
    return () => {
      live = false;
    };
  }, [chat, peerId, peerState]);

  const run = (command: Promise<unknown>) => {
    setError(undefined);
    command.catch((e: unknown) => setError(asChatError(e)));
  };
  const legacy = support?.support === 'legacy';

  return (
    <div data-testid="file-transfers" className="border-t border-zinc-200 bg-white px-4 py-2 dark:border-zinc-800 dark:bg-zinc-950">
      {transfers.map((x) => (
        <TransferCard key={x.id} transfer={x} run={run} />
      ))}
      {drop.pending.length > 0 && (
        <div role="dialog" aria-label={t.sendDroppedTitle} className="mb-2 rounded-xl border border-sky-300 bg-sky-50 px-3 py-2 text-sm dark:border-sky-800 dark:bg-sky-950/40">
          <p>{t.sendDropped(drop.pending.length, peerId)}</p>
          <p className="truncate text-xs text-zinc-500">{drop.pending.map((f) => f.name).join(', ')}</p>
          <div className="mt-1 flex gap-2">
            <CardButton label={legacy ? t.cancelFile : t.sendDroppedConfirm} onClick={() => (legacy ? drop.dismiss() : run(drop.confirm()))} />
            {!legacy && <CardButton label={t.cancelFile} onClick={drop.dismiss} />}
          </div>
        </div>
      )}
      <div className="flex items-center gap-3">
        <button
          type="button"
          disabled={legacy}
          onClick={() => run(chat.attachFiles(peerId))}
          aria-describedby={legacy ? 'attach-reason' : undefined}
          className="rounded-full border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 disabled:cursor-not-allowed disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          {t.attachFiles}
        </button>
        {legacy && (
          <p id="attach-reason" data-testid="attach-reason" className="text-xs text-zinc-500 dark:text-zinc-400">
            {t.filesLegacy(peerId)}
          </p>
        )}
        {error && (
          <div role="alert" className="text-xs text-red-700 dark:text-red-300">
            <ErrorText error={error} />
          </div>
        )}
      </div>
    </div>
  );
}

function TransferCard({ transfer: x, run }: { transfer: FileTransfer; run: (command: Promise<unknown>) => void }) {
  const chat = useChat();
  const t = useStrings();
  const locale = useLocale();
  const percent = x.size === 0 ? 100 : Math.floor((x.offset * 100) / x.size);
  const rate = x.bytesPerSecond;
  const secondsLeft = rate && rate > 0 ? Math.ceil((x.size - x.offset) / rate) : undefined;
  const size = (bytes: number) => formatBytes(bytes, locale);
  return (
    <div data-testid="transfer" data-state={x.state} className="mb-2 rounded-xl border border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800">
      <div className="flex items-baseline justify-between gap-3">
        <span className="truncate font-medium" title={x.name}>
          {x.name}
        </span>
        <span className="shrink-0 text-xs text-zinc-500">{size(x.size)}</span>
      </div>
      <p data-testid="transfer-status" className="text-xs text-zinc-500 dark:text-zinc-400">
        {x.direction === 'in' && x.state === 'declined' && x.error?.startsWith(OVER_MAX_SIZE) ? (
          t.declinedOverMax
        ) : (
          <>
            {t.transferState(x.direction, x.state)}
            {x.error && ENDED.has(x.state) && (
              <>
                : <span lang="en">{x.error}</span>
              </>
            )}
          </>
        )}
      </p>
      {x.direction === 'in' && x.state === 'complete' && x.mediaType.startsWith('image/') && <Thumbnail id={x.id} name={x.name} />}
      {x.state === 'transferring' && (
        <div className="mt-1">
          <div role="progressbar" aria-label={t.transferProgress(x.name)} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="h-1.5 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800">
            <div className="h-full bg-sky-600" style={{ width: `${percent}%` }} />
          </div>
          <p className="mt-0.5 text-xs tabular-nums text-zinc-500">{t.transferSpeed(percent, rate === undefined ? undefined : size(Math.round(rate)), secondsLeft)}</p>
        </div>
      )}
      <div className="mt-1 flex gap-2">
        {x.direction === 'in' && x.state === 'offered' && (
          <>
            <CardButton label={t.acceptFile} onClick={() => run(chat.acceptFile(x.id))} />
            <CardButton label={t.declineFile} onClick={() => run(chat.declineFile(x.id))} />
          </>
        )}
        {(x.state === 'offered' || x.state === 'transferring') && x.direction === 'out' && <CardButton label={t.cancelFile} onClick={() => run(chat.cancelTransfer(x.id))} />}
        {x.state === 'transferring' && x.direction === 'in' && <CardButton label={t.cancelFile} onClick={() => run(chat.cancelTransfer(x.id))} />}
        {x.direction === 'in' && x.state === 'complete' && (
          <>
            <CardButton label={t.openFile} onClick={() => run(chat.openDownload(x.id))} />
            <CardButton label={t.showInFolder} onClick={() => run(chat.showDownload(x.id))} />
          </>
        )}
      </div>
    </div>
  );
}

/** A received, verified image, drawn from its bytes (a Blob), never from a path or a URL. */
function Thumbnail({ id, name }: { id: string; name: string }) {
  const chat = useChat();
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    let live = true;
    chat.previewDownload(id).then(
      ({ mediaType, data }) => {
        const blob = new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], { type: mediaType });
        const reader = new FileReader();
        reader.onload = () => live && typeof reader.result === 'string' && setSrc(reader.result);
        reader.readAsDataURL(blob);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [chat, id]);
  return src ? <img src={src} alt={name} data-testid="thumbnail" className="mt-1 max-h-40 rounded-lg" /> : null;
}

function CardButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <button type="button" onClick={onClick} className="rounded-full bg-zinc-100 px-3 py-0.5 text-xs font-medium hover:bg-zinc-200 dark:bg-zinc-800 dark:hover:bg-zinc-700">
      {label}
    </button>
  );
}

function formatBytes(bytes: number, locale: string): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toLocaleString(locale, { maximumFractionDigits: unit === 0 || value >= 10 ? 0 : 1 })} ${units[unit]}`;
}
