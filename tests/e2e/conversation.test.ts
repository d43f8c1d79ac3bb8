// What the user does with a conversation's messages: DMs to a peer who is away wait queued (with
// the count in the chat list and the peer panel), Cancel takes one back, and the peer coming
// online gets the rest; a conversation exported as text and JSON downloads; delete asks first.

import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startEngine, type TestEngine } from '../helpers/peers.ts';
import { bubble, composer, customProfile, eventually, FAST_TIMERS, openMessenger, screenshot, seedHistory, useSuite } from './harness.ts';

/** Erin's chat from an earlier run: two messages from her, our reply in between. */
const ERIN = [
  { from: 'erin@CIC', text: 'Oi Alice, viu o relatório?' },
  { from: 'alice@CIC', text: 'Vi sim, ficou ótimo' },
  { from: 'erin@CIC', text: 'Valeu! Até amanhã' },
];

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  seed: (dataDir) =>
    seedHistory(dataDir, 'alice@CIC', (store) => {
      const start = Date.now() - 3_600_000;
      ERIN.forEach(({ from, text }, i) => {
        const at = start + i * 60_000;
        if (from === 'alice@CIC') {
          store.addOutgoing({ seq: 0, msgId: `alice-${i}`, kind: 'dm', to: 'erin@CIC', text, state: 'delivered', attempts: 1, createdAt: at, error: undefined, recipients: undefined }, from);
        } else {
          store.addIncoming({ msgId: `erin-${i}`, kind: 'dm', from, to: 'alice@CIC', text, receivedAt: at, sentAt: undefined, claimedSrc: undefined });
        }
      });
    }),
});

const open = (): Promise<Page> => openMessenger(suite);
const focusedText = (page: Page) => page.evaluate<string | null>('document.activeElement?.textContent ?? null');

async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await bubble(page, text).waitFor();
}

async function exported(page: Page, item: string): Promise<{ name: string; content: string }> {
  await page.getByRole('button', { name: 'Conversation actions' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: item }).click()]);
  return { name: download.suggestedFilename(), content: await readFile(await download.path(), 'utf8') };
}

describe('a conversation', () => {
  test('DMs to a peer who is away wait queued and counted; Cancel takes one back; the peer coming online gets the other', async () => {
    const page = await open();
    suite.app.service.openConversation('dm:dave@CIC');
    await page.getByTestId('conversation-title').filter({ hasText: 'dave@CIC' }).waitFor();
    await send(page, 'Primeira para o Dave');
    await send(page, 'Segunda para o Dave');
    const [first, second] = [bubble(page, 'Primeira para o Dave'), bubble(page, 'Segunda para o Dave')];
    for (const waiting of [first, second]) {
      await waiting.getByTestId('delivery').filter({ hasText: 'Queued' }).waitFor();
      await waiting.getByTestId('waiting-reason').filter({ hasText: /^Waiting to be sent/ }).getByText(/dave@CIC is not registered/).waitFor({ state: 'attached' });
    }
    const chatItem = page.getByTestId('channel-dm:dave@CIC');
    const peerRow = page.getByTestId('peer-dave@CIC');
    await chatItem.getByRole('img', { name: '2 messages waiting to be sent' }).waitFor();
    await screenshot(page, 'outbox');

    // dave is on no rendezvous list, yet the peer panel lists him as offline with his queue.
    await peerRow.getByRole('img', { name: '2 messages waiting to be sent' }).waitFor();
    expect(await peerRow.getAttribute('data-state')).toBe('offline');
    // A fresh page reads it all back from the host.
    await page.reload();
    await peerRow.getByRole('img', { name: '2 messages waiting to be sent' }).waitFor();
    await chatItem.click();
    await second.getByTestId('delivery').filter({ hasText: 'Queued' }).waitFor();

    await first.getByRole('button', { name: 'Cancel' }).click();
    await first.getByTestId('delivery').filter({ hasText: 'Cancelled' }).waitFor();
    expect(await first.getByRole('button', { name: /Try now|Cancel/ }).count()).toBe(0);
    await chatItem.getByRole('img', { name: '1 message waiting to be sent' }).waitFor();
    await peerRow.getByRole('img', { name: '1 message waiting to be sent' }).waitFor();

    // Alice finds dave at her next DISCOVER and sends what waited for him, without being asked.
    const dave: TestEngine = await startEngine(suite.rendezvous.port, 'dave', 'CIC');
    await second.getByTestId('delivery').filter({ hasText: 'Delivered' }).waitFor({ timeout: 30_000 });
    await chatItem.getByTestId('queued-badge').waitFor({ state: 'detached' });
    await peerRow.getByTestId('queued-badge').waitFor({ state: 'detached' });
    expect(await first.getAttribute('data-delivery')).toBe('cancelled');
    expect(dave.messages.map((m) => m.text)).toEqual(['Segunda para o Dave']);
  });

  test('Export downloads the conversation as text and as JSON', async () => {
    const page = await open();
    await page.getByTestId('channel-dm:erin@CIC').click();
    await bubble(page, ERIN[2]!.text).waitFor();

    const text = await exported(page, 'Export as text');
    expect(text.name).toMatch(/^chatp2p-erin@CIC-\d{4}-\d\d-\d\d\.txt$/);
    const lines = text.content.split('\n').filter((line) => ERIN.some((m) => line.endsWith(m.text)));
    expect(lines.map((line) => line.replace(/^[\d-]+ [\d:]+ {2}/, ''))).toEqual(ERIN.map((m) => `${m.from}: ${m.text}`));

    const json = await exported(page, 'Export as JSON');
    expect(json.name).toMatch(/^chatp2p-erin@CIC-\d{4}-\d\d-\d\d\.json$/);
    const messages = (JSON.parse(json.content) as { messages: { from: string; text: string }[] }).messages;
    expect(messages.map(({ from, text }) => ({ from, text }))).toEqual(ERIN);
  });

  test('Delete asks first (Escape keeps the chat), then removes it from the list, the peers and search', async () => {
    const page = await open();
    const chatItem = page.getByTestId('channel-dm:erin@CIC');
    await chatItem.click();
    await bubble(page, ERIN[0]!.text).waitFor();

    // From the keyboard: the menu opens on its first item, Up wraps to the last.
    await page.getByRole('button', { name: 'Conversation actions' }).focus();
    await page.keyboard.press('Enter');
    await eventually(() => focusedText(page)).toBe('Export as text');
    await page.keyboard.press('ArrowUp');
    await eventually(() => focusedText(page)).toBe('Delete conversation…');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog', { name: 'Delete this conversation?' });
    await dialog.getByText('Every message with erin@CIC is removed from this computer').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await bubble(page, ERIN[0]!.text).waitFor();

    await page.getByRole('button', { name: 'Conversation actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete conversation…' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Pick a chat on the left, or a peer to start one.').waitFor();
    await chatItem.waitFor({ state: 'detached' });
    await page.getByTestId('peer-erin@CIC').waitFor({ state: 'detached' });

    await page.reload();
    await page.getByTestId('channel-*').waitFor();
    expect(await chatItem.count()).toBe(0);
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('relatório');
    await page.getByRole('status').filter({ hasText: 'No messages match “relatório”.' }).waitFor();
  });
});
