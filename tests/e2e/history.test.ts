// History in the UI: what was said and what is unread is still there after the host restarts; a
// conversation of 100,000 messages opens at its latest with only a screenful of rows in the page;
// older pages load on scroll without moving the message the user is reading.

import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startEngine, type TestEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, customProfile, eventually, seedHistory, startAppHost, useSuite } from './harness.ts';

const LONG_CHAT = 100_000;
const ZOE = 'zoe@CIC';
let bob: TestEngine;

/** Every seventh message runs over several lines, so rows differ in height. */
const zoeText = (n: number) => (n % 7 === 0 ? `Mensagem número ${n}\n${'uma linha bem comprida que quebra '.repeat(12)}` : `Mensagem número ${n}`);

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  seed: (dataDir) =>
    seedHistory(dataDir, 'alice@CIC', (store) => {
      const start = Date.now() - LONG_CHAT * 1000;
      for (let n = 1; n <= LONG_CHAT; n++) {
        store.addIncoming({ msgId: `zoe-${n}`, kind: 'dm', from: ZOE, to: 'alice@CIC', text: zoeText(n), receivedAt: start + n * 1000, sentAt: undefined, claimedSrc: undefined });
      }
      // Read already: a chat with unread messages would open at the first of them, not the latest.
      store.markRead(`dm:${ZOE}`);
    }),
  before: async ({ rendezvous }) => {
    bob = await startEngine(rendezvous.port, 'bob', 'CIC');
  },
});

async function open(): Promise<Page> {
  const page = await suite.open();
  await page.getByTestId('own-peer-id').waitFor();
  return page;
}

const bubble = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });
const messageText = (page: Page, text: string) => page.getByTestId('message').getByText(text, { exact: true });
const scroller = (page: Page) => page.getByTestId('message-scroller');
const setScrollTop = (page: Page, top: number) => scroller(page).evaluate((box: { scrollTop: number }, to: number) => void (box.scrollTop = to), top);

describe('history', () => {
  test('messages, delivery states and unread counts are still there after the host restarts', async () => {
    let page = await open();
    await page.getByTestId('channel-dm:bob@CIC').click();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Antes do reinício');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await bubble(page, 'Antes do reinício').getByTestId('delivery').filter({ hasText: 'Delivered' }).waitFor();
    bob.engine.sendDirect('alice@CIC', 'Lida antes de parar');
    await bubble(page, 'Lida antes de parar').waitFor();
    // Read once it has been on screen a moment.
    await eventually(() => suite.app.service.totalUnread()).toBe(0);

    // With another chat open, bob's next two messages stay unread.
    await page.getByTestId('channel-*').click();
    bob.engine.sendDirect('alice@CIC', 'Primeira não lida');
    bob.engine.sendDirect('alice@CIC', 'Segunda não lida');
    await page.getByTestId('channel-dm:bob@CIC').getByTestId('unread-badge').filter({ hasText: '2' }).waitFor();
    await page.context().close();

    await suite.app.stop();
    suite.app = await startAppHost(suite.rendererDir, suite.dataDir);
    page = await open();
    const bobChat = page.getByTestId('channel-dm:bob@CIC');
    await bobChat.getByTestId('unread-badge').filter({ hasText: '2' }).waitFor();
    expect(await bobChat.textContent()).toContain('Segunda não lida');

    await bobChat.click();
    for (const text of ['Antes do reinício', 'Lida antes de parar', 'Primeira não lida', 'Segunda não lida']) await bubble(page, text).waitFor();
    expect(await bubble(page, 'Antes do reinício').getByTestId('delivery').textContent()).toContain('Delivered');
    await bobChat.getByTestId('unread-badge').waitFor({ state: 'detached' });
    // Delivered before the restart, so not sent again after it.
    expect(bob.messages.filter((m) => m.text === 'Antes do reinício')).toHaveLength(1);
  });

  test('a conversation of 100,000 messages opens at its latest with only the rows on screen in the page', async () => {
    const page = await open();
    await page.getByTestId(`channel-dm:${ZOE}`).click();
    await messageText(page, `Mensagem número ${LONG_CHAT}`).waitFor();
    expect(await page.getByTestId('message').count()).toBeLessThan(60);

    // Three older pages later the page still holds about a screenful. Each one is asked for at the
    // top, and its newest message shows just above what was at the top.
    for (const n of [LONG_CHAT - 100, LONG_CHAT - 200, LONG_CHAT - 300]) {
      await setScrollTop(page, 0);
      await messageText(page, `Mensagem número ${n}`).waitFor();
    }
    expect(await page.getByTestId('message').count()).toBeLessThan(60);
  });

  test('an older page loads when scrolling up, and the message at the top of the view stays where it was', async () => {
    const page = await open();
    await page.getByTestId(`channel-dm:${ZOE}`).click();
    await messageText(page, `Mensagem número ${LONG_CHAT}`).waitFor();
    // Just above the distance at which an older page is asked for, the rows there measured.
    await setScrollTop(page, 1400);
    await page.evaluate('new Promise((done) => { let n = 20; const next = () => (--n ? requestAnimationFrame(next) : done()); next(); })');

    // Just inside that distance: from then on, every frame until the page arrived and settled,
    // where is the first message fully in view?
    const drift = await page.evaluate<{ seq: string; grew: number; maxDrift: number }>(`(async () => {
      const box = document.querySelector('[data-testid="message-scroller"]');
      const list = box.querySelector('ol');
      const heightBefore = list.offsetHeight;
      box.scrollTop = 1100;
      const view = box.getBoundingClientRect();
      const rows = [...box.querySelectorAll('[data-testid="message"]')].filter((r) => r.getBoundingClientRect().top >= view.top);
      rows.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
      const seq = rows[0].dataset.seq;
      // A row that left the page jumped out of view: as far as it gets.
      const topOf = () => box.querySelector('[data-testid="message"][data-seq="' + seq + '"]')?.getBoundingClientRect().top ?? 1e9;
      const before = topOf();
      let maxDrift = 0;
      let settled = 0;
      const deadline = performance.now() + 20000;
      while (settled < 30 && performance.now() < deadline) {
        await new Promise(requestAnimationFrame);
        maxDrift = Math.max(maxDrift, Math.abs(topOf() - before));
        if (list.offsetHeight > heightBefore) settled++;
      }
      return { seq, grew: list.offsetHeight - heightBefore, maxDrift };
    })()`);
    expect(drift.grew).toBeGreaterThan(1000);
    expect(drift.maxDrift).toBeLessThanOrEqual(2);

    // The messages just before the first page are there above it.
    await eventually(async () => {
      await scroller(page).evaluate((box: { scrollTop: number }) => void (box.scrollTop -= 300));
      return messageText(page, `Mensagem número ${LONG_CHAT - 100}`).isVisible();
    }).toBe(true);
  });
});
