// Where the user stands with the rendezvous server, as they see it: a first run against a server
// that does not answer says so on the server's field and can still go on; the messenger then
// offers Retry and "Change server"; the status bar and the peer panel say "unreachable" within a
// discovery interval of the server going away, and "Online" again once it is back; a server that
// blocks us is "blocked until" a time.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { request, silentPort, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { FAST_TIMERS, eventually, focusedId, screenshot, startAppHost, useSuite } from './harness.ts';

const suite = useSuite({ settings: () => ({ timers: FAST_TIMERS }) });
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
});

async function serveOn(port: number): Promise<TestServer> {
  const server = await startTestServer({ port });
  servers.push(server);
  return server;
}

const reach = (page: Page, testId: 'registration' | 'peer-panel-reach') => page.getByTestId(testId).getAttribute('data-reach');

/** The status bar and the peer panel say the same thing, and it is `kind`. */
async function bothSay(page: Page, kind: string, words: RegExp): Promise<void> {
  await eventually(() => reach(page, 'registration')).toBe(kind);
  await eventually(() => reach(page, 'peer-panel-reach')).toBe(kind);
  expect(await page.getByTestId('registration').textContent()).toMatch(words);
  expect(await page.getByTestId('peer-panel-reach').textContent()).toBe(await page.getByTestId('registration').textContent());
}

describe('reaching the rendezvous server', () => {
  test('a silent server is found before the form is left; the messenger offers Retry and Change server; the status follows the server', async () => {
    const port = await silentPort();
    const page = await suite.open();
    await page.getByLabel('Name', { exact: true }).fill('alice');
    await page.getByLabel('Namespace', { exact: true }).fill('CIC');
    await page.getByRole('radio', { name: /Another server/ }).check();
    const address = page.getByLabel('Server address');
    await address.fill(`127.0.0.1:${port}`);
    await page.getByRole('button', { name: 'Join the network' }).click();

    // On the server's field, in words, with the raw reason folded away; the focus goes there.
    await page.getByText(`The server 127.0.0.1:${port} does not answer. Check the address and your network.`).waitFor();
    expect(await address.getAttribute('aria-invalid')).toBe('true');
    await eventually(() => focusedId(page)).toBe(await address.getAttribute('id'));
    expect(await page.getByText(/ECONNREFUSED/).isVisible()).toBe(false);
    expect(suite.app.service.settings.profile).toBeUndefined();

    // Going on anyway: the messenger says what is wrong and what to do.
    await page.getByRole('button', { name: /^Join anyway/ }).click();
    const banner = page.getByTestId('reach-banner');
    await banner.getByText(/^Server unreachable since/).waitFor();
    await bothSay(page, 'unreachable', /^Server unreachable since \d/);
    await screenshot(page, 'server-unreachable');

    // The server comes up: Retry registers at once.
    await serveOn(port);
    await banner.getByRole('button', { name: 'Retry' }).click();
    await bothSay(page, 'online', /^Online$/);
    expect(await banner.count()).toBe(0);

    // It goes away: within one discovery interval both say so; it comes back: Online again.
    await servers.pop()!.close();
    await bothSay(page, 'unreachable', /^Server unreachable since \d/);
    await serveOn(port);
    await bothSay(page, 'online', /^Online$/);

    // Gone again, and the user picks another server from the messenger.
    await servers.pop()!.close();
    await banner.getByRole('button', { name: 'Change server' }).click();
    const other = await serveOn(0);
    const form = page.getByRole('form', { name: 'Change profile' });
    await form.getByLabel('Server address').fill(`127.0.0.1:${other.port}`);
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('profile-summary').filter({ hasText: `alice@CIC on 127.0.0.1:${other.port}` }).waitFor();
    await bothSay(page, 'online', /^Online$/);
  });

  test('a server that blocks this computer: the form says for how long, and the status until when, in both places', async () => {
    // One connection per window; the test's own two from 127.0.0.1 trip the block for the app too.
    const strict = await startTestServer({ maxRequests: 1, blockMs: 120_000 });
    servers.push(strict);
    await request(strict.port, { type: 'DISCOVER' });
    await request(strict.port, { type: 'DISCOVER' });
    const fresh = await startAppHost(suite.rendererDir, await mkdtemp(join(tmpdir(), 'chatp2p-e2e-blocked-')));
    try {
      const page = await suite.open({}, fresh.host.url);
      await page.getByLabel('Name', { exact: true }).fill('alice');
      await page.getByLabel('Namespace', { exact: true }).fill('CIC');
      await page.getByRole('radio', { name: /Another server/ }).check();
      const address = page.getByLabel('Server address');
      await address.fill(`127.0.0.1:${strict.port}`);
      await page.getByRole('button', { name: 'Join the network' }).click();
      await page.getByText(new RegExp(`^The server 127\\.0\\.0\\.1:${strict.port} refuses this computer for \\d+ s: too many requests\\.`)).waitFor();
      expect(await address.getAttribute('aria-invalid')).toBe('true');

      await page.getByRole('button', { name: /^Join anyway/ }).click();
      await bothSay(page, 'blocked', /^Blocked by the server until \d/);
      const banner = page.getByTestId('reach-banner');
      await banner.getByText('The server limits how often one computer may ask. The app tries again by itself.').waitFor();
      await banner.getByText('Details').click();
      await banner.locator('code').filter({ hasText: /block/i }).waitFor();
    } finally {
      await fresh.stop();
    }
  });
});
