// Message search in the UI: accent-insensitive matches with the words marked (as text, never
// HTML), opening a hit at its message in the middle of a long conversation, scrolling on to the
// latest and live messages again, "new messages" while reading back; the hint, no-result and
// keyboard paths, in Portuguese.

import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startEngine, type TestEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, customProfile, eventually, screenshot, seedHistory, useSuite } from './harness.ts';

const BOB_MESSAGES = 1000;
const HIT = 400;
let bob: TestEngine;

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  seed: (dataDir) =>
    seedHistory(dataDir, 'alice@CIC', (store) => {
      const start = Date.now() - 86_400_000;
      for (let n = 1; n <= BOB_MESSAGES; n++) {
        const text = n === HIT ? 'Encontro com João às 15h na biblioteca' : `Recado ${n}`;
        store.addIncoming({ msgId: `bob-${n}`, kind: 'dm', from: 'bob@CIC', to: 'alice@CIC', text, receivedAt: start + n * 60_000, sentAt: undefined, claimedSrc: undefined });
      }
      const pub = 'Veja <img src=x onerror=alert(1)> o recado do João';
      store.addIncoming({ msgId: 'carol-1', kind: 'pub', from: 'carol@CIC', to: '#CIC', text: pub, receivedAt: Date.now() - 60_000, sentAt: undefined, claimedSrc: undefined });
    }),
  before: async ({ rendezvous }) => {
    bob = await startEngine(rendezvous.port, 'bob', 'CIC');
  },
});

const bubble = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });
const messageText = (page: Page, text: string) => page.getByTestId('message').getByText(text, { exact: true });
const focusedLabel = (page: Page) => page.evaluate<string | null>("document.activeElement?.getAttribute('aria-label') ?? null");

/** Whether the element is wholly inside the message list's visible area. */
async function inView(page: Page, text: string): Promise<boolean> {
  const [view, row] = await Promise.all([page.getByTestId('message-scroller').boundingBox(), bubble(page, text).boundingBox()]);
  return view !== null && row !== null && row.y >= view.y && row.y + row.height <= view.y + view.height;
}

describe('message search', () => {
  test('"joao" finds "João"; the hit opens at its message, highlighted; scrolling down reaches the latest, then live messages append', async () => {
    const page = await suite.open();
    await page.getByTestId('own-peer-id').waitFor();
    await page.keyboard.press('Control+f');
    await eventually(() => focusedLabel(page)).toBe('Search messages');
    await page.keyboard.type('joao');

    const results = page.getByRole('region', { name: 'Search results' });
    await results.getByRole('status').filter({ hasText: '2 messages' }).waitFor();
    const hit = results.getByTestId('search-result').filter({ hasText: 'Encontro com' });
    expect(await hit.locator('mark').allTextContents()).toEqual(['João']);
    // Conversation, time, sender, snippet.
    expect(await hit.textContent()).toMatch(/bob@CIC.+bob@CICEncontro com João às 15h na biblioteca$/);
    // The channel's hit is newer, so first; its text shows as typed, markup and all.
    const pub = results.getByTestId('search-result').first();
    expect(await pub.textContent()).toContain('#CIC');
    expect(await pub.textContent()).toContain('carol@CICVeja <img src=x onerror=alert(1)> o recado do João');
    expect(await pub.locator('img').count()).toBe(0);

    await hit.click();
    await page.getByTestId('conversation-title').filter({ hasText: 'bob@CIC' }).waitFor();
    await eventually(() => bubble(page, 'Encontro com João').getAttribute('data-highlighted')).toBe('true');
    await eventually(() => inView(page, 'Encontro com João')).toBe(true);
    await screenshot(page, 'search');
    expect(await messageText(page, `Recado ${BOB_MESSAGES}`).count()).toBe(0);
    const latest = page.getByRole('button', { name: 'Jump to latest' });
    await latest.waitFor();

    // Down, page after page, to bob's last message; then his next one arrives live.
    await eventually(async () => {
      await page.getByTestId('message-scroller').evaluate((box: { scrollTop: number; scrollHeight: number }) => void (box.scrollTop = box.scrollHeight));
      return messageText(page, `Recado ${BOB_MESSAGES}`).isVisible();
    }).toBe(true);
    await latest.waitFor({ state: 'detached' });
    bob.engine.sendDirect('alice@CIC', 'Ao vivo depois da busca');
    await bubble(page, 'Ao vivo depois da busca').waitFor();
    await eventually(() => inView(page, 'Ao vivo depois da busca')).toBe(true);

    // Reading back a little: the next one waits below, and a button says so.
    await page.getByTestId('message-scroller').evaluate((box: { scrollTop: number }) => void (box.scrollTop -= 600));
    await latest.waitFor();
    bob.engine.sendDirect('alice@CIC', 'Mais uma ao vivo');
    const newMessages = page.getByRole('button', { name: 'New messages' });
    await newMessages.click();
    await eventually(() => inView(page, 'Mais uma ao vivo')).toBe(true);
    await newMessages.waitFor({ state: 'detached' });
    // The highlight was for a moment.
    await page.locator('[data-highlighted]').waitFor({ state: 'detached' });
  });

  test('in Portuguese: too short, no results, Escape back to the chats, and a hit opened from the keyboard', async () => {
    const page = await suite.open({ locale: 'pt-BR' });
    const search = page.getByRole('searchbox', { name: 'Buscar mensagens' });
    const filter = page.getByRole('searchbox', { name: 'Filtrar conversas e peers' });
    await search.fill('x');
    await page.getByText('Digite pelo menos 2 letras.').waitFor();
    await search.fill('xyzzy');
    await page.getByRole('status').filter({ hasText: 'Nenhuma mensagem corresponde a “xyzzy”.' }).waitFor();
    expect(await filter.count()).toBe(0);

    await search.press('Escape');
    expect(await search.inputValue()).toBe('');
    await filter.waitFor();
    await page.getByTestId('channel-dm:bob@CIC').waitFor();

    await search.fill('bibli');
    const hit = page.getByTestId('search-result').filter({ hasText: 'biblioteca' });
    await hit.waitFor();
    await search.press('ArrowDown');
    await eventually(() => hit.evaluate((button: { ownerDocument: { activeElement: unknown } }) => button.ownerDocument.activeElement === button)).toBe(true);
    await page.keyboard.press('Enter');
    await eventually(() => bubble(page, 'Encontro com João').getAttribute('data-highlighted')).toBe('true');
  });
});
