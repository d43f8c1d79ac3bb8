// chatp2p-secure in the UI, in Chromium: the lock on a sealed peer and "not encrypted" on a plain
// one, the safety number (the same as the peer's own), verify, and the key-change banner whose
// accept lets the held DM go.

import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startEngine, waitFor } from '../helpers/peers.ts';
import { startSecureEngine, stopSecureEngine, stopSecureEngines, type SecureEngine } from '../secure/helpers.ts';
import { bubble, composer, customProfile, eventually, FAST_TIMERS, openMessenger, useSuite } from './harness.ts';

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
});
