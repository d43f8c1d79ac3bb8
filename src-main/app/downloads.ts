// Files from other peers, as main handles them for the service: the native picker for attaching
// (so no path ever comes from the renderer), and "open" / "show in folder" for a file the
// service says we received and verified. Plain functions over the Electron objects they use.

import type { BrowserWindow, Dialog, Shell } from 'electron';
import { basename } from 'node:path';
import { dmConversation, type ChatMessage, type FileTransfer } from '../../src-shared/chat-api.ts';
import { formatSize } from '../engine/extensions/files.ts';

/** Kinds the system would run rather than show: received ones are only shown in their folder. */
const RUNS_CODE = /\.(exe|msi|msix|bat|cmd|com|scr|pif|cpl|ps1|psm1|vbs|vbe|js|jse|wsf|wsh|hta|jar|lnk|url|reg|inf|sh|bash|zsh|command|tool|app|appimage|desktop|run|bin|deb|rpm|dmg|pkg|apk)$/i;

/** Opens a received file with its application; one that could run code is refused, with why. */
export async function openDownload(shell: Pick<Shell, 'openPath'>, path: string): Promise<void> {
  if (RUNS_CODE.test(path)) throw new Error(`${basename(path)} could run a program, so it is not opened from here: use "show in folder"`);
  // openPath resolves with an error message, or '' when it opened.
  const error = await shell.openPath(path);
  if (error) throw new Error(`cannot open ${basename(path)}: ${error}`);
}

export function showDownload(shell: Pick<Shell, 'showItemInFolder'>, path: string): void {
  shell.showItemInFolder(path);
}

type OpenDialogOptions = Parameters<Dialog['showOpenDialog']>[0];

async function showOpen(dialog: Pick<Dialog, 'showOpenDialog'>, window: BrowserWindow | undefined, options: OpenDialogOptions): Promise<string[]> {
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return result.canceled ? [] : result.filePaths;
}

/** The system's file picker, several files at once; nothing when the user cancels. */
export function pickFiles(dialog: Pick<Dialog, 'showOpenDialog'>, window: BrowserWindow | undefined): Promise<string[]> {
  return showOpen(dialog, window, { title: 'Send files', properties: ['openFile', 'multiSelections'] });
}

/** The system's folder picker for the download folder; undefined when the user cancels. The service checks the folder. */
export async function pickFolder(dialog: Pick<Dialog, 'showOpenDialog'>, window: BrowserWindow | undefined): Promise<string | undefined> {
  const [folder] = await showOpen(dialog, window, { title: 'Download folder', properties: ['openDirectory', 'createDirectory'] });
  return folder;
}

/**
 * A new offer as the notifier shows a DM from its sender (same policy: not while the user reads
 * that chat; a click opens it); undefined for any other transfer event.
 */
export function offerNotice(t: FileTransfer): ChatMessage | undefined {
  if (t.direction !== 'in' || t.state !== 'offered') return undefined;
  const name = t.name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return { conversationId: dmConversation(t.peerId), seq: 0, msgId: t.id, direction: 'in', kind: 'dm', from: t.peerId, to: '', text: `File offer: ${name}, ${formatSize(t.size)}`, at: t.at };
}
