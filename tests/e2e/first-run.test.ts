// First run in the browser: the profile form checks input inline, shows the host's refusal, and
// joins the network; the UI speaks Portuguese to a pt-BR browser.

import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startEngine } from '../helpers/peers.ts';
import { FAST_TIMERS, eventually, focusedId, screenshot, startAppHost, useSuite } from './harness.ts';

// A string: the tests are type-checked without the DOM library.
const focusedLabel = (page: Page) => page.evaluate<string | null>("document.activeElement?.getAttribute('aria-label') ?? null");

const suite = useSuite({
  settings: () => ({ timers: FAST_TIMERS }),
  before: async ({ rendezvous }) => void (await startEngine(rendezvous.port, 'bob', 'CIC')),
});

const open = (locale = 'en-US'): Promise<Page> => suite.open({ locale });

/** A TCP port something else already listens on. */
async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('first run', () => {
  test('a pt-BR browser gets the profile form in Portuguese, errors included', async () => {
    const page = await open('pt-BR');
    await page.getByRole('heading', { name: 'Boas-vindas ao ChatP2P' }).waitFor();
    await page.getByLabel('Nome', { exact: true }).fill('ana maria');
    await page.getByText("Nome não pode ter espaços, '@' nem caracteres de controle.").waitFor();
    expect(await page.getByRole('button', { name: 'Entrar na rede' }).isVisible()).toBe(true);
    expect(await page.locator('html').getAttribute('lang')).toBe('pt-BR');
  });

  test('the form shows bad input inline and the host refusal, then joins the network', async () => {
    const page = await open();
    await page.getByRole('heading', { name: 'Welcome to ChatP2P' }).waitFor();
    await screenshot(page, 'first-run');

    await page.getByLabel('Name', { exact: true }).fill('alice smith');
    await page.getByLabel('Namespace', { exact: true }).fill('CIC');
    await page.getByLabel('Port', { exact: true }).fill('70000');
    await page.getByText("Name cannot contain spaces, '@' or control characters.").waitFor();
    await page.getByText('Enter a whole number from 0 to 65535.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('alice');
    await page.getByRole('radio', { name: /Another server/ }).check();
    await page.getByLabel('Server address').fill(`127.0.0.1:${suite.rendezvous.port}`);
    // Still refused: the port is out of range, so nothing reaches the host; the focus goes to it.
    const port = page.getByLabel('Port', { exact: true });
    await page.getByRole('button', { name: 'Join the network' }).click();
    await eventually(() => focusedId(page)).toBe(await port.getAttribute('id'));
    expect(suite.app.service.settings.profile).toBeUndefined();

    // A port in use is only found out by the host: it says so on the Port field, which takes the focus.
    const busy = await occupiedPort();
    try {
      await port.fill(String(busy.port));
      await page.getByLabel('Name', { exact: true }).focus();
      await page.getByRole('button', { name: 'Join the network' }).click();
      await page.getByText(`Port ${busy.port} is already used by another program. Choose another port, or 0 to pick a free one.`).waitFor();
      expect(await port.getAttribute('aria-invalid')).toBe('true');
      await eventually(() => focusedId(page)).toBe(await port.getAttribute('id'));
      expect(await page.getByText(/already in use|EADDRINUSE/).count()).toBe(0);
      expect(suite.app.service.settings.profile).toBeUndefined();
    } finally {
      busy.server.close();
    }

    await page.getByLabel('Port', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Join the network' }).click();
    await page.getByTestId('own-peer-id').filter({ hasText: 'You are alice@CIC' }).waitFor();
    await page.getByTestId('registration').filter({ hasText: 'Online' }).waitFor();
    expect(suite.app.service.settings.profile).toMatchObject({ name: 'alice', namespace: 'CIC', port: 0, rendezvous: { preset: 'custom', port: suite.rendezvous.port } });
  });

  test('a pt-BR browser gets the messenger in Portuguese', async () => {
    const page = await open('pt-BR');
    await page.getByRole('heading', { name: 'Conversas diretas' }).waitFor();
    await page.getByText('Você é alice@CIC').waitFor();
    await page.getByTestId('registration').filter({ hasText: 'Conectado' }).waitFor();
    await page.getByTestId('peer-bob@CIC').getByText('conectado').waitFor();
    expect(await page.getByPlaceholder('Buscar conversas e peers').isVisible()).toBe(true);
  });
});

describe('keyboard only', () => {
  test('first run, a chat, a message, a search, the shortcuts sheet: no mouse at all', async () => {
    const fresh = await startAppHost(suite.rendererDir, await mkdtemp(join(tmpdir(), 'chatp2p-e2e-keys-')));
    try {
      const page = await suite.open({}, fresh.host.url);
      const keys = page.keyboard;
      await page.getByRole('heading', { name: 'Welcome to ChatP2P' }).waitFor();
      // The Name field has the focus; Tab walks the form, arrows pick the server, Enter joins.
      await keys.type('kim');
      await keys.press('Tab');
      await keys.type('CIC');
      await keys.press('Tab'); // Port
      await keys.press('Tab'); // TTL
      await keys.press('Tab'); // the server choice
      await keys.press('ArrowDown');
      await keys.press('ArrowDown');
      await keys.press('Tab');
      await keys.type(`127.0.0.1:${suite.rendezvous.port}`);
      await keys.press('Enter');
      await page.getByTestId('own-peer-id').filter({ hasText: 'You are kim@CIC' }).waitFor();
      await page.getByTestId('peer-bob@CIC').and(page.locator('[data-state="open"]')).waitFor();

      // The chat list is one Tab stop.
      expect(await page.locator('nav [data-roving][tabindex="0"]').count()).toBe(1);

      // Ctrl+K, the name, Alt+Down opens it; Ctrl+E the composer; Enter sends.
      await keys.press('Control+k');
      await keys.type('bob');
      await keys.press('Alt+ArrowDown');
      await page.getByTestId('conversation-title').filter({ hasText: 'bob@CIC' }).waitFor();
      await keys.press('Control+e');
      await keys.type('Mensagem só pelo teclado');
      await keys.press('Enter');
      await eventually(() => page.getByTestId('message').filter({ hasText: 'Mensagem só pelo teclado' }).getAttribute('data-delivery')).toBe('delivered');

      // Alt+Up/Down from the composer opens another chat and the typing goes on there.
      await keys.press('Control+k');
      await keys.press('Control+a');
      await keys.press('Backspace');
      await keys.press('Control+e');
      await keys.press('Alt+ArrowDown');
      await page.getByTestId('conversation-title').filter({ hasNotText: 'bob@CIC' }).waitFor();
      await keys.type('x');
      expect(await page.getByRole('textbox', { name: 'Message', exact: true }).inputValue()).toBe('x');

      // Ctrl+F, a word, Down to the hit, Enter opens it at the message; Escape leaves the search.
      await keys.press('Control+f');
      await keys.type('teclado');
      await page.getByTestId('search-result').first().waitFor();
      await keys.press('ArrowDown');
      await keys.press('Enter');
      await page.getByTestId('conversation-title').filter({ hasText: 'bob@CIC' }).waitFor();
      await page.locator('[data-testid="message"][data-highlighted]').filter({ hasText: 'Mensagem só pelo teclado' }).waitFor();

      // Ctrl+/ shows the shortcuts; Escape closes the sheet, then Settings, the topmost first.
      await keys.press('Control+/');
      const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await sheet.getByText('Show these shortcuts').waitFor();
      await keys.press('Escape');
      await sheet.waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Settings' }).focus();
      await keys.press('Enter');
      await page.getByRole('main', { name: 'Settings' }).waitFor();
      await keys.press('Escape');
      await page.getByRole('main', { name: 'Settings' }).waitFor({ state: 'detached' });
      await eventually(() => focusedLabel(page)).toBe('Message');
    } finally {
      await fresh.stop();
    }
  });
});
