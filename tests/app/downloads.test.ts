// Main's side of received files: "open" runs no program, a failed open says why, and the picker
// gives back what the user chose (nothing on cancel).
import type { BrowserWindow, OpenDialogOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { openDownload, pickFiles, showDownload } from '../../src-main/app/downloads.ts';

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
