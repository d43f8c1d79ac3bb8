// The file settings in the Settings screen, in Chromium against the browser host: the maximum
// size and auto-accept are saved (and kept by the host), and the running engine follows them at
// once: an offer over the maximum is declined with a sentence, one under the auto-accept size
// from a verified peer arrives without a click, one over it still asks. The folder shows, and a
// path cannot be set from the page: only the desktop app's own picker chooses one.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nextEvent, waitFor } from '../helpers/peers.ts';
import { startSecureEngine, stopSecureEngines, type SecureEngine } from '../secure/helpers.ts';
import { FAST_TIMERS, accessibilityProblems, customProfile, eventually, openMessenger, useSuite } from './harness.ts';

const files = mkdtempSync(join(tmpdir(), 'chatp2p-e2e-file-settings-'));
const downloads = join(files, 'Downloads');
let bob: SecureEngine;

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS, files: { downloadDir: downloads, maxMB: 1024, autoAcceptMB: 0 } }),
  before: async ({ rendezvous }) => {
    bob = await startSecureEngine(rendezvous.port, 'bob');
    await waitFor('bob connected to alice, encrypted', () => bob.security('alice@CIC') === 'encrypted', 15_000);
  },
  after: async () => {
    await stopSecureEngines();
    rmSync(files, { recursive: true, force: true });
  },
});

const offerFromBob = async (name: string, bytes: number) => {
  writeFileSync(join(files, name), randomBytes(bytes));
  return bob.engine.sendFile('alice@CIC', join(files, name));
};

describe('file settings', () => {
  test('maximum size and auto-accept are saved, and the next offers follow them', async () => {
    const page = await openMessenger(suite);
    // Auto-accept is for a peer whose safety number the user compared: mark bob's.
    await page.getByTestId('channel-dm:bob@CIC').click();
    await page.getByRole('button', { name: 'Safety number' }).click();
    const dialog = page.getByRole('dialog', { name: 'Safety number with bob@CIC' });
    await dialog.getByRole('button', { name: 'Mark as verified' }).click();
    await dialog.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('download-folder').filter({ hasText: downloads }).waitFor();
    // In a tab no folder picker is offered, and none can be typed.
    expect(await page.getByRole('button', { name: 'Choose…' }).count()).toBe(0);
    const form = page.getByRole('form', { name: 'File sizes' });
    await form.getByLabel('Maximum size (MB)').fill('0');
    await form.getByText('Enter a whole number of MB, 1 or more.').waitFor();
    expect(await form.getByRole('button', { name: 'Save file sizes' }).isDisabled()).toBe(true);
    await form.getByLabel('Maximum size (MB)').fill('3');
    await form.getByLabel('Accept automatically up to (MB)').fill('1');
    await form.getByRole('button', { name: 'Save file sizes' }).click();
    await form.getByText('Saved').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    // Kept by the host, in its settings file, for the next start.
    const saved = JSON.parse(readFileSync(join(suite.dataDir, 'web-settings.json'), 'utf8')) as { files: unknown };
    expect(saved.files).toEqual({ downloadDir: downloads, maxMB: 3, autoAcceptMB: 1 });

    await page.getByRole('button', { name: 'Back to chats' }).click();
    const card = (name: string) => page.getByTestId('transfer').filter({ hasText: name });

    const big = await offerFromBob('big.iso', 4 * 2 ** 20);
    const declined = nextEvent(bob.engine, 'transfer', (t) => t.id === big.id && t.state === 'declined');
    await card('big.iso').getByText('Declined at once: larger than your maximum size (Settings › Files).').waitFor();
    expect((await declined).error).toBe('declined by alice@CIC: over the maximum size (3.1 MB)');

    const small = await offerFromBob('notes.pdf', 512 * 1024);
    await card('notes.pdf').getByText('Received and verified').waitFor({ timeout: 20_000 });
    expect(readFileSync(join(downloads, 'notes.pdf'))).toEqual(readFileSync(join(files, 'notes.pdf')));
    await eventually(() => bob.engine.transfers().find((t) => t.id === small.id)?.state).toBe('complete');

    await offerFromBob('slides.pdf', 2 * 2 ** 20);
    await card('slides.pdf').getByRole('button', { name: 'Accept' }).waitFor();
  });

  test('the page cannot set a download folder; it can go back to Downloads', async () => {
    const refused = await suite.app.service.dispatch('updateSettings', [{ files: { downloadDir: files } }]);
    expect(refused).toEqual({ ok: false, error: { code: 'invalid-request', detail: 'the download folder is chosen with the folder picker (chooseDownloadFolder)' } });
    expect(await suite.app.service.dispatch('chooseDownloadFolder', [])).toMatchObject({ ok: false, error: { code: 'desktop-only' } });

    const page = await openMessenger(suite);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Use the Downloads folder' }).click();
    await page.getByTestId('download-folder').filter({ hasText: "The system's Downloads folder" }).waitFor();
    expect(suite.app.service.settings.files.downloadDir).toBeUndefined();
  });
});
