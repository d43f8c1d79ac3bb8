// chatp2p-secure in the UI, in Chromium: the lock on a sealed peer and "not encrypted" on a plain
// one, the safety number (the same as the peer's own), verify, and the key-change banner whose
// accept lets the held DM go; a plaintext impostor of the pinned peer gets a read-only chat apart.

import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import type { Snapshot } from '../../src-shared/chat-api.ts';
import { strings } from '../../src-renderer/i18n.ts';
import { ScriptedPeer, startEngine, waitFor } from '../helpers/peers.ts';
import { attackerAddress } from '../helpers/hostile.ts';
import { startSecureEngine, stopSecureEngine, stopSecureEngines, type SecureEngine } from '../secure/helpers.ts';
import { accessibilityProblems, bubble, composer, customProfile, eventually, FAST_TIMERS, NOTIFICATION_RECORDER, openMessenger, shownNotifications, useSuite } from './harness.ts';

let bob: SecureEngine;

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  before: async ({ rendezvous }) => {
    bob = await startSecureEngine(rendezvous.port, 'bob');
    // A peer without the extension, as every course client is.
    const carol = await startEngine(rendezvous.port, 'carol', 'CIC');
    await waitFor('bob and carol connected to alice', () => bob.security('alice@CIC') === 'encrypted' && carol.peer('alice@CIC')?.state === 'open');
  },
  after: stopSecureEngines,
});

const open = (): Promise<Page> => openMessenger(suite);

describe('secure sessions in the UI', () => {
  test('a lock on the sealed peer, "not encrypted" on the legacy one', async () => {
    const page = await open();
    const bobBadge = page.getByTestId('peer-bob@CIC').getByTestId('security');
    await eventually(() => bobBadge.getAttribute('data-security')).toBe('encrypted');
    await expect(bobBadge.textContent()).resolves.toBe('Encrypted');
    const carolBadge = page.getByTestId('peer-carol@CIC').getByTestId('security');
    await eventually(() => carolBadge.textContent()).toBe('Not encrypted');
    await page.getByTestId('channel-dm:bob@CIC').click();
    await page.locator('main header').getByTestId('security').filter({ hasText: 'Encrypted' }).waitFor();
  });

  test('the safety number is the one the peer sees, and can be marked verified', async () => {
    const page = await open();
    await page.getByTestId('channel-dm:bob@CIC').click();
    await page.getByRole('button', { name: 'Safety number' }).click();
    const dialog = page.getByRole('dialog', { name: 'Safety number with bob@CIC' });
    const shown = await dialog.getByTestId('safety-number').getAttribute('aria-label');
    expect(shown).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(shown).toBe(bob.engine.keys('alice@CIC')[0]!.safetyNumber);
    await dialog.getByRole('button', { name: 'Mark as verified' }).click();
    await dialog.getByText('You marked this safety number as verified.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Verified' }).waitFor();
  });

  test('a changed key shows the banner and holds the DM until the user accepts the new key', async () => {
    const page = await open();
    await page.getByTestId('channel-dm:bob@CIC').click();
    const port = suite.rendezvous.port;
    await stopSecureEngine(bob);
    bob = await startSecureEngine(port, 'bob');
    const banner = page.getByTestId('key-change-banner');
    await banner.waitFor();
    await expect(banner.textContent()).resolves.toContain('The security key of bob@CIC changed');
    await composer(page).fill('espera a chave nova');
    await composer(page).press('Enter');
    await eventually(() => bubble(page, 'espera a chave nova').getAttribute('data-delivery')).toBe('queued');
    expect(bob.messages).toHaveLength(0);
    await banner.getByRole('button', { name: 'Accept the new key' }).click();
    await eventually(() => bubble(page, 'espera a chave nova').getAttribute('data-delivery')).toBe('delivered');
    await banner.waitFor({ state: 'detached' });
    expect(bob.messages.map((m) => m.text)).toEqual(['espera a chave nova']);
    await page.locator('main header').getByTestId('security').filter({ hasText: 'Encrypted' }).waitFor();
  });

  test('after pinning, a plaintext impostor of bob gets a chat apart, marked unverified and without a composer; bob\'s chat stays clean', async () => {
    const snapshot = async () => ((await suite.app.service.dispatch('getSnapshot', [])) as { value: Snapshot }).value;
    const real = bob.engine.sendDirect('alice@CIC', 'oi, é o bob de verdade');
    await waitFor('bob\'s own DM delivered', () => bob.delivered(real.msgId));
    await stopSecureEngine(bob);
    await eventually(async () => (await snapshot()).peers.find((p) => p.peerId === 'bob@CIC')?.state).not.toBe('open');
    // A page in each language (Portuguese in the dark theme), each recording the Web Notifications it shows.
    const pages = new Map<'en' | 'pt-BR', Page>();
    for (const locale of ['en', 'pt-BR'] as const) {
      const page = await suite.open({ locale, colorScheme: locale === 'en' ? 'light' : 'dark' });
      await page.context().grantPermissions(['notifications']);
      await page.context().addInitScript(NOTIFICATION_RECORDER);
      await page.reload();
      await page.getByTestId('own-peer-id').waitFor();
      pages.set(locale, page);
    }
    const impostor = new ScriptedPeer({ peerId: 'bob@CIC' });
    try {
      const socket = await impostor.dial((await snapshot()).status.listen!.port, 'bob@CIC', attackerAddress(1)(0));
      await impostor.nextFrame((f) => f.type === 'HELLO_OK');
      const acked = impostor.nextFrame((f) => f.type === 'ACK' && f.msg_id === 'fake-e2e');
      impostor.write(socket, { type: 'SEND', msg_id: 'fake-e2e', src: 'bob@CIC', dst: 'alice@CIC', payload: 'sou o bob, manda a senha', require_ack: true, ttl: 1 });
      await acked;

      for (const [locale, page] of pages) {
        const t = strings(locale);
        // Its notification does not pass for bob's.
        await eventually(() => shownNotifications(page)).toEqual([`${t.secure.unverifiedTitle('bob@CIC')}: sou o bob, manda a senha`]);
        const apart = page.getByTestId('channel-dm-unverified:bob@CIC');
        await expect(apart.textContent()).resolves.toContain(t.secure.unverifiedTitle('bob@CIC'));
        await apart.click();
        await expect(page.getByTestId('conversation-title').textContent()).resolves.toBe(locale === 'en' ? 'bob@CIC — unverified' : 'bob@CIC — não verificado');
        await bubble(page, 'manda a senha').waitFor();
        const explanation = await page.getByTestId('unverified-explanation').textContent();
        expect(explanation).toContain(locale === 'en' ? "could not prove bob@CIC's pinned key" : 'não provou ter a chave fixada de bob@CIC');
        await expect(page.getByTestId('no-composer').textContent()).resolves.toBe(t.secure.unverifiedNoReply('bob@CIC'));
        const box = page.getByRole('textbox', { name: t.composerLabel, exact: true });
        expect(await box.count()).toBe(0);
        expect(await accessibilityProblems(page)).toEqual([]);
        if (locale === 'pt-BR') {
          const shown = await page.locator('main').innerText();
          const en = strings('en').secure;
          for (const english of [en.unverifiedTitle('bob@CIC'), en.unverifiedSubtitle, en.unverifiedExplanation('bob@CIC'), en.unverifiedNoReply('bob@CIC'), en.unverifiedMessage]) expect(shown).not.toContain(english);
        }

        // Search finds it, under the chat apart, never under bob's name alone.
        await page.getByRole('searchbox', { name: t.searchLabel }).fill('senha');
        const hit = page.getByRole('region', { name: t.searchResults }).getByTestId('search-result');
        await expect(hit.textContent()).resolves.toContain(t.secure.unverifiedTitle('bob@CIC'));
        await page.getByRole('searchbox', { name: t.searchLabel }).fill('');

        await page.getByTestId('channel-dm:bob@CIC').click();
        await bubble(page, 'oi, é o bob de verdade').waitFor();
        expect(await bubble(page, 'manda a senha').count()).toBe(0);
        await box.waitFor();
      }
    } finally {
      await impostor.close();
    }
  });
});
