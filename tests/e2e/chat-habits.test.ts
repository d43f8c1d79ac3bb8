// The conversation as people expect it from other messengers: a draft per chat that survives a
// switch and a restart; a chat opens at its first unread message under "New messages", and
// messages turn read only once they were on screen; day separators and full dates; and the
// message menu: copy, reply with a quote, send a cancelled DM again, delete.

import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import type { Snapshot } from '../../src-shared/chat-api.ts';
import { startEngine, type TestEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, NOTIFICATION_RECORDER, chimes, customProfile, eventually, screenshot, seedHistory, shownNotifications as shown, startAppHost, useSuite } from './harness.ts';

const ME = 'alice@CIC';
const ZOE = 'zoe@CIC';
const YAN = 'yan@CIC';
const READ = 40;
const UNREAD = 60;
let bob: TestEngine;

/** Noon, `days` calendar days ago, in this machine's zone (the browser's too). */
function noonDaysAgo(days: number): number {
  const d = new Date();
  d.setDate(d.getDate() - days);
  d.setHours(12, 0, 0, 0);
  return d.getTime();
}

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  seed: (dataDir) =>
    seedHistory(dataDir, ME, (store) => {
      const start = Date.now() - 3_600_000;
      const zoe = (n: number) => store.addIncoming({ msgId: `zoe-${n}`, kind: 'dm', from: ZOE, to: ME, text: `Zoe ${n}`, receivedAt: start + n * 1000, sentAt: undefined, claimedSrc: undefined });
      for (let n = 1; n <= READ; n++) zoe(n);
      store.markRead(`dm:${ZOE}`);
      for (let n = READ + 1; n <= READ + UNREAD; n++) zoe(n);
      for (const days of [10, 3, 1, 0]) {
        store.addIncoming({ msgId: `yan-${days}`, kind: 'dm', from: YAN, to: ME, text: `Yan, ${days} days ago`, receivedAt: noonDaysAgo(days), sentAt: undefined, claimedSrc: undefined });
      }
      store.markRead(`dm:${YAN}`);
      store.addOutgoing({ seq: 0, msgId: 'cancelled-1', kind: 'dm', to: 'bob@CIC', text: 'Reenviar isto', state: 'cancelled', attempts: 1, createdAt: Date.now() - 60_000, error: undefined, recipients: undefined }, ME);
    }),
  before: async ({ rendezvous }) => {
    bob = await startEngine(rendezvous.port, 'bob', 'CIC');
  },
});

async function open(locale = 'en-US'): Promise<Page> {
  const page = await suite.open({ locale });
  await page.getByTestId('own-peer-id').waitFor();
  return page;
}

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
const bubble = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });
const badge = (page: Page, id: string) => page.getByTestId(`channel-${id}`).getByTestId('unread-badge');
/** The unread count the host keeps for a conversation. */
async function unread(id: string): Promise<number> {
  const reply = await suite.app.service.dispatch('getSnapshot', []);
  if (!reply.ok) throw new Error('no snapshot');
  return (reply.value as Snapshot).conversations.find((c) => c.id === id)?.unread ?? 0;
}

/** Whether the element lies wholly inside the message list's visible area. */
async function onScreen(page: Page, text: string): Promise<boolean> {
  const row = page.getByTestId('message').filter({ has: page.getByText(text, { exact: true }) });
  if ((await row.count()) === 0) return false;
  const list = await page.getByTestId('message-scroller').boundingBox();
  const box = await row.boundingBox();
  return list !== null && box !== null && box.y >= list.y && box.y + box.height <= list.y + list.height;
}

describe('drafts', () => {
  test('a draft survives a chat switch and a restart, shows in the sidebar, and goes once sent', async () => {
    let page = await open();
    await page.getByTestId('channel-dm:bob@CIC').click();
    await composer(page).fill('Meio escrito para o bob');
    await page.getByTestId('channel-*').click();
    const bobChat = page.getByTestId('channel-dm:bob@CIC');
    await bobChat.getByTestId('draft-preview').filter({ hasText: 'Draft: Meio escrito para o bob' }).waitFor();
    await screenshot(page, 'draft');
    await bobChat.click();
    await eventually(() => composer(page).inputValue()).toBe('Meio escrito para o bob');

    // Alt+Down to the next chat keeps it too, and it is in the profile after a restart.
    await composer(page).fill('Escrito antes de reiniciar');
    await composer(page).press('Alt+ArrowDown');
    await eventually(() => page.getByTestId('conversation-title').textContent()).not.toBe('bob@CIC');
    await bobChat.getByTestId('draft-preview').filter({ hasText: 'Escrito antes de reiniciar' }).waitFor();
    await page.context().close();
    await suite.app.stop();
    suite.app = await startAppHost(suite.rendererDir, suite.dataDir);
    page = await open();
    await page.getByTestId('channel-dm:bob@CIC').getByTestId('draft-preview').filter({ hasText: 'Escrito antes de reiniciar' }).waitFor();
    await page.getByTestId('channel-dm:bob@CIC').click();
    await eventually(() => composer(page).inputValue()).toBe('Escrito antes de reiniciar');
    await composer(page).press('Enter');
    await eventually(() => bob.messages.some((m) => m.text === 'Escrito antes de reiniciar')).toBe(true);
    await page.getByTestId('channel-*').click();
    await eventually(async () => ((await suite.app.service.dispatch('getSnapshot', [])) as { value: Snapshot }).value.conversations.filter((c) => c.draft)).toEqual([]);
    expect(await page.getByTestId('channel-dm:bob@CIC').getByTestId('draft-preview').count()).toBe(0);
  });
});

describe('unread', () => {
  test(`a chat with ${UNREAD} unread opens at "New messages"; they turn read only once on screen`, async () => {
    const page = await open();
    const id = `dm:${ZOE}`;
    await badge(page, id).filter({ hasText: String(UNREAD) }).waitFor();
    await page.getByTestId(`channel-${id}`).click();
    const separator = page.getByTestId('unread-separator');
    await separator.waitFor();
    // The separator sits right above the first unread, both on screen; the last one is far below.
    expect(await page.getByRole('listitem').filter({ has: separator }).getByTestId('message').textContent()).toContain(`Zoe ${READ + 1}`);
    await eventually(() => onScreen(page, `Zoe ${READ + 1}`)).toBe(true);
    expect(await onScreen(page, `Zoe ${READ + UNREAD}`)).toBe(false);

    // What was on screen is read; the rest waits.
    await eventually(() => unread(id)).toBeLessThan(UNREAD);
    const left = await unread(id);
    expect(left).toBeGreaterThan(0);
    await badge(page, id).filter({ hasText: String(left) }).waitFor();
    await screenshot(page, 'unread-separator');

    // Scrolling down reads them; "First unread" brings the separator back.
    const scroller = page.getByTestId('message-scroller');
    for (let screens = 0; screens < 50 && !(await onScreen(page, `Zoe ${READ + UNREAD}`)); screens++) {
      await scroller.evaluate((box: { scrollTop: number; clientHeight: number }) => void (box.scrollTop += box.clientHeight));
      // One frame, so the rows for the new place are rendered before looking again.
      await page.evaluate('new Promise(requestAnimationFrame)');
    }
    await eventually(() => unread(id)).toBe(0);
    await badge(page, id).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'First unread' }).click();
    await eventually(() => onScreen(page, `Zoe ${READ + 1}`)).toBe(true);
    await separator.waitFor();
  });

  test('a message arriving while scrolled up stays unread; mark as read and mark all read', async () => {
    const page = await open();
    await page.getByTestId(`channel-dm:${ZOE}`).click();
    await bubble(page, `Zoe ${READ + UNREAD}`).waitFor();
    await page.getByTestId('message-scroller').evaluate((box: { scrollTop: number }) => void (box.scrollTop = 0));
    await eventually(() => onScreen(page, `Zoe ${READ + UNREAD}`)).toBe(false);
    const zoe = await startEngine(suite.rendezvous.port, 'zoe', 'CIC');
    await eventually(() => zoe.peer(ME)?.state).toBe('open');
    zoe.engine.sendDirect(ME, 'Zoe, mais tarde');
    await page.getByRole('button', { name: 'New messages' }).waitFor();
    await eventually(() => unread(`dm:${ZOE}`)).toBe(1);
    await page.getByRole('button', { name: 'Mark as read' }).click();
    await eventually(() => unread(`dm:${ZOE}`)).toBe(0);

    bob.engine.sendDirect(ME, 'Bob, não lida');
    zoe.engine.sendDirect(ME, 'Zoe, não lida');
    await badge(page, 'dm:bob@CIC').waitFor();
    await page.getByRole('button', { name: 'Mark all chats as read' }).click();
    await badge(page, 'dm:bob@CIC').waitFor({ state: 'detached' });
    await eventually(() => Promise.all([unread('dm:bob@CIC'), unread(`dm:${ZOE}`)])).toEqual([0, 0]);
  });
});

describe('dates', () => {
  for (const [locale, words] of [
    ['en-US', ['Yesterday', 'Today']],
    ['pt-BR', ['Ontem', 'Hoje']],
  ] as const) {
    test(`day separators and full dates on hover, in ${locale}`, async () => {
      const page = await open(locale);
      await page.getByTestId(`channel-dm:${YAN}`).click();
      const separators = page.getByTestId('day-separator');
      await eventually(() => separators.count()).toBe(4);
      const capital = (s: string) => s.charAt(0).toLocaleUpperCase(locale) + s.slice(1);
      const lang = locale === 'en-US' ? 'en' : 'pt-BR';
      expect(await separators.allTextContents()).toEqual([
        capital(new Date(noonDaysAgo(10)).toLocaleDateString(lang, { dateStyle: 'full' })),
        capital(new Date(noonDaysAgo(3)).toLocaleDateString(lang, { weekday: 'long' })),
        ...words,
      ]);
      const time = bubble(page, 'Yan, 10 days ago').locator('time');
      expect(await time.getAttribute('title')).toBe(new Date(noonDaysAgo(10)).toLocaleString(lang, { dateStyle: 'full', timeStyle: 'medium' }));
      if (locale === 'en-US') await screenshot(page, 'day-separators');
    });
  }
});

describe('message actions', () => {
  test('copy, reply with a quote, send a cancelled DM again, and delete, by mouse and keyboard', async () => {
    const page = await open();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByTestId('channel-dm:bob@CIC').click();
    bob.engine.sendDirect(ME, 'Pergunta do bob?\ncom uma segunda linha');
    // By its second line: a reply quotes only the first.
    const question = bubble(page, 'com uma segunda linha');
    await question.waitFor();

    await question.getByTestId('message-actions').click();
    await screenshot(page, 'message-actions');
    await page.getByRole('menuitem', { name: 'Copy text' }).click();
    await question.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe('Pergunta do bob?\ncom uma segunda linha');

    // Keyboard: the menu button takes the focus, Enter opens it, arrows move, Enter picks.
    await question.getByTestId('message-actions').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByTestId('reply-bar').filter({ hasText: 'Replying to bob@CIC' }).waitFor();
    await composer(page).fill('A resposta');
    await composer(page).press('Enter');
    await eventually(() => bob.messages.at(-1)?.text).toBe('> bob@CIC: Pergunta do bob?\nA resposta');
    await page.getByTestId('reply-bar').waitFor({ state: 'detached' });

    // A www. address is a link too, to https.
    bob.engine.sendDirect(ME, 'Veja www.example.org/doc.');
    const link = bubble(page, 'Veja').getByRole('link', { name: 'www.example.org/doc' });
    expect(await link.getAttribute('href')).toBe('https://www.example.org/doc');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');

    // The cancelled DM goes again, once, and takes the old one's place.
    const cancelled = bubble(page, 'Reenviar isto');
    await cancelled.getByTestId('message-actions').click();
    await page.getByRole('menuitem', { name: 'Send again' }).click();
    await eventually(() => bob.messages.filter((m) => m.text === 'Reenviar isto').length).toBe(1);
    await cancelled.getByTestId('delivery').filter({ hasText: 'Delivered' }).waitFor();
    expect(await cancelled.count()).toBe(1);

    // Escape closes the menu without acting; Delete removes the message here and after a reload.
    await question.getByTestId('message-actions').click();
    await page.getByRole('menu').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    await question.getByTestId('message-actions').click();
    await page.getByRole('menuitem', { name: 'Delete from my history' }).click();
    await question.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByTestId('channel-dm:bob@CIC').click();
    await bubble(page, 'A resposta').waitFor();
    expect(await bubble(page, 'com uma segunda linha').count()).toBe(0);
  });
});

describe('notifications in the browser host', () => {
  test('a DM notifies, a muted chat and do-not-disturb do not, the sound plays when on, a click opens the chat', async () => {
    const page = await open();
    await page.context().grantPermissions(['notifications']);
    await page.context().addInitScript(NOTIFICATION_RECORDER);
    await page.reload();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByText('This browser shows ChatP2P notifications.').waitFor();
    await page.getByRole('button', { name: 'Back to chats' }).click();

    const bobChat = page.getByTestId('channel-dm:bob@CIC');
    const arrived = (text: string) => bobChat.filter({ hasText: text }).waitFor();
    await page.getByTestId('channel-*').click();
    bob.engine.sendDirect(ME, 'Primeira notificação');
    await eventually(() => shown(page)).toEqual(['bob@CIC: Primeira notificação']);

    // Muted for an hour: the message arrives, silently.
    await bobChat.click();
    await page.getByTestId('mute-menu').click();
    await page.getByRole('menuitem', { name: 'Mute for 1 hour' }).click();
    await page.getByRole('button', { name: /^Muted until / }).waitFor();
    await page.getByTestId('channel-*').click();
    bob.engine.sendDirect(ME, 'Enquanto silenciada');
    await arrived('Enquanto silenciada');
    expect(await shown(page)).toHaveLength(1);

    // Unmuted, but do-not-disturb is on.
    await bobChat.click();
    await page.getByTestId('mute-menu').click();
    await page.getByRole('menuitem', { name: 'Unmute', exact: true }).click();
    await page.getByRole('button', { name: 'Mute notifications' }).waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    // The switches follow the saved settings: each turns once the host has saved it.
    const dnd = page.getByRole('switch', { name: /^Do not disturb/ });
    await dnd.click();
    await eventually(() => dnd.isChecked()).toBe(true);
    const sound = page.getByRole('switch', { name: 'Play a sound with notifications' });
    await sound.click();
    await eventually(() => sound.isChecked()).toBe(true);
    await eventually(() => suite.app.service.settings.doNotDisturb && suite.app.service.settings.sound).toBe(true);
    bob.engine.sendDirect(ME, 'Sem perturbar');
    await arrived('Sem perturbar');
    expect(await shown(page)).toHaveLength(1);
    expect(await chimes(page)).toBe(0);

    await dnd.click();
    await eventually(() => suite.app.service.settings.doNotDisturb).toBe(false);
    bob.engine.sendDirect(ME, 'Com som');
    await eventually(() => shown(page)).toEqual(['bob@CIC: Primeira notificação', 'bob@CIC: Com som']);
    expect(await chimes(page)).toBe(1);
    await page.evaluate('window.__shown.at(-1).onclick()');
    await eventually(() => page.getByTestId('conversation-title').textContent()).toBe('bob@CIC');
  });
});

describe('emoji', () => {
  for (const [locale, search, label] of [
    ['en-US', 'smiling eyes', 'Grinning face with smiling eyes'],
    ['pt-BR', 'olhos sorridentes', 'Rosto risonho com olhos sorridentes'],
  ] as const) {
    test(`the picker loads on first use, finds by name in ${locale}, and :shortcodes: become emoji`, async () => {
      const page = await open(locale);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.getByTestId('channel-dm:bob@CIC').click();
      const box = page.getByRole('textbox', { name: locale === 'en-US' ? 'Message' : 'Mensagem', exact: true });
      await box.fill('Oi ');
      expect(requests.filter((u) => /EmojiPicker-[\w-]+\.js$/.test(u))).toEqual([]);

      await page.getByRole('button', { name: 'Emoji', exact: true }).click();
      await page.getByTestId('emoji-picker').getByRole('searchbox', { name: locale === 'en-US' ? 'Search emoji' : 'Buscar emoji' }).fill(search);
      await page.getByTestId('emoji-picker').getByRole('gridcell', { name: label, exact: true }).click();
      await page.getByTestId('emoji-picker').waitFor({ state: 'detached' });
      expect(requests.filter((u) => /EmojiPicker-[\w-]+\.js$/.test(u))).toHaveLength(1);
      // The emoji font is the app's own, loaded from its files (Linux often has none).
      await eventually(() =>
        page.evaluate<boolean>(
          `[...document.fonts].some((f) => f.family.includes('Noto Emoji') && f.status === 'loaded') &&
           performance.getEntriesByType('resource').some((e) => e.name.startsWith(location.origin) && /noto-emoji-.*\\.woff2$/.test(e.name))`,
        ),
      ).toBe(true);

      await box.pressSequentially(' :+1:');
      // 👍 as emoji data writes it: with the emoji presentation selector.
      await eventually(() => box.inputValue()).toBe('Oi 😄 \u{1F44D}\uFE0F');
      await box.press('Enter');
      await eventually(() => bob.messages.at(-1)?.text).toBe('Oi 😄 \u{1F44D}\uFE0F');
      if (locale === 'en-US') {
        await page.getByRole('button', { name: 'Emoji', exact: true }).click();
        await page.getByTestId('emoji-picker').getByRole('gridcell', { name: 'Grinning face', exact: true }).waitFor();
        // Each emoji font file loads when its first character shows: all of those on screen, first.
        await page.evaluate(`document.fonts.load('20px "Noto Emoji"', [...document.querySelectorAll('[frimousse-emoji]')].map((b) => b.textContent).join(''))`);
        await screenshot(page, 'emoji-picker');
        await page.keyboard.press('Escape');
        await page.getByTestId('emoji-picker').waitFor({ state: 'detached' });
      }
    });
  }
});
