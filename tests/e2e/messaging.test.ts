// Chatting with a real engine peer through the UI: the peer panel, DMs with delivery states and
// unread badges, PUBs in their channels, links, the composer's refusals, a DM waiting for a peer
// who is away, and Try now.

import { describe, expect, test } from 'vitest';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { LIMITS, type HistoryPage } from '../../src-shared/chat-api.ts';
import { startEngine, waitFor, type TestEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, customProfile, eventually, screenshot, useSuite } from './harness.ts';

let bob: TestEngine;
let carol: TestEngine;

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  before: async ({ rendezvous }) => {
    bob = await startEngine(rendezvous.port, 'bob', 'CIC');
    // Someone from another namespace, so channels and reach are not all one peer.
    carol = await startEngine(rendezvous.port, 'carol', 'UnB');
    await waitFor('bob and carol to connect to alice', () => [bob, carol].every((p) => p.peer('alice@CIC')?.state === 'open'));
  },
});

async function open(options: BrowserContextOptions = {}): Promise<Page> {
  const page = await suite.open(options);
  await page.getByTestId('own-peer-id').waitFor();
  return page;
}

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
// A string: the tests are type-checked without the DOM library.
const focusedLabel = (page: Page) => page.evaluate<string | null>("document.activeElement?.getAttribute('aria-label') ?? null");
const bubble = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });

describe('messaging with an engine peer', () => {
  test('the peer panel shows the engine peer in plain words, with direction and RTT in its tooltip', async () => {
    const page = await open();
    const row = page.getByTestId('peer-bob@CIC');
    await eventually(() => row.getAttribute('data-state')).toBe('open');
    const tooltip = () => row.getByRole('button').first().getAttribute('title');
    await eventually(tooltip).toMatch(/RTT \d/);
    expect(await tooltip()).toMatch(/\((inbound|outbound)\)/);
    const text = await row.textContent();
    expect(text).toMatch(/connected/);
    expect(text).not.toMatch(/inbound|outbound|RTT/);
    expect(text).toContain('#CIC');
    // Its chat is read name first, its state after (the dot alone says nothing to a screen reader).
    await page.getByRole('navigation').getByRole('button', { name: /^bob@CIC\W+connected/ }).waitFor();
    await page.getByTestId('open-connections').filter({ hasText: '2 connections' }).waitFor();
    await page.getByRole('button', { name: 'Reconnect bob@CIC' }).click();
    await eventually(() => row.getAttribute('data-state')).toBe('open');
    await screenshot(page, 'peer-panel', page.getByRole('complementary', { name: 'Peers' }), 320);
  });

  test('a DM from the UI is delivered; a reply shows unread while another chat is open', async () => {
    const page = await open();
    await page.getByTestId('channel-dm:bob@CIC').click();
    await composer(page).fill('Oi bob, tudo bem? https://example.com/notes');
    await composer(page).press('Enter');
    await eventually(() => bubble(page, 'Oi bob, tudo bem?').getAttribute('data-delivery')).toBe('delivered');
    await bubble(page, 'Oi bob, tudo bem?').getByText('Delivered').waitFor();
    await waitFor('bob to receive the DM', () => bob.messages.some((m) => m.kind === 'dm' && m.from === 'alice@CIC' && m.text === 'Oi bob, tudo bem? https://example.com/notes'));
    expect(await composer(page).inputValue()).toBe('');

    // In a browser tab the link opens in a new tab that cannot reach this one, never in this window.
    // The machine is offline: the context answers for example.com.
    await page.context().route('https://example.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<title>notes</title>' }));
    const [tab] = await Promise.all([page.context().waitForEvent('page'), bubble(page, 'Oi bob').getByRole('link', { name: 'https://example.com/notes' }).click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe('https://example.com/notes');
    expect(await tab.evaluate('window.opener')).toBeNull();
    await tab.close();
    expect(page.url()).toBe(suite.app.host.url);
    expect(suite.app.opened).toEqual([]);

    bob.engine.sendDirect('alice@CIC', 'Tudo ótimo, e você?');
    await bubble(page, 'Tudo ótimo, e você?').waitFor();
    // A screen reader hears it, and the open chat is the page's main landmark.
    await page.getByTestId('announcer').filter({ hasText: 'bob@CIC: Tudo ótimo, e você?' }).waitFor({ state: 'attached' });
    expect(await page.getByRole('main', { name: 'bob@CIC' }).count()).toBe(1);
    // Read once it has been on screen a moment.
    await eventually(() => suite.app.service.totalUnread()).toBe(0);
    await screenshot(page, 'conversation');

    await page.getByTestId('channel-*').click();
    bob.engine.sendDirect('alice@CIC', 'Are you there?');
    const dm = page.getByTestId('channel-dm:bob@CIC');
    await dm.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await page.getByTestId('announcer').filter({ hasText: 'New message from bob@CIC, 1 unread' }).waitFor({ state: 'attached' });
    await eventually(() => page.title()).toBe('(1) ChatP2P');
    await dm.click();
    await bubble(page, 'Are you there?').waitFor();
    await dm.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await eventually(() => page.title()).toBe('ChatP2P');
  });

  test('PUBs to #CIC and * land in their channels; a PUB from the UI reaches the peer', async () => {
    const page = await open();
    bob.engine.publish('#CIC', 'Reunião do grupo às 14h na sala 3');
    bob.engine.publish('*', 'Hello, everyone on the network');
    await page.getByTestId('channel-#CIC').getByTestId('unread-badge').waitFor();
    await page.getByTestId('channel-#CIC').click();
    await bubble(page, 'Reunião do grupo às 14h').waitFor();
    expect(await bubble(page, 'Reunião do grupo').textContent()).toContain('bob@CIC');
    expect(await page.getByTestId('message').filter({ hasText: 'Hello, everyone' }).count()).toBe(0);
    // A namespace PUB goes to that namespace's connections only: bob, not carol.
    await composer(page).fill('Estarei lá!');
    await composer(page).press('Enter');
    await bubble(page, 'Estarei lá!').getByText('Sent to 1 peer').waitFor();
    await waitFor('bob to receive the #CIC PUB', () => bob.messages.some((m) => m.to === '#CIC' && m.text === 'Estarei lá!'));
    expect(carol.messages.some((m) => m.text === 'Estarei lá!')).toBe(false);
    await screenshot(page, 'channel');

    await page.getByTestId('channel-*').click();
    await bubble(page, 'Hello, everyone on the network').waitFor();
    await composer(page).fill('Broadcast from the UI');
    await composer(page).press('Enter');
    await bubble(page, 'Broadcast from the UI').getByText('Sent to 2 peers').waitFor();
    for (const peer of [bob, carol]) {
      await waitFor('the PUB to reach every peer', () => peer.messages.some((m) => m.kind === 'pub' && m.to === '*' && m.text === 'Broadcast from the UI'));
    }
  });

  test('the composer refuses text over the limit and empty text, sending nothing', async () => {
    const page = await open();
    await page.getByTestId('channel-dm:bob@CIC').click();
    const before = bob.messages.length;
    const sent = () => suite.app.service.dispatch('history', ['dm:bob@CIC']).then((r) => (r.ok ? (r.value as HistoryPage).messages.length : -1));
    const history = await sent();

    await composer(page).fill('x'.repeat(LIMITS.maxTextBytes + 1));
    const tooLong = page.getByTestId('composer-error');
    await tooLong.filter({ hasText: 'Too long: 30,721 bytes, the limit is 30,720.' }).waitFor();
    await page.getByTestId('byte-counter').filter({ hasText: '30,721 / 30,720 bytes' }).waitFor();
    await composer(page).press('Enter');
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);

    // Exactly at the limit is fine to type; a newline counts two bytes on the wire.
    await composer(page).fill('é'.repeat(LIMITS.maxTextBytes / 2 - 1) + '\n');
    await page.getByTestId('byte-counter').filter({ hasText: '30,720 / 30,720 bytes' }).waitFor();
    expect(await tooLong.count()).toBe(0);

    await composer(page).fill('   \n  ');
    await composer(page).press('Enter');
    await page.getByTestId('composer-hint').filter({ hasText: 'Type a message first.' }).waitFor();
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('composer-hint').waitFor();

    expect(await sent()).toBe(history);
    expect(bob.messages.length).toBe(before);
  });

  test('keyboard: Ctrl+K the filter, Alt+Down the next chat, Ctrl+E the composer', async () => {
    const page = await open();
    await page.keyboard.press('Control+k');
    await eventually(() => focusedLabel(page)).toBe('Filter chats and peers');
    await page.keyboard.type('CIC');
    await eventually(() => page.getByRole('navigation').getByRole('button', { name: /bob@CIC|#CIC/ }).count()).toBe(2);
    await page.keyboard.press('Alt+ArrowDown');
    await page.getByTestId('conversation-title').filter({ hasText: 'bob@CIC' }).waitFor();
    await page.keyboard.press('Alt+ArrowDown');
    await page.getByTestId('conversation-title').filter({ hasText: '#CIC' }).waitFor();
    await page.keyboard.press('Control+e');
    await eventually(() => focusedLabel(page)).toBe('Message');
  });

  test('the host opens a chat; a DM nobody can receive waits queued with the reason, and Try now keeps it one message', async () => {
    const page = await open();
    suite.app.service.openConversation('dm:ghost@CIC');
    await page.getByTestId('conversation-title').filter({ hasText: 'ghost@CIC' }).waitFor();
    await composer(page).fill('Anyone home?');
    await composer(page).press('Enter');
    const waiting = bubble(page, 'Anyone home?');
    // The plain words show; the engine's own reason waits under Details.
    const reason = waiting.getByTestId('waiting-reason').filter({ hasText: /^Waiting to be sent/ }).getByText(/not registered/);
    await reason.waitFor({ state: 'attached' });
    expect(await reason.isVisible()).toBe(false);
    await waiting.getByText('Details').click();
    await reason.waitFor();
    expect(await waiting.getAttribute('data-delivery')).toBe('queued');
    await waiting.getByTestId('delivery').filter({ hasText: 'Queued' }).waitFor();
    const firstId = await waiting.getAttribute('data-msg-id');

    // Try now sends the same message again (same msg_id): still one bubble, still waiting. The
    // host answers in order, so once the next message shows, Try now's answer was applied.
    await waiting.getByRole('button', { name: 'Try now' }).click();
    await composer(page).fill('Still there?');
    await composer(page).press('Enter');
    await bubble(page, 'Still there?').getByTestId('delivery').filter({ hasText: 'Queued' }).waitFor();
    const bubbles = () => waiting.evaluateAll((list: { dataset: Record<string, string | undefined> }[]) => list.map((b) => `${b.dataset.msgId} ${b.dataset.delivery}`));
    expect(await bubbles()).toEqual([`${firstId} queued`]);
    await waiting.getByTestId('waiting-reason').filter({ hasText: /^Waiting to be sent/ }).getByText(/not registered/).waitFor({ state: 'attached' });
  });

  test('the log view shows the engine log, newest last, and switches its level', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'Logs' }).click();
    const log = page.getByRole('region', { name: 'Logs' });
    await log.getByRole('listitem').filter({ hasText: /\[Rendezvous\] REGISTER alice@CIC/ }).waitFor();
    await log.getByLabel('Log level').selectOption('DEBUG');
    await eventually(() => suite.app.service.settings.logLevel).toBe('DEBUG');
    // Keep-alive PINGs are DEBUG lines: one arrives within a PING interval, at the bottom.
    await eventually(() => log.getByRole('listitem').last().textContent()).toContain('DEBUG');
    await log.getByLabel('Log level').selectOption('INFO');
    await eventually(() => suite.app.service.settings.logLevel).toBe('INFO');
  });

  test('a dark system theme gives the dark UI', async () => {
    const page = await open({ colorScheme: 'dark' });
    await eventually(() => page.locator('html').getAttribute('class')).toContain('dark');
    await page.getByTestId('channel-dm:bob@CIC').click();
    bob.engine.sendDirect('alice@CIC', 'Boa noite! The dark theme is easier on the eyes.');
    await bubble(page, 'Boa noite!').waitFor();
    await screenshot(page, 'dark-theme');
  });
});
