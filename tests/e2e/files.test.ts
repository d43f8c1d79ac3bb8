// Files in the UI, in Chromium against the browser host: an offer from a peer shows with Accept
// and Decline; accepted, it shows progress and then arrives verified in the download folder;
// declined, the sender is told; toward a legacy peer the attach button is disabled, saying why.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { ScriptedPeer, nextEvent, startEngine, waitFor, type TestEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, customProfile, eventually, useSuite } from './harness.ts';

const files = mkdtempSync(join(tmpdir(), 'chatp2p-e2e-files-'));
const downloads = join(files, 'Downloads');
let bob: TestEngine;
const legacy = new ScriptedPeer({ peerId: 'old@CIC', features: ['ack'] });

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS, files: { downloadDir: downloads, maxMB: 1024, autoAcceptMB: 0 } }),
  before: async (s) => {
    bob = await startEngine(s.rendezvous.port, 'bob', 'CIC');
    await legacy.listen();
    await legacy.register(s.rendezvous.port);
  },
  after: async () => {
    await legacy.close();
    rmSync(files, { recursive: true, force: true });
  },
});

async function conversationWith(peerId: string): Promise<Page> {
  const page = await suite.open();
  await page.getByTestId('own-peer-id').waitFor();
  await waitFor(`${peerId} connected`, () => suite.app.service !== undefined && (peerId !== 'bob@CIC' || bob.peer('alice@CIC')?.state === 'open'), 15_000);
  suite.app.service.openConversation(`dm:${peerId}`);
  await page.getByTestId('conversation-title').filter({ hasText: peerId }).waitFor();
  return page;
}

const card = (page: Page, name: string) => page.getByTestId('transfer').filter({ hasText: name });

describe('files', () => {
  test('an offer shows Accept and Decline; accepted, it shows progress and arrives verified in the download folder', async () => {
    const page = await conversationWith('bob@CIC');
    const data = randomBytes(48 * 2 ** 20);
    writeFileSync(join(files, 'aula.pdf'), data);
    const offer = await bob.engine.sendFile('alice@CIC', join(files, 'aula.pdf'));
    const offered = card(page, 'aula.pdf');
    await offered.getByText('Wants to send you this file').waitFor();
    await offered.getByRole('button', { name: 'Decline' }).waitFor();
    await offered.getByRole('button', { name: 'Accept' }).click();
    await offered.getByRole('progressbar', { name: 'Progress of aula.pdf' }).waitFor();
    await offered.getByText('Received and verified').waitFor({ timeout: 30_000 });
    await eventually(() => bob.engine.transfers().find((t) => t.id === offer.id)?.state).toBe('complete');
    expect(createHash('sha256').update(readFileSync(join(downloads, 'aula.pdf'))).digest('hex')).toBe(offer.sha256);
    // In a browser tab nothing on this computer is opened: only the desktop app does that.
    await offered.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('alert').filter({ hasText: 'opening files works in the desktop app' }).waitFor();
  });

  test('Decline tells the sender, and nothing is written', async () => {
    const page = await conversationWith('bob@CIC');
    writeFileSync(join(files, 'spam.zip'), 'zip');
    const offer = await bob.engine.sendFile('alice@CIC', join(files, 'spam.zip'));
    const told = nextEvent(bob.engine, 'transfer', (t) => t.id === offer.id && t.state === 'declined');
    await card(page, 'spam.zip').getByRole('button', { name: 'Decline' }).click();
    expect((await told).error).toBe('declined by alice@CIC');
    await card(page, 'spam.zip').getByText('Declined').waitFor();
    expect(() => readFileSync(join(downloads, 'spam.zip'))).toThrow();
  });

  test('toward a legacy peer the attach button is disabled, and says why', async () => {
    await waitFor('old@CIC connected', () => legacy.sockets.size > 0, 15_000);
    const page = await conversationWith('old@CIC');
    const attach = page.getByRole('button', { name: 'Send files…' });
    await page.getByTestId('attach-reason').filter({ hasText: 'old@CIC uses a PyP2P client without file transfer: only text can be sent to them.' }).waitFor();
    expect(await attach.isDisabled()).toBe(true);
  });
});
