// Files in the UI, in Chromium against the browser host: an offer from a peer shows with Accept
// and Decline; accepted, it shows progress and then arrives verified in the download folder;
// declined, the sender is told; toward a legacy peer the attach button is disabled, saying why.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    await page.getByRole('alert').filter({ hasText: 'This works in the ChatP2P desktop app, not in a browser tab.' }).waitFor();
  });

  test('files dragged onto the chat get one confirmation, then go to the peer and arrive verified', async () => {
    const page = await conversationWith('bob@CIC');
    const received = join(files, 'bob-got');
    const offers: string[] = [];
    const off = bob.engine.on('transfer', (t) => {
      if (t.state !== 'offered' || t.direction !== 'in') return;
      offers.push(t.name);
      bob.engine.acceptFile(t.id, received);
    });
    try {
      // Built in the page (its DOM types are not this file's): two files, one over several chunks.
      const dropped = await page.evaluateHandle(`(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['um arquivo'], 'um.txt', { type: 'text/plain' }));
        dt.items.add(new File([new Uint8Array(300000).map((_, i) => i % 251)], 'dois.bin'));
        return dt;
      })()`);
      const chat = page.getByRole('main', { name: 'bob@CIC' });
      await chat.dispatchEvent('dragover', { dataTransfer: dropped });
      await chat.dispatchEvent('drop', { dataTransfer: dropped });
      const confirm = page.getByRole('dialog', { name: 'Send dropped files' });
      await confirm.getByText('Send these 2 files to bob@CIC?').waitFor();
      expect(offers).toEqual([]);
      await confirm.getByRole('button', { name: 'Send', exact: true }).click();
      for (const name of ['um.txt', 'dois.bin']) await card(page, name).getByText('Delivered and verified').waitFor({ timeout: 20_000 });
      expect(offers).toEqual(['um.txt', 'dois.bin']);
      expect(readFileSync(join(received, 'um.txt'), 'utf8')).toBe('um arquivo');
      expect([...readFileSync(join(received, 'dois.bin'))].every((b, i) => b === i % 251)).toBe(true);
      // What the host staged for them is gone once delivered.
      await eventually(() => readdirSync(join(suite.dataDir, 'outgoing'))).toEqual([]);
    } finally {
      off();
    }
  });

  test('a received image shows a thumbnail drawn from its verified bytes', async () => {
    const page = await conversationWith('bob@CIC');
    // A 2×1 PNG, named as if it were something else: what it is comes from its bytes.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR4nGP4z8DwHxkzkC4AAD3qAfxZKHlNAAAAAElFTkSuQmCC', 'base64');
    writeFileSync(join(files, 'foto.png'), png);
    await bob.engine.sendFile('alice@CIC', join(files, 'foto.png'));
    await card(page, 'foto.png').getByRole('button', { name: 'Accept' }).click();
    const thumbnail = card(page, 'foto.png').getByRole('img', { name: 'foto.png' });
    await thumbnail.waitFor();
    await eventually(() => thumbnail.evaluate((img: { naturalWidth: number; naturalHeight: number; src: string }) => [img.naturalWidth, img.naturalHeight, img.src.slice(0, 22)])).toEqual([2, 1, 'data:image/png;base64,']);
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
    const attach = page.getByRole('button', { name: 'Attach files…' });
    await page.getByTestId('attach-reason').filter({ hasText: 'old@CIC uses a PyP2P client without file transfer: only text can be sent to them.' }).waitFor();
    expect(await attach.isDisabled()).toBe(true);
  });
});
