// Main's side of received files: "open" runs no program, a failed open says why, and the picker
// gives back what the user chose (nothing on cancel).
import type { BrowserWindow, OpenDialogOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { offerNotice, openDownload, pickFiles, pickFolder, showDownload } from '../../src-main/app/downloads.ts';
import { notificationContent, shouldNotify } from '../../src-main/app/notifications.ts';
import type { FileTransfer } from '../../src-shared/chat-api.ts';

function fakeShell(answer = '') {
  const opened: string[] = [];
  const shown: string[] = [];
  return {
    opened,
    shown,
    openPath: async (path: string) => (opened.push(path), answer),
    showItemInFolder: (path: string) => void shown.push(path),
  };
}

describe('openDownload', () => {
  it('opens a document with its application', async () => {
    const shell = fakeShell();
    await openDownload(shell, '/home/u/Downloads/notes.pdf');
    expect(shell.opened).toEqual(['/home/u/Downloads/notes.pdf']);
  });

  it.each(['setup.exe', 'run.SH', 'script.ps1', 'x.desktop', 'tool.AppImage', 'link.lnk'])('does not open %s, which could run a program', async (name) => {
    const shell = fakeShell();
    await expect(openDownload(shell, `/home/u/Downloads/${name}`)).rejects.toThrow(`${name} could run a program, so it is not opened from here: use "show in folder"`);
    expect(shell.opened).toEqual([]);
  });

  it('says why when the system cannot open it', async () => {
    await expect(openDownload(fakeShell('No application is registered'), '/d/a.xyz')).rejects.toThrow('cannot open a.xyz: No application is registered');
  });

  it('shows any received file in its folder', () => {
    const shell = fakeShell();
    showDownload(shell, '/d/setup.exe');
    expect(shell.shown).toEqual(['/d/setup.exe']);
  });
});

describe('pickFiles', () => {
  const dialog = (result: { canceled: boolean; filePaths: string[] }, calls: unknown[][]) => ({
    showOpenDialog: (async (...args: unknown[]) => (calls.push(args), result)) as never,
  });

  it('asks for several files, over the window', async () => {
    const calls: unknown[][] = [];
    const window = { id: 1 } as unknown as BrowserWindow;
    expect(await pickFiles(dialog({ canceled: false, filePaths: ['/a', '/b'] }, calls), window)).toEqual(['/a', '/b']);
    expect(calls[0]![0]).toBe(window);
    expect((calls[0]![1] as OpenDialogOptions).properties).toEqual(['openFile', 'multiSelections']);
  });

  it('gives nothing when the user cancels', async () => {
    expect(await pickFiles(dialog({ canceled: true, filePaths: ['/a'] }, []), undefined)).toEqual([]);
  });
});

describe('pickFolder', () => {
  it('asks for one folder, over the window, and gives nothing when the user cancels', async () => {
    const calls: unknown[][] = [];
    const window = { id: 1 } as unknown as BrowserWindow;
    const dialog = (result: { canceled: boolean; filePaths: string[] }) => ({ showOpenDialog: (async (...args: unknown[]) => (calls.push(args), result)) as never });
    expect(await pickFolder(dialog({ canceled: false, filePaths: ['/home/ana/Aulas'] }), window)).toBe('/home/ana/Aulas');
    expect(calls[0]![0]).toBe(window);
    expect((calls[0]![1] as OpenDialogOptions).properties).toEqual(['openDirectory', 'createDirectory']);
    expect(await pickFolder(dialog({ canceled: true, filePaths: ['/x'] }), undefined)).toBeUndefined();
  });
});

describe('offerNotice', () => {
  const offer: FileTransfer = {
    id: 'f-1', direction: 'in', peerId: 'bob@CIC', name: 'notas\n<b>.pdf', size: 1_200_000, mediaType: 'application/pdf', sha256: '0'.repeat(64),
    state: 'offered', offset: 0, path: undefined, error: undefined, at: 1, expiresAt: 2, bytesPerSecond: undefined,
  };
  const settings = { notifications: true, notifyChannels: [] };

  it('notifies a new offer as from its sender, in that DM, with the name on one line and escaped on Linux', () => {
    const notice = offerNotice(offer)!;
    expect(shouldNotify(notice, { focused: false, activeConversation: undefined, settings })).toBe(true);
    expect(shouldNotify(notice, { focused: true, activeConversation: 'dm:bob@CIC', settings })).toBe(false);
    expect(notificationContent(notice, 'linux')).toEqual({ title: 'bob@CIC', body: 'File offer: notas?&lt;b&gt;.pdf, 1.2 MB' });
  });

  it('is nothing for our own offers or later states', () => {
    expect(offerNotice({ ...offer, direction: 'out' })).toBeUndefined();
    expect(offerNotice({ ...offer, state: 'transferring' })).toBeUndefined();
  });
});
