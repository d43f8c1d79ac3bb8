// Files dragged onto a DM: held until the user confirms (several files, one confirmation), then
// sent to the host in chunks from the dropped File objects; the host stages and offers each one.

import { useState, type DragEvent } from 'react';
import { LIMITS, type ChatApi } from '../../src-shared/chat-api.ts';

export interface FileDrop {
  dragging: boolean;
  /** Dropped and waiting for the user's confirmation. */
  pending: File[];
  handlers: { onDragOver: (e: DragEvent) => void; onDragLeave: (e: DragEvent) => void; onDrop: (e: DragEvent) => void };
  confirm(): Promise<void>;
  dismiss(): void;
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

/** `peerId` undefined: not a DM, nothing is taken. */
export function useFileDrop(chat: ChatApi, peerId: string | undefined): FileDrop {
  const [dragging, setDragging] = useState(false);
  const [pending, setPending] = useState<File[]>([]);
  return {
    dragging,
    pending,
    handlers: {
      onDragOver: (e) => {
        if (!peerId || !hasFiles(e)) return;
        e.preventDefault();
        setDragging(true);
      },
      onDragLeave: () => setDragging(false),
      onDrop: (e) => {
        setDragging(false);
        if (!peerId || !hasFiles(e)) return;
        e.preventDefault();
        setPending(Array.from(e.dataTransfer.files));
      },
    },
    async confirm() {
      const files = pending;
      setPending([]);
      for (const file of files) await upload(chat, peerId!, file);
    },
    dismiss: () => setPending([]),
  };
}

async function upload(chat: ChatApi, peerId: string, file: File): Promise<void> {
  const id = await chat.beginUpload(peerId, file.name, file.size);
  for (let offset = 0; offset < file.size; offset += LIMITS.uploadChunkBytes) {
    const bytes = new Uint8Array(await file.slice(offset, offset + LIMITS.uploadChunkBytes).arrayBuffer());
    await chat.uploadChunk(id, offset, base64(bytes));
  }
  await chat.finishUpload(id);
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
