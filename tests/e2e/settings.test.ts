// Settings survive a restart of the host: theme, language, a timer and the profile are saved,
// the open tab reconnects by itself, and a reload goes straight into the app.

import { describe, expect, test } from 'vitest';
import { startEngine, waitFor, type TestEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, SCREENSHOTS, customProfile, eventually, screenshot, startAppHost, useSuite } from './harness.ts';

let bob: TestEngine;

const suite = useSuite({
  settings: (port) => ({ profile: customProfile('alice', 'CIC', port), timers: FAST_TIMERS }),
  before: async ({ rendezvous }) => void (bob = await startEngine(rendezvous.port, 'bob', 'CIC')),
});

describe('settings', () => {
  test('a theme set to light wins over a dark system', async () => {
    await suite.app.service.dispatch('updateSettings', [{ theme: 'light' }]);
    const page = await suite.open({ colorScheme: 'dark' });
    await page.getByTestId('own-peer-id').waitFor();
    expect(await page.locator('html').getAttribute('class')).not.toContain('dark');
    await page.getByRole('button', { name: 'Settings' }).click();
    // The radios follow the saved settings: they change once the host confirms, not on the click.
    await page.getByRole('radio', { name: 'System' }).first().click();
    await eventually(() => page.locator('html').getAttribute('class')).toContain('dark');
  });

  test('theme, language, a timer and the profile survive a restart of the host', async () => {
    await suite.app.service.dispatch('updateSettings', [{ theme: 'system' }]);
    const page = await suite.open();
    await page.getByTestId('peer-bob@CIC').waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    if (SCREENSHOTS) {
      // Tall enough to show every section, shortcuts included.
      await page.setViewportSize({ width: 1280, height: 1900 });
      await page.getByRole('term').filter({ hasText: 'Shift' }).waitFor();
      await screenshot(page, 'settings');
      await page.setViewportSize({ width: 1280, height: 800 });
    }

    const timers = page.getByRole('form', { name: 'Timers' });
    await timers.getByLabel('ACK timeout (s)').fill('3');
    await timers.getByRole('button', { name: 'Save timers' }).click();
    await timers.getByText('Saved').waitFor();

    await page.getByRole('button', { name: 'Change profile' }).click();
    const profile = page.getByRole('form', { name: 'Change profile' });
    await profile.getByLabel('Name', { exact: true }).fill('alicia');
    await profile.getByLabel('TTL (seconds)').fill('600');
    await profile.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('own-peer-id').filter({ hasText: 'alicia@CIC' }).waitFor();
    await waitFor('bob to see alicia', () => bob.peer('alicia@CIC')?.state === 'open', 15_000);

    await page.getByRole('radio', { name: 'Dark' }).click();
    await page.getByRole('radio', { name: 'Português (Brasil)' }).click();
    await page.getByRole('heading', { name: 'Configurações' }).waitFor();
    await eventually(() => page.locator('html').getAttribute('class')).toContain('dark');

    // The host goes away: the tab says so, and comes back by itself when a new host listens.
    const { port } = suite.app.host;
    const token = new URL(suite.app.host.url).searchParams.get('token')!;
    await suite.app.stop();
    await page.getByTestId('disconnected').filter({ hasText: 'Sem conexão com o host do ChatP2P' }).waitFor();
    suite.app = await startAppHost(suite.rendererDir, suite.dataDir, { httpPort: port, token });
    await page.getByTestId('disconnected').waitFor({ state: 'detached', timeout: 15_000 });
    await page.getByTestId('own-peer-id').filter({ hasText: 'Você é alicia@CIC' }).waitFor();

    // A fresh tab goes straight in, with everything as it was left.
    await page.reload();
    await page.getByTestId('own-peer-id').filter({ hasText: 'Você é alicia@CIC' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Boas-vindas ao ChatP2P' }).count()).toBe(0);
    expect(await page.locator('html').getAttribute('class')).toContain('dark');
    await page.getByRole('button', { name: 'Configurações' }).click();
    expect(await page.getByRole('radio', { name: 'Escuro' }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: 'Português (Brasil)' }).isChecked()).toBe(true);
    expect(await page.getByRole('form', { name: 'Temporizadores' }).getByLabel('Espera pelo ACK (s)').inputValue()).toBe('3');
    await page.getByRole('button', { name: 'Trocar perfil' }).click();
    expect(await page.getByLabel('TTL (segundos)').inputValue()).toBe('600');
    expect(suite.app.service.settings).toMatchObject({ theme: 'dark', language: 'pt-BR', timers: { ackTimeoutS: 3 }, profile: { name: 'alicia', ttl: 600 } });
    await page.getByTestId('peer-bob@CIC').getByText('conectado').waitFor();
  });
});
