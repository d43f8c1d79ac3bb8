// The window at 1280×800, 800×600 and 640×480, in both languages and themes: nothing spills out
// or scrolls sideways, the chat keeps its room (the peer panel is a drawer below 1100 px, the chat
// list shows avatars below 800 px), axe still finds nothing serious, and widening the window gives
// the wide layout back. CHATP2P_SCREENSHOTS=1 saves each size in docs/screenshots/.

import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { strings, type Locale } from '../../src-renderer/i18n.ts';
import { startEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, accessibilityProblems, customProfile, eventually, screenshot, seedHistory, settled, useSuite } from './harness.ts';

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  seed: (dataDir) =>
    seedHistory(dataDir, 'alice@CIC', (store) => {
      const at = Date.now() - 600_000;
      store.addIncoming({ msgId: 'carol-1', kind: 'dm', from: 'caroline.longname@CIC', to: 'alice@CIC', text: 'Oi! Você vem para a reunião de amanhã às 14h na sala 3?', receivedAt: at, sentAt: at, claimedSrc: undefined });
      store.addOutgoing({ seq: 0, msgId: 'alice-1', kind: 'dm', to: 'caroline.longname@CIC', text: 'Vou sim, levo os slides.', state: 'delivered', attempts: 1, createdAt: at + 1000, error: undefined, recipients: undefined }, 'alice@CIC');
    }),
  before: async ({ rendezvous }) => void (await startEngine(rendezvous.port, 'bob', 'CIC')),
});

const WIDE = { width: 1280, height: 800 };
const SIZES = [
  WIDE,
  { width: 800, height: 600 },
  { width: 640, height: 480 },
];

/** Elements whose box leaves the window, or whose text is cut where it should not be. */
async function spills(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const problems = [];
    const { innerWidth: w, innerHeight: h } = window;
    if (document.documentElement.scrollWidth > w) problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + w);
    const inside = (selector, name) => {
      for (const e of document.querySelectorAll(selector)) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && (r.left < 0 || r.right > w + 0.5 || r.bottom > h + 0.5)) problems.push(name + ' leaves the window: ' + Math.round(r.left) + '..' + Math.round(r.right) + ' x ' + Math.round(r.bottom));
      }
    };
    inside('footer, footer *', 'the status bar');
    inside('[data-testid="byte-counter"]', 'the byte counter');
    inside('textarea', 'the composer');
    const title = document.querySelector('[data-testid="conversation-title"]');
    if (title && title.scrollWidth > title.clientWidth + 1) problems.push('the chat title is cut: ' + title.textContent);
    const footer = document.querySelector('footer');
    if (footer && footer.getBoundingClientRect().height > 56) problems.push('the status bar takes ' + Math.round(footer.getBoundingClientRect().height) + ' px');
    const composer = document.querySelector('textarea');
    if (composer && composer.getBoundingClientRect().height > 48) problems.push('the empty composer is ' + Math.round(composer.getBoundingClientRect().height) + ' px high');
    const chat = document.querySelector('main');
    if (chat && chat.getBoundingClientRect().width < Math.min(480, w - 64)) problems.push('the chat is only ' + Math.round(chat.getBoundingClientRect().width) + ' px wide');
    return problems;
  })()`);
}

const layoutOf = (page: Page, selector: string) => page.locator(selector).getAttribute('data-layout');

describe('window sizes', () => {
  for (const [locale, theme] of [['en', 'light'], ['pt-BR', 'dark']] as [Locale, 'light' | 'dark'][]) {
    test(`${locale}, ${theme}: each size keeps the chat usable, and widening brings the wide layout back`, async () => {
      const t = strings(locale);
      const problems: string[] = [];
      const page = await suite.open({ locale, colorScheme: theme, viewport: WIDE });
      await page.getByTestId('peer-bob@CIC').and(page.locator('[data-state="open"]')).waitFor();
      await page.getByTestId('channel-dm:caroline.longname@CIC').click();
      await page.getByTestId('message').filter({ hasText: 'levo os slides' }).waitFor();

      for (const size of SIZES) {
        await page.setViewportSize(size);
        const at = `${size.width}×${size.height}`;
        await eventually(() => layoutOf(page, 'nav')).toBe(size.width < 800 ? 'avatars' : 'full');
        // Wide: the peer panel sits beside the chat; narrower: it is a drawer, closed until asked for.
        if (size.width >= 1100) expect(await layoutOf(page, 'aside')).toBe('panel');
        else await page.getByRole('complementary', { name: t.peers }).waitFor({ state: 'detached' });
        await settled(page);
        problems.push(...(await spills(page)).map((p) => `${at}: ${p}`));
        problems.push(...(await accessibilityProblems(page)).map((p) => `${at}: ${p}`));
        await screenshot(page, `size-${size.width}x${size.height}-${theme}`);

        if (size.width < 1100) {
          await page.getByRole('button', { name: t.peers }).click();
          const drawer = page.getByRole('complementary', { name: t.peers });
          await drawer.getByTestId('peer-bob@CIC').waitFor();
          expect(await layoutOf(page, 'aside')).toBe('drawer');
          problems.push(...(await accessibilityProblems(page)).map((p) => `${at}, peers open: ${p}`));
          await screenshot(page, `size-${size.width}x${size.height}-${theme}-peers`);
          await page.keyboard.press('Escape');
          await drawer.waitFor({ state: 'detached' });
        }
        if (size.width < 800) {
          // The avatars name their chats; the search opens the list over the chat.
          await page.getByRole('button', { name: new RegExp(`^bob@CIC, ${t.peerState.open}`) }).waitFor();
          await page.getByRole('navigation').getByRole('button', { name: t.searchLabel }).click();
          await eventually(() => layoutOf(page, 'nav')).toBe('overlay');
          await page.keyboard.type('slides');
          await page.getByTestId('search-result').first().waitFor();
          problems.push(...(await accessibilityProblems(page)).map((p) => `${at}, search open: ${p}`));
          await screenshot(page, `size-${size.width}x${size.height}-${theme}-search`);
          await page.getByTestId('search-result').first().click();
          await eventually(() => layoutOf(page, 'nav')).toBe('avatars');
        }
      }

      // Back to wide: the chat list and the peer panel return as they were.
      await page.setViewportSize(WIDE);
      await eventually(() => layoutOf(page, 'nav')).toBe('full');
      await eventually(() => layoutOf(page, 'aside')).toBe('panel');
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});
