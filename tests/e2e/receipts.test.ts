// chatp2p-receipts in the UI, between two ChatP2P apps (alice's and bob's browser hosts, each its
// own engine), in Chromium: "Read" once the reader had the message on screen, the off switch,
// "typing…" that starts and expires, a reply that shows what it answers; and two course clients
// (one plain, one echoing our HELLO) that never get a receipts frame or a reply_to on their socket.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import type { Snapshot } from '../../src-shared/chat-api.ts';
import { ScriptedPeer, waitFor, type Frame } from '../helpers/peers.ts';
import { bubble, composer, customProfile, eventually, FAST_TIMERS, openMessenger, screenshot, startAppHost, type AppHost, useSuite } from './harness.ts';

let bobHost: AppHost;
let bobDir: string;
// In another namespace, which bob's app does not dial: each socket of theirs is alice's.
const carol = new ScriptedPeer({ peerId: 'carol@UnB' });
const dave = new ScriptedPeer({ peerId: 'dave@UnB', echoHello: true });

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  before: async ({ rendezvous, rendererDir }) => {
    bobDir = await mkdtemp(join(tmpdir(), 'chatp2p-e2e-bob-'));
    await writeFile(join(bobDir, 'web-settings.json'), JSON.stringify({ profile: customProfile('bob', 'CIC', rendezvous.port), timers: FAST_TIMERS, connectionPolicy: 'namespace' }));
    bobHost = await startAppHost(rendererDir, bobDir);
    for (const peer of [carol, dave]) {
      await peer.listen();
      await peer.register(rendezvous.port);
    }
  },
  after: async () => {
    await Promise.all([carol.close(), dave.close()]);
    await bobHost.stop();
    await rm(bobDir, { recursive: true, force: true });
  },
});

const alicePage = () => openMessenger(suite);
const bobPage = async (): Promise<Page> => {
  const page = await suite.open({}, bobHost.host.url);
  await page.getByTestId('own-peer-id').waitFor();
  return page;
};

async function chatWith(page: Page, peerId: string): Promise<void> {
  const item = page.getByTestId(`channel-dm:${peerId}`);
  await item.waitFor();
  await item.click();
  await page.getByTestId('conversation-title').filter({ hasText: peerId }).waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** Unread in one chat, as the host counts it (it moves once the UI had the message on screen). */
async function unread(app: AppHost, peerId: string): Promise<number | undefined> {
  const reply = await app.service.dispatch('getSnapshot', []);
  return reply.ok ? (reply.value as Snapshot).conversations.find((c) => c.id === `dm:${peerId}`)?.unread : undefined;
}

const delivery = (page: Page, text: string) => bubble(page, text).getAttribute('data-delivery');

async function readReceiptsSwitch(page: Page, on: boolean): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  const toggle = page.getByRole('switch', { name: 'Send read receipts' });
  if ((await toggle.isChecked()) !== on) await toggle.click();
  await eventually(() => toggle.isChecked()).toBe(on);
  await page.getByRole('button', { name: 'Back to chats' }).click();
}

describe('receipts between two ChatP2P apps', () => {
  test('"Read" shows once the reader had the message on screen, in both languages', async () => {
    const [alice, bob] = [await alicePage(), await bobPage()];
    await eventually(() => bob.getByTestId('peer-alice@CIC').count()).toBe(1);
    await chatWith(bob, 'alice@CIC');
    await say(bob, 'Chegou?');
    await eventually(() => delivery(bob, 'Chegou?')).toBe('delivered');
    await bubble(bob, 'Chegou?').getByTestId('delivery').filter({ hasText: 'Delivered' }).waitFor();

    await chatWith(alice, 'bob@CIC');
    await bubble(alice, 'Chegou?').waitFor();
    await eventually(() => delivery(bob, 'Chegou?')).toBe('read');
    await bubble(bob, 'Chegou?').getByTestId('delivery').filter({ hasText: 'Read' }).waitFor();

    await bobHost.service.dispatch('updateSettings', [{ language: 'pt-BR' }]);
    await bubble(bob, 'Chegou?').getByTestId('delivery').filter({ hasText: 'Lida' }).waitFor();
    await bobHost.service.dispatch('updateSettings', [{ language: 'system' }]);
  });

  test('"Send read receipts" off: alice sends none, and sees none of bob\'s', async () => {
    const [alice, bob] = [await alicePage(), await bobPage()];
    await readReceiptsSwitch(alice, false);
    await chatWith(alice, 'bob@CIC');
    await chatWith(bob, 'alice@CIC');
    await say(bob, 'Sem recibo');
    await bubble(alice, 'Sem recibo').waitFor();
    await eventually(() => unread(suite.app, 'bob@CIC')).toBe(0);
    // Alice's answer reaches bob after anything she sent before it: a receipt would be there by now.
    await say(alice, 'Li, mas não conto');
    await bubble(bob, 'Li, mas não conto').waitFor();
    expect(await delivery(bob, 'Sem recibo')).toBe('delivered');
    await eventually(() => unread(bobHost, 'alice@CIC')).toBe(0);
    // Bob had her answer on screen and sends his receipt; her app shows none.
    await say(bob, 'Depois do recibo');
    await bubble(alice, 'Depois do recibo').waitFor();
    expect(await delivery(alice, 'Li, mas não conto')).toBe('delivered');

    await readReceiptsSwitch(alice, true);
    await chatWith(alice, 'bob@CIC');
    await say(bob, 'Com recibo');
    await eventually(() => delivery(bob, 'Com recibo')).toBe('read');
  });

  test('"typing…" shows in the header while alice types, and goes away by itself', async () => {
    const [alice, bob] = [await alicePage(), await bobPage()];
    await chatWith(alice, 'bob@CIC');
    await chatWith(bob, 'alice@CIC');
    const typing = bob.getByTestId('typing');
    expect(await typing.getAttribute('aria-live')).toBe('polite');
    await composer(alice).pressSequentially('escrevend');
    await typing.filter({ hasText: 'typing…' }).waitFor();
    await expect(typing.textContent()).resolves.toBe('alice@CIC is typing…typing…');
    await screenshot(bob, 'receipts');
    // Nothing renews it: it expires after a few seconds, without a message.
    await typing.filter({ hasText: 'typing…' }).waitFor({ state: 'detached', timeout: 12_000 });
    expect(await typing.textContent()).toBe('');
    await composer(alice).fill('');
  });

  test('a reply shows the message it answers, and carries reply_to to the ChatP2P peer', async () => {
    const [alice, bob] = [await alicePage(), await bobPage()];
    await chatWith(alice, 'bob@CIC');
    await chatWith(bob, 'alice@CIC');
    await say(alice, 'Cinema hoje?');
    const question = bubble(bob, 'Cinema hoje?');
    await question.getByTestId('message-actions').click();
    await bob.getByRole('menuitem', { name: 'Reply' }).click();
    await say(bob, 'Sim, às oito');
    const answer = bubble(alice, 'Sim, às oito');
    const quote = answer.getByTestId('reply-quote');
    await quote.getByText('In reply to').waitFor();
    await quote.getByText('alice@CIC', { exact: true }).waitFor();
    await quote.getByText('Cinema hoje?', { exact: true }).waitFor();
    // The quoted line is the quote, not the text.
    await expect(answer.locator('p').first().textContent()).resolves.toBe('Sim, às oito');
    const sent = (await bobHost.service.dispatch('history', ['dm:alice@CIC'])) as { ok: true; value: { messages: { text: string; replyTo?: string; msgId: string }[] } };
    const asked = sent.value.messages.find((m) => m.text === 'Cinema hoje?')!;
    expect(sent.value.messages.find((m) => m.text.endsWith('Sim, às oito'))?.replyTo).toBe(asked.msgId);
  });
});

describe('receipts toward course clients', () => {
  for (const [what, peer] of [
    ['a client without extensions', carol],
    ['a client that echoes our HELLO', dave],
  ] as const) {
    test(`${what} never gets a CHATP2P_* frame nor a reply_to while the user reads, types and replies`, async () => {
      const peerId = peer.options.peerId;
      const page = await alicePage();
      // Answered alice's HELLO: what it writes next reaches an open connection.
      await waitFor(`${peerId} connected`, () => peer.of('HELLO').length > 0 && peer.sockets.size > 0, 15_000);
      const socket = [...peer.sockets][0]!;
      peer.write(socket, { type: 'SEND', msg_id: `${peerId}-1`, src: peerId, dst: 'alice@CIC', payload: 'Oi, alice', require_ack: true, ttl: 1 });
      await chatWith(page, peerId);
      // Read: on screen long enough to count, and the chat's unread goes.
      await bubble(page, 'Oi, alice').waitFor();
      await eventually(() => unread(suite.app, peerId)).toBe(0);
      await composer(page).pressSequentially('digitando');
      await composer(page).fill('');
      await bubble(page, 'Oi, alice').getByTestId('message-actions').click();
      await page.getByRole('menuitem', { name: 'Reply' }).click();
      await say(page, 'Tudo bem?');
      // One frame at a time toward a course client: once the reply is there, all before it is too.
      const isReply = (f: Frame) => f.type === 'SEND' && String(f.payload).endsWith('Tudo bem?');
      await waitFor('the reply reached it', () => peer.frames.some(isReply));
      expect(peer.frames.find(isReply)?.payload).toBe(`> ${peerId}: Oi, alice\nTudo bem?`);
      expect(peer.frames.filter((f) => String(f.type).startsWith('CHATP2P_'))).toEqual([]);
      expect(peer.frames.filter((f) => 'reply_to' in f)).toEqual([]);
      // In our own history it is a reply all the same.
      await bubble(page, 'Tudo bem?').waitFor();
      expect(await bubble(page, 'Tudo bem?').getByTestId('reply-quote').count()).toBe(1);
    });
  }
});
